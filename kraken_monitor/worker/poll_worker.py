"""The Qt poll worker: timers, backoff and signals around one `Poller`, living in its own QThread.

Threading contract: `PollWorker` is created without a parent in the GUI thread, moved to a QThread,
and from `start()` on runs ONLY in that thread (exchange, journal, timers are created there). It
never touches a widget; it emits frozen domain objects. Every slot catches everything: the thread
must never die, and users only ever see typed errors' messages, never a traceback.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.errors import AuthFailed, BadResponse, ExchangeError, RateLimited
from kraken_monitor.text.stream import price_feed_text
from kraken_monitor.worker.auth_recovery import AuthRecovery
from kraken_monitor.worker.backoff import Backoff
from kraken_monitor.worker.cycle import Poller, utc_now
from kraken_monitor.worker.freshness import Activity
from kraken_monitor.worker.opening import (
    ExchangeFactory,
    JournalFactory,
    create_exchange,
    open_journal,
    open_poller,
)
from kraken_monitor.worker.request_handlers import RequestHandlers, error_message
from kraken_monitor.worker.requests import (
    AlertRequest,
    DataRequest,
    JournalRequest,
    OrderRequest,
    RefreshNow,
    Request,
)

log = logging.getLogger(__name__)

# This app session: alerts journalled since then already fired here, so a worker restarted with new
# settings is seeded with them instead of firing them again (the poll thread imports this at start-up).
SESSION_STARTED = utc_now()

# Public price reads are cheap and are what turns the screen fresh again: after an outage the next try
# is never more than this far away (the account channel keeps the configured, longer cap).
PRICE_BACKOFF_CAP_S = 5.0

# Failed reads of one kind the start-up grace forgives (a first hiccup); one more ends it (worker stale).
START_FAILURES_TOLERATED = 1


class PollWorker(RequestHandlers, AuthRecovery, QObject):
    """Runs in the worker thread; emits only. Slots are invoked queued from the UI thread."""

    snapshot_ready = Signal(object)  # Snapshot
    alerts_fired = Signal(object)  # tuple[Alert, ...] fired this cycle, each with its journal id
    alerts_changed = Signal(object)  # tuple[Alert, ...] acknowledged / snoozed: every view updates at once
    history_ready = Signal(object)  # {pair: (ts, prices), "margin": (ts, levels)} float64 arrays
    action_finished = Signal(object, object)  # the Request handled, its result (OrderResult; Alert | None)
    action_failed = Signal(object, str)  # the Request, what went wrong (a typed error's message)
    auth_failed = Signal(str)
    status_changed = Signal(str)
    capabilities_ready = Signal(object)  # exchange.base.Capabilities of the venue in use
    recent_alerts_ready = Signal(object)  # tuple[Alert, ...] from the journal, newest first
    price_feed_changed = Signal(str)  # which price feed is live (text/stream.py); streaming: worker/stream_worker.py
    journal_status = Signal(str)  # "" = recording; else "not recording: <reason>" (persistent until it recovers)

    def __init__(
        self,
        config: MonitorConfig,
        exchange_factory: ExchangeFactory = create_exchange,
        journal_factory: JournalFactory = open_journal,
    ):
        super().__init__(None)
        self.config = config
        # Called in the poll thread: (config, paper_state) -> Exchange and (config) -> Journal.
        self.exchange_factory = exchange_factory
        self.journal_factory = journal_factory
        self.poller: Poller | None = None
        self._price_timer: QTimer | None = None
        self._account_timer: QTimer | None = None
        self._price_backoff = Backoff(config.price_interval_s, min(config.backoff_cap_s, PRICE_BACKOFF_CAP_S))
        self._account_backoff = Backoff(config.effective_account_interval_s(), config.backoff_cap_s)
        self._auth_failed = False
        self._stopped = False
        self._status = ""
        self._started_mono = 0.0
        self._account_rate_limited = False  # last account failure was a rate limit: no immediate retry
        # What the poll thread is doing; the watchdog in the GUI / `watch` thread reads it (thread-safe).
        self.activity = Activity()
        self._stop_event = threading.Event()  # set from any thread by request_stop()
        self._journal_problem: str | None = None  # None = not reported yet

    # -- construction (worker thread) --------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Create journal, exchange and timers in this thread, emit history, poll once at once."""
        try:
            opened = open_poller(
                self.config,
                exchange_factory=self.exchange_factory,
                journal_factory=self.journal_factory,
                activity=self.activity,
                journal_failed=lambda exc: self._set_journal_problem(error_message(exc)),
            )
        except AuthFailed as exc:
            self._on_auth_failed(str(exc))
            return
        except Exception as exc:
            log.error("cannot create exchange: %s: %s", type(exc).__name__, exc)
            self._set_status(f"cannot start: {error_message(exc)}")
            return
        self.poller = opened.poller
        exchange = self.poller.exchange
        self._started_mono = time.monotonic()
        self._emit_capabilities(exchange)
        self._emit_history()
        self._emit_recent_alerts()
        self._price_timer = self._make_timer(self.config.price_interval_s, self._on_price_tick)
        self._account_timer = self._make_timer(self.config.effective_account_interval_s(), self._on_account_tick)
        self._set_status("connecting")
        self._account_cycle()
        self._price_cycle()
        self._publish()
        self.price_feed_changed.emit(price_feed_text(None, "", self.config.price_interval_s))
        self._on_started()

    def _on_started(self) -> None:
        """Hook for subclasses (the streaming worker), in this thread. Overriding a @Slot in a subclass makes
        PySide6 6.11 run it in the thread of the signal's sender (the GUI thread): extend these hooks instead."""

    def _on_stopping(self) -> None:
        """Hook for subclasses: the first thing `stop` does, in this thread."""

    def _make_timer(self, interval_s: float, slot) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(max(1, int(interval_s * 1000)))
        timer.timeout.connect(slot)
        timer.start()
        return timer

    def _emit_capabilities(self, exchange: Any) -> None:
        try:
            self.capabilities_ready.emit(exchange.capabilities())
        except Exception as exc:  # the UI then falls back to what the mode usually supports
            log.error("capabilities unavailable: %s: %s", type(exc).__name__, exc)

    def _emit_recent_alerts(self) -> None:
        """The alert log survives restarts: what fired (and what the trader did) is reloaded, and the
        engine is seeded with it: a snooze still runs, and what fired in this app session (a settings
        restart) does not fire again. A fresh start still alerts for a danger that is there."""
        if self.poller is None or self.poller.journal is None:
            return
        try:
            recent = self.poller.restore_alerts(self._now(), SESSION_STARTED)
        except Exception as exc:
            log.error("recent alerts load failed: %s: %s", type(exc).__name__, exc)
            return
        if recent:
            self.recent_alerts_ready.emit(recent)

    def _emit_history(self) -> None:
        """Chart history for every pair the journal knows, as float64 arrays (floats only for charts)."""
        journal = self.poller.journal if self.poller else None
        if journal is None:
            return
        try:
            since = utc_now() - timedelta(hours=self.config.history_hours)
            history: dict[str, Any] = {pair: journal.price_history(pair, since) for pair in journal.known_pairs()}
            history["margin"] = journal.margin_history(since, mode=self.config.mode.value)
        except Exception as exc:
            log.error("history load failed: %s: %s", type(exc).__name__, exc)
            return
        self.history_ready.emit(history)

    # -- cycles ------------------------------------------------------------------------------

    @Slot()
    def _on_price_tick(self) -> None:
        self._price_cycle()
        self._publish()

    @Slot()
    def _on_account_tick(self) -> None:
        self._account_cycle()
        self._publish()

    @Slot()
    def poll_now(self) -> None:
        """One immediate account + price read and snapshot (F5, 'refresh'); after an auth failure, reconnect."""
        if self._auth_failed:
            self.reconnect()
            return
        if self.poller is None:
            return
        self._price_backoff.succeeded()
        self._account_backoff.succeeded()
        self._account_cycle()
        self._price_cycle()
        self._publish()

    def _price_cycle(self) -> None:
        ok = self._read(self._price_backoff, lambda now: self.poller.poll_prices(now))
        if ok and self._account_backoff.failures and not self._account_rate_limited:
            # Prices are back, so the exchange is: retry the account now, not at the end of its backoff.
            self._account_backoff.succeeded()
            self._account_cycle()

    def _account_cycle(self) -> None:
        self._read(self._account_backoff, lambda now: self.poller.poll_account(now))
        if self._account_backoff.failures == 0:
            self._account_rate_limited = False

    def _read(self, backoff: Backoff, read) -> bool:
        """One read on one channel unless it is backing off; True when it succeeded."""
        if self.poller is None or self._auth_failed or self._stopped or self._stop_event.is_set():
            return False
        mono = time.monotonic()
        if backoff.waiting(mono):
            return False
        try:
            read(self._now())
        except AuthFailed as exc:
            self._on_auth_failed(str(exc))
            return False
        except RateLimited as exc:
            if backoff is self._account_backoff:
                self._account_rate_limited = True
            self._failed(backoff, mono, exc, retry_after=exc.retry_after)
            return False
        except BadResponse as exc:
            # Malformed payloads are usually transient (truncated body); retry, but say so.
            log.warning("bad response from exchange: %s", exc)
            self._failed(backoff, mono, exc)
            return False
        except ExchangeError as exc:
            self._failed(backoff, mono, exc)
            return False
        except Exception as exc:  # never let the thread die; count it as a failed cycle
            log.error("unexpected error in poll cycle: %s: %s", type(exc).__name__, exc, exc_info=True)
            self._failed(backoff, mono, exc)
            return False
        backoff.succeeded()
        if self._price_backoff.failures == 0 and self._account_backoff.failures == 0:
            self.poller.connection = "ok"
            self._set_status("ok")
        return True

    def _failed(self, backoff: Backoff, mono: float, exc: Exception, retry_after: float | None = None) -> None:
        delay = backoff.failed(mono, retry_after)
        self.poller.last_error = error_message(exc)
        self.poller.connection = "retrying"
        self._set_status(f"retrying in {delay:.1f} s: {error_message(exc)}")

    def _now(self) -> datetime:
        return utc_now()

    def _publish(self) -> None:
        """Build, persist and emit one snapshot; a journal failure never stops monitoring."""
        if self.poller is None or self._stopped:
            return
        if self._in_start_grace():
            return
        try:
            force = f"authentication failed: {self.poller.last_error}" if self._auth_failed else ""
            snapshot = self.poller.build_snapshot(self._now(), force_stale=force)
        except Exception as exc:
            log.error("snapshot failed: %s: %s", type(exc).__name__, exc, exc_info=True)
            return
        # The trader sees the figures first; the journal write (one transaction) follows in this
        # thread, and the alerts go out after it because they carry their journal ids.
        self.snapshot_ready.emit(snapshot)
        if not snapshot.alerts and not self._journal_due():
            return
        try:
            fired = self.poller.persist(snapshot)
        except Exception as exc:
            log.error("journal write failed: %s: %s", type(exc).__name__, exc)
            self._set_journal_problem(error_message(exc))
            fired = self.poller.engine.recorded(snapshot.alerts)
        else:
            if self.poller.journal is not None:
                self._set_journal_problem("")
        if fired:
            # Alerts go out with their journal ids so the UI can acknowledge / snooze them by id.
            self.alerts_fired.emit(fired)

    def _journal_due(self) -> bool:
        """Whether this snapshot goes to the journal (the streaming worker keeps one row per price interval)."""
        return True

    def _in_start_grace(self) -> bool:
        """Nothing read yet and not yet overdue: stay 'connecting' instead of alarming on a first hiccup.

        A retry that failed again is no hiccup (Kraken unreachable, refused, rate limited): the grace ends
        there, so `watch` prints "stale" within seconds instead of nothing for the whole account window.
        """
        p = self.poller
        if self._auth_failed or (p.prices_at is not None and p.account_at is not None):
            return False
        if max(self._price_backoff.failures, self._account_backoff.failures) >= START_FAILURES_TOLERATED + 1:
            return False
        grace = max(self.config.price_stale_after_s(), self.config.account_stale_after_s())
        return time.monotonic() - self._started_mono < grace

    @Slot()
    def reconnect(self) -> None:
        """After an auth failure (the trader fixed the key, or it was a one-off): new exchange, timers on, poll."""
        self._reconnect()

    def _set_journal_problem(self, reason: str) -> None:
        """Journal health, emitted on change: "" recording, else "not recording: <reason>"."""
        text = f"not recording: {reason}" if reason else ""
        if text != self._journal_problem:
            self._journal_problem = text
            self.journal_status.emit(text)

    def _set_status(self, status: str) -> None:
        if status != self._status:
            self._status = status
            self.status_changed.emit(status)

    # -- requests (queued from the UI) --------------------------------------------------------

    @Slot(object)
    def handle(self, request: Request) -> None:
        """The one slot for what the trader asks (worker/requests.py); the result goes out on
        `action_finished(request, result)` or `action_failed(request, message)`."""
        if isinstance(request, RefreshNow):
            self.poll_now()
        elif isinstance(request, AlertRequest):
            self._alert_call(request)
        elif isinstance(request, OrderRequest):
            self._action(request)
        elif isinstance(request, DataRequest):
            self.read(request)
        elif isinstance(request, JournalRequest):
            self._record(request)
        else:
            log.error("unknown request %r", request)
            self.action_failed.emit(request, f"Unknown request ({type(request).__name__}).")

    @Slot(object)
    def read(self, request: DataRequest) -> None:
        """A view's read (the chart's candles), not a trader's action: out on `history_ready` as
        {request.key: result}; nothing goes out on action_finished / action_failed."""
        if self.poller is None:
            return  # not started yet: the view asks again (chart_features.ASK_AGAIN_S)
        try:
            with self.activity.doing(request.doing):
                result = request.apply(self.poller, self._now())
        except Exception as exc:  # a view's extra must never stop monitoring
            log.error("%s failed: %s: %s", request.doing, type(exc).__name__, exc)
            return
        self.history_ready.emit({request.key: result})


    # -- shutdown ----------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Any thread: no new exchange call starts after this; `stop` (queued) then flushes and ends the loop."""
        self._stop_event.set()

    @Slot()
    def stop(self) -> None:
        """Stop timers, flush paper state, close journal + exchange here, then end this thread's loop.

        Only this slot ends the poll thread's loop (MonitorThread.stop never quits it from outside): a
        quit from outside would end the loop before this queued call ran, leaving the flush undone.
        """
        self._stopped = True
        try:
            self._on_stopping()
            for timer in (self._price_timer, self._account_timer):
                if timer is not None:
                    timer.stop()
            if self.poller is not None:
                try:
                    self.poller.flush()
                except Exception as exc:
                    log.error("flush on stop failed: %s: %s", type(exc).__name__, exc)
        finally:
            # End our own thread's event loop after the flush above, even if a step failed (a loop left
            # running would keep the thread alive); never quit the GUI thread.
            thread = self.thread()
            app = QCoreApplication.instance()
            if app is not None and thread is not app.thread():
                thread.quit()
