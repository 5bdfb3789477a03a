"""`watch --venue futures|all`: the futures account polled in its own thread, printed as venue-tagged lines."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.futures_alerts import FuturesAlertTracker
from kraken_monitor.exchange.errors import AuthFailed, ExchangeError
from kraken_monitor.exchange.futures_base import FuturesExchange
from kraken_monitor.exchange.text import printable
from kraken_monitor.text.alerts import alert_message
from kraken_monitor.text.futures import futures_stale_message
from kraken_monitor.worker.cycle import utc_now
from kraken_monitor.worker.freshness import Activity
from kraken_monitor.worker.futures_live import FuturesFeed, futures_feed_for
from kraken_monitor.worker.futures_paper_keeper import PaperFuturesKeeper
from kraken_monitor.worker.futures_snapshot import read_futures_book
from kraken_monitor.worker.futures_watchdog import FuturesWatchdog, futures_stale_alert
from kraken_monitor.worker.requests import ChangeLeverage, TransferToFlex
from kraken_monitor.worker.serialize import (
    futures_alert_to_json,
    futures_freshness_to_json,
    futures_watch_to_json,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeverageOutcome:
    """What became of a leverage change the window asked for: Kraken's answer, in its words when refused."""

    pair: str
    leverage: Decimal | None
    ok: bool
    message: str


@dataclass(frozen=True)
class TransferOutcome:
    """What became of a collateral transfer into the flex account: Kraken's answer, in its words when refused."""

    amount: Decimal
    currency: str
    ok: bool
    message: str


@dataclass(frozen=True)
class FuturesNotice:
    """Something the trader should know that is not a read (e.g. the saved paper account could not be restored)."""

    message: str


FuturesRequest = ChangeLeverage | TransferToFlex


class ResultQueue(queue.Queue):
    """The poller's results; `listener` (any thread may set it once) is called after each put, in the poll thread,
    so the window can drain on a queued signal instead of polling the queue 5 times a second (issue 17.7)."""

    listener: Callable[[], None] | None = None

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        listener = self.listener
        if listener is not None:
            listener()


def _what(request: FuturesRequest) -> str:
    if isinstance(request, TransferToFlex):
        return "a collateral transfer"
    return "a leverage change" if hasattr(request, "leverage") else "an order"


def _outcome(request: FuturesRequest, ok: bool, message: str) -> LeverageOutcome | TransferOutcome:
    if isinstance(request, TransferToFlex):
        return TransferOutcome(request.amount, request.currency, ok, message)
    # Order records (issue 16) carry no leverage; their outcome travels the same way.
    return LeverageOutcome(getattr(request, "pair", ""), getattr(request, "leverage", None), ok, message)


class FuturesPoller:
    """Reads the futures book every `interval_s` in a daemon thread that creates and alone uses the exchange.

    Results (a FuturesBook, stale with the reason when a read failed) queue up for the printing thread.
    """

    def __init__(self, config: MonitorConfig, interval_s: float,
                 factory: Callable[[], FuturesExchange] | None = None, feed: FuturesFeed | None = None) -> None:
        self._config, self._interval = config, interval_s
        # The futures WebSocket (`--prices stream`): Kraken's liquidation thresholds and pushed marks. Made in
        # the poll thread when not given (it reads the keyring), never for a test's own factory.
        self._feed, self._auto_feed = feed, feed is None and factory is None
        self.mode = str(config.mode)
        self._factory = factory
        # FuturesBook | AuthFailed | LeverageOutcome | TransferOutcome | FuturesNotice
        self.results: ResultQueue = ResultQueue()
        self._requests: queue.Queue[FuturesRequest] = queue.Queue()
        self._stop = threading.Event()
        # Set by a request, a push (the feed's store) or stop(): the poll thread sleeps on it between reads.
        self._wake = threading.Event()
        # What the thread waits for, read by the watchdog in the GUI / `watch` thread (worker/futures_watchdog.py).
        self.activity = Activity()
        self._thread = threading.Thread(target=self._run, name="futures-poll", daemon=True)

    def start(self) -> FuturesPoller:
        self._thread.start()
        return self

    def handle(self, request: FuturesRequest) -> None:
        """The one way in for the trader's actions (worker/requests.py records), like PollWorker.handle: queued
        for the poll thread, which alone uses the exchange; the outcome joins `results`."""
        self._requests.put(request)
        self._wake.set()

    def is_alive(self) -> bool:
        """False once the thread ended (stopped, or an authentication failure said so already)."""
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Ask the thread to end and wait up to `timeout_s`. A thread stuck in a request is abandoned, never
        killed: it is a daemon, holds nothing the process needs to flush, and ends when its call returns."""
        self._stop.set()
        self._wake.set()
        if self._feed is not None:
            self._feed.stop()
        if self._thread.ident is None:
            return True  # never started
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error("futures poll thread still busy (%s); abandoning it", self.activity.current()[0])
            return False
        return True

    def _make(self) -> FuturesExchange:
        if self._factory is not None:
            return self._factory()
        from kraken_monitor.exchange.futures_factory import create_futures_exchange

        config = self._config
        return create_futures_exchange(config.mode, config.api_url, demo_seed=config.demo_seed,
                                       demo_speed=config.demo_speed)

    def _run(self) -> None:
        exchange = paper = None
        keeper = PaperFuturesKeeper(self._config) if PaperFuturesKeeper.wanted(self._config) else None
        try:
            with self.activity.doing("the futures exchange to open (ccxt, instruments)"):
                exchange = paper = self._make()  # `paper`: the simulated account itself, never the feed's wrapper
            if keeper is not None:
                with self.activity.doing("the saved paper futures account"):
                    keeper.restore(paper)
                if keeper.problem:
                    self.results.put(FuturesNotice(keeper.problem))
            if self._auto_feed and not self._stop.is_set():
                with self.activity.doing("the futures WebSocket feed to start"):
                    self._feed = futures_feed_for(self._config, self._interval, paper)  # demo: its market
            if self._feed is not None:
                exchange = self._feed.wrap(exchange)
                self._feed.wake_on_push(self._wake.set)
            contracts: dict = {}
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    with self.activity.doing("Kraken Futures' account, positions and marks"):
                        book = read_futures_book(exchange, self._config.thresholds, utc_now(), contracts)
                    # Margin schedules change rarely: re-read them when a position's contract is unknown.
                    contracts = book.contracts if not book.stale else {}
                    self.results.put(self._feed.tag(book) if self._feed is not None else book)
                    if keeper is not None:
                        keeper.tick(paper)
                except AuthFailed as exc:
                    self.results.put(exc)
                    return
                except ExchangeError as exc:
                    self.results.put(FuturesBook(str(exchange.mode), utc_now(), None, (), True, str(exc)))
                exchange.advance(self._interval)
                if self._wait_or_act(exchange, started) and keeper is not None:
                    keeper.save(paper)  # money moved: do not wait for the periodic save
        except AuthFailed as exc:
            self.results.put(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must still read as "risk unknown", not as silence
            log.error("futures poll failed: %s: %s", type(exc).__name__, exc, exc_info=True)
            self.results.put(FuturesBook(str(self._config.mode), utc_now(), None, (), True,
                                         f"futures poll failed ({type(exc).__name__})"))
        finally:
            if self._feed is not None:
                self._feed.stop()  # also when stop() came before the feed was made
            if exchange is not None:
                try:
                    if keeper is not None:
                        keeper.close(paper)  # the last state, in this thread, before the exchange goes
                finally:
                    exchange.close()

    def _wait_or_act(self, exchange: FuturesExchange, started: float) -> bool:
        """Sleep until the next read (woken by a request, a push or stop), unless the window asks for a change:
        then act and read again at once. True when an action succeeded (money may have moved)."""
        feed = self._feed
        while not self._stop.is_set():
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                if feed is not None and feed.take_push_read():
                    return False  # demo: the pushed step is read through the paper venue now
                if feed is not None and (pushed := feed.pushed_book(self._config.thresholds, utc_now())):
                    self.results.put(pushed)  # marks or thresholds pushed between REST reads
                remaining = started + (feed.read_every_s() if feed is not None else self._interval) - time.monotonic()
                if remaining <= 0:
                    return False
                due = feed.due_in_s() if feed is not None else None
                self._wake.wait(remaining if due is None else min(remaining, due))
                self._wake.clear()  # then everything is looked at again: a wake-up set after this is not lost
                continue
            try:
                with self.activity.doing("Kraken Futures' answer to " + _what(request)):
                    result = request.apply(exchange, utc_now())  # the futures exchange is this poller's "Poller"
                self.results.put(_outcome(request, True, result.description))
            except ExchangeError as exc:
                self.results.put(_outcome(request, False, str(exc)))
                return False
            return True
        return False


class FuturesLinePrinter:
    """Turns books into lines: stale/fresh transitions, a snapshot heartbeat (JSON), alerts when a level rises.

    Owned by the printing thread. `notifications` (notify.service.AlertNotifications, the spot alerts' own
    when both venues are watched) receives every alert it prints and a 'risk unknown' alert when the data
    goes stale; `watchdog` (worker/futures_watchdog.py) is fed every book, and `check_watchdog()` prints the
    stale line a stuck poll thread cannot.
    """

    def __init__(self, as_json: bool, out: TextIO, account_label: str = "futures", *,
                 notifications: Any = None, watchdog: FuturesWatchdog | None = None) -> None:
        self._json, self._out = as_json, out
        self._stale: bool | None = None
        self._account = account_label
        self._alerts = FuturesAlertTracker(account_label)
        self.notifications, self.watchdog = notifications, watchdog
        self.auth_error = ""

    def _line(self, obj: dict[str, Any], text: str) -> None:
        self._out.write((json.dumps(obj) if self._json else printable(text)) + "\n")
        self._out.flush()

    def pump(self, results: queue.Queue) -> bool:
        """Print everything queued; False once the poller stopped on an authentication failure."""
        while True:
            try:
                item = results.get_nowait()
            except queue.Empty:
                return not self.auth_error
            if isinstance(item, AuthFailed):
                self.auth_error = str(item)
                self._out.flush()
                import sys

                sys.stderr.write(f"kraken-monitor: futures authentication failed: {item}\n")
                return False
            if isinstance(item, FuturesBook):
                self.on_book(item)

    def on_book(self, book: FuturesBook) -> None:
        if self.watchdog is not None:
            self.watchdog.saw_snapshot(book)
        self._show(book)

    def check_watchdog(self) -> None:
        """No book within the stale window: the stale line (and the 'risk unknown' notification) once."""
        if self.watchdog is None:
            return
        reason, started = self.watchdog.check()
        if started and reason is not None:
            self._show(self.watchdog.unknown_book(reason, utc_now()))

    def _show(self, book: FuturesBook) -> None:
        if book.stale != bool(self._stale) or (book.stale and self._stale is None):
            self._stale = book.stale
            text = futures_stale_message(book.stale_reason) if book.stale else "futures data fresh again"
            self._line(futures_freshness_to_json(book), f"{book.as_of:%H:%M:%S} FUTURES {text}")
            if book.stale and self.notifications is not None:
                self.notifications.fired((futures_stale_alert(book.stale_reason, self._account, book.as_of),))
        if self._json:
            self._line(futures_watch_to_json(book), "")
        rows = {pf.position.id: pf for pf in book.positions}
        fired = self._alerts.update(book)
        for alert in fired:
            message = alert_message(alert)
            self._line(futures_alert_to_json(book, rows.get(alert.position_id or ""), alert.level, message),
                       f"{book.as_of:%H:%M:%S} FUTURES {alert.level.label.upper()}: {message}")
        if fired and self.notifications is not None:
            self.notifications.fired(fired)  # the same path as the spot alerts: routing, channels, retries

    def on_delivered(self, status: Any) -> None:
        """A notification's final delivery result (`watch --venue futures` prints them itself)."""
        if not status.final:
            return
        self._line({"type": "notify", "venue": "futures", "ts": status.at.isoformat(), "channel": status.label,
                    "ok": status.ok, "attempts": status.attempts, "reason": status.reason or None},
                   f"{status.at.astimezone():%H:%M:%S} NOTIFY: {status.text().split(' ', 1)[1]}")


def run_futures_watch(config: MonitorConfig, duration_s: float | None, as_json: bool, out: TextIO,
                      interval_s: float, notify_urls: tuple[str, ...] = ()) -> int:
    """`watch --venue futures`: no Qt; Ctrl-C or the duration ends it; exit 2 after an auth failure.

    Alerts go to each `notify_urls` channel through notify.service (as `watch`'s spot alerts do); delivery
    results come back in the delivery thread and are printed from this one.
    """
    from kraken_monitor.worker.futures_watchdog import futures_watchdog_windows

    poller = FuturesPoller(config, interval_s).start()
    window_s, startup_s = futures_watchdog_windows(config, interval_s)
    watchdog = FuturesWatchdog(window_s, startup_s, poller.activity, str(config.mode))
    delivered: queue.Queue = queue.Queue()
    notifications = futures_notifications(notify_urls, delivered.put)
    printer = FuturesLinePrinter(as_json, out, f"futures {config.mode}", notifications=notifications,
                                 watchdog=watchdog)
    end = time.monotonic() + duration_s if duration_s is not None else None

    def print_delivered() -> None:
        while not delivered.empty():
            printer.on_delivered(delivered.get_nowait())

    try:
        while end is None or time.monotonic() < end:
            if not printer.pump(poller.results):
                break
            printer.check_watchdog()
            print_delivered()
            time.sleep(0.1)
        printer.pump(poller.results)
    except KeyboardInterrupt:
        pass
    finally:
        poller.stop()  # a stuck read is abandoned (a daemon thread), never destroyed
        if notifications is not None:
            from kraken_monitor.worker.headless import NOTIFY_DRAIN_S

            notifications.notifier.wait_idle(NOTIFY_DRAIN_S)  # what fired last still goes out
            notifications.stop()
            print_delivered()
    return 2 if printer.auth_error else 0


def futures_notifications(urls: tuple[str, ...], on_status: Callable[[Any], None]) -> Any:
    """The command line's channels for the futures alerts (default routing, URLs in memory only), or None."""
    if not urls:
        return None
    from kraken_monitor.notify.service import AlertNotifications
    from kraken_monitor.worker.headless import cli_destinations

    return AlertNotifications(cli_destinations(urls), at_desk=False, on_status=on_status)
