"""Headless commands: `snapshot` (one poll, no Qt) and `watch` (PollWorker under a QCoreApplication)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from dataclasses import replace
from typing import Any, TextIO

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.models import Risk, Snapshot
from kraken_monitor.exchange.errors import AuthFailed, ExchangeError
from kraken_monitor.exchange.text import printable
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.alerts import alert_message
from kraken_monitor.worker.cycle import Poller, utc_now
from kraken_monitor.worker.opening import JournalRequired, open_poller
from kraken_monitor.worker.serialize import (
    alert_to_json,
    event_to_json,
    freshness_to_json,
    snapshot_to_json,
    watch_snapshot_to_json,
    with_venue,
)

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 2
NOTIFY_DRAIN_S = 15.0  # at exit, how long queued notifications may still take


def _fail(err: TextIO, message: str) -> int:
    # Exactly one line: scripts and cron mails read it; the log file has the details.
    err.write("kraken-monitor: " + " ".join(printable(message).split()) + "\n")
    err.flush()
    return EXIT_FAILED


def run_snapshot(config: MonitorConfig, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """One account + price read; prints the snapshot; exit 2 with one stderr line on any failure.

    A failed read never prints a position list: an empty list would read as "flat, nothing at risk".
    """
    poller: Poller | None = None
    warning = ""  # one line on stderr when the figures are good but they are not journaled
    try:
        try:
            # The one-off command must not overwrite a running app's paper account: read it, never save it.
            opened = open_poller(
                config, save_paper=False, journal_required=config.mode.simulated, yield_to_running_app=True
            )
        except JournalRequired as exc:  # the paper account lives in the journal
            return _fail(err, f"cannot open the journal: {exc}")
        poller = opened.poller
        if opened.journal_error is not None:
            warning = f"not recording: {opened.journal_error}"
        other = opened.journal_held_by
        if other is not None:
            who = f"pid {other}" if other > 0 else "pid unknown"
            warning = f"another kraken-monitor ({who}) is using {config.journal_path()}: this snapshot is not journaled"
        now = utc_now()
        poller.poll_account(now)
        poller.poll_prices(now)
        snapshot = poller.build_snapshot(now)
        if snapshot.account is None or snapshot.stale:
            return _fail(err, f"incomplete data from the {config.mode} exchange: {snapshot.stale_reason}")
        try:
            poller.persist(snapshot)
        except Exception as exc:  # the figures are right; only the record of them failed
            log.error("journal write failed: %s: %s", type(exc).__name__, exc)
            warning = f"not recording: {exc}"
    except AuthFailed as exc:
        return _fail(err, f"authentication failed: {exc}")
    except (ExchangeError, DomainError) as exc:
        return _fail(err, f"cannot read the {config.mode} account: {exc}")
    except Exception as exc:
        log.error("snapshot failed: %s: %s", type(exc).__name__, exc, exc_info=True)
        return _fail(err, f"unexpected error ({type(exc).__name__}): {exc}")
    finally:
        try:
            if poller is not None:
                poller.flush()
        except Exception as exc:
            log.error("closing after snapshot failed: %s: %s", type(exc).__name__, exc)
    if warning:
        err.write("kraken-monitor: " + " ".join(warning.split()) + "\n")
        err.flush()
    if as_json:
        out.write(json.dumps(snapshot_to_json(snapshot)) + "\n")  # json.dumps escapes control characters
    else:
        out.write("\n".join(printable(line) for line in format_table(snapshot).splitlines()) + "\n")
    out.flush()
    return EXIT_OK


def _cell(text: str) -> str:
    """Terminal display: ASCII '-' for a missing figure (a terminal may not encode the UI's dash)."""
    return "-" if text == fmt.DASH else text


def format_table(snapshot: Snapshot) -> str:
    """Readable plain-text snapshot for a terminal."""
    lines = [f"kraken-monitor {snapshot.mode} snapshot at {snapshot.as_of:%Y-%m-%d %H:%M:%S %Z}"]
    if snapshot.stale:
        lines.append(f"STALE - RISK UNKNOWN: {snapshot.stale_reason}")
    a = snapshot.account
    if a is not None:
        level = _cell(fmt.fmt_decimal(a.margin_level, fmt.LEVEL_DECIMALS)) + ("%" if a.margin_level is not None else "")
        lines.append(
            f"account {a.currency}: equity {_cell(fmt.fmt_amount(a.equity, a.currency))}  "
            f"used margin {_cell(fmt.fmt_amount(a.used_margin, a.currency))}  "
            f"free {_cell(fmt.fmt_amount(a.free_margin, a.currency))}  "
            f"margin level {level}  (call {fmt.fmt_threshold(a.margin_call_level)}%, "
            f"liquidation {fmt.fmt_threshold(a.liquidation_level)}%)  risk {Risk(a.risk).label}"
        )
    if not snapshot.positions:
        lines.append("no open positions")
        return "\n".join(lines) + "\n"
    # Prices are in each pair's quote currency (the "quote" column); net P&L in the account currency.
    money = f"net P&L {a.currency}" if a is not None else "net P&L"
    header = ("id", "pair", "side", "mode", "quote", "volume", "entry", "price", money, "liq. price", "dist %", "risk")
    rows = [header]
    for pf in snapshot.positions:
        rules = snapshot.pair_rules.get(pf.position.pair)
        figures = (fmt.fmt_volume(pf.remaining_volume, rules), fmt.fmt_price(pf.entry_price, rules),
                   fmt.fmt_price(pf.price, rules), fmt.fmt_amount(pf.net_pnl, pf.account_currency, signed=True),
                   fmt.fmt_price(pf.liquidation_price, rules),
                   fmt.fmt_decimal(pf.distance_to_liquidation_pct, 1))
        quote = pf.quote_currency or (rules.quote if rules is not None else fmt.DASH)
        rows.append((pf.position.id, pf.position.pair, pf.position.side.value, pf.position.margin_mode.value,
                     _cell(quote), *map(_cell, figures), Risk(pf.risk).label))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    return "\n".join(lines) + "\n"


def run_watch(
    config: MonitorConfig, duration_s: float | None, as_json: bool, out: TextIO = sys.stdout,
    notify_urls: tuple[str, ...] = (), with_futures: bool = False,
) -> int:
    """Run the poll worker in its thread; print alerts (and snapshot/stale lines) until done.

    Each `notify_urls` entry also receives the alerts its default routing takes, at once (nobody is at
    a desk to acknowledge first); delivery results print as "notify" lines.
    """
    from PySide6.QtCore import QCoreApplication, QTimer

    from kraken_monitor.storage.instance_lock import InstanceLock, JournalInUse
    from kraken_monitor.worker.main_thread_gc import MainThreadGarbageCollector
    from kraken_monitor.worker.runner import MonitorThread

    try:
        lock = InstanceLock(config.journal_path()).acquire()
    except JournalInUse as exc:
        sys.stderr.write(f"{exc}\n")  # exactly the contract's line: scripts match it
        sys.stderr.flush()
        return EXIT_FAILED
    except OSError as exc:  # cannot even create the lock file: the journal will say so too
        log.error("instance lock unavailable: %s", exc)
        lock = None
    app = QCoreApplication.instance() or QCoreApplication(["kraken-monitor"])
    collector = MainThreadGarbageCollector()  # Qt objects die in this thread, never in the poll thread
    printer = _make_printer(as_json, out)
    monitor = MonitorThread(config)
    worker = monitor.worker
    worker.snapshot_ready.connect(printer.on_snapshot)
    worker.alerts_fired.connect(printer.on_alerts)
    worker.auth_failed.connect(printer.on_auth_failed)
    worker.status_changed.connect(printer.on_status)
    if hasattr(worker, "price_feed_changed"):  # `--prices stream` (the default): which feed is live, logged
        worker.price_feed_changed.connect(printer.on_status)
    worker.journal_status.connect(printer.on_journal)
    printer.quit_requested.connect(app.quit)
    notifications = _start_notifications(notify_urls, printer)

    def _on_signal(signum, _frame):
        QTimer.singleShot(0, app.quit)

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Python runs signal handlers only between bytecodes; a ticking timer gives it the chance.
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(100)
    watchdog_timer = _start_watchdog(config, monitor, printer)
    if duration_s is not None:
        # QTimer takes int milliseconds (at most ~24.8 days): the end is checked on the monotonic clock instead.
        end = time.monotonic() + duration_s
        ticker.timeout.connect(lambda: app.quit() if time.monotonic() >= end else None)
    futures = _start_futures(config, as_json, out, app, notifications) if with_futures else None
    monitor.start()
    try:
        app.exec()
    finally:
        ticker.stop()
        if futures is not None:
            futures.stop()
        watchdog_timer.stop()
        monitor.stop()  # flushes paper state and closes the journal in the worker thread
        if notifications is not None:
            notifications.notifier.wait_idle(NOTIFY_DRAIN_S)  # what fired last still goes out
            notifications.stop()
            app.processEvents()  # the last delivery lines
        collector.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if lock is not None:
            lock.release()
    out.flush()
    failed = printer.auth_error or (futures is not None and futures.printer.auth_error)
    return EXIT_FAILED if failed else EXIT_OK


def _start_futures(config: MonitorConfig, as_json: bool, out: TextIO, app: Any, notifications: Any = None):
    """`watch --venue all`: the futures poller beside the spot worker, its lines printed from this thread,
    its alerts through the spot alerts' notifications (delivery lines print once, from the spot printer), its
    thread under a watchdog on the configured stale window like the spot poll thread."""
    from PySide6.QtCore import QTimer

    from kraken_monitor.worker.futures_watch import FuturesLinePrinter, FuturesPoller
    from kraken_monitor.worker.futures_watchdog import FuturesWatchdog, futures_watchdog_windows

    class _Futures:
        def __init__(self) -> None:
            interval = config.price_interval_s
            # Kraken Futures is its own host: --api-url is the spot one here, --futures-api-url this one's.
            self.poller = FuturesPoller(replace(config, api_url=config.futures_api_url), interval).start()
            window_s, startup_s = futures_watchdog_windows(config, interval)
            self.printer = FuturesLinePrinter(
                as_json, out, f"futures {config.mode}", notifications=notifications,
                watchdog=FuturesWatchdog(window_s, startup_s, self.poller.activity, str(config.mode)))
            self.timer = QTimer()
            self.timer.timeout.connect(self.pump)
            self.timer.start(200)

        def pump(self) -> None:
            if not self.printer.pump(self.poller.results):
                app.quit()
            self.printer.check_watchdog()

        def stop(self) -> None:
            self.timer.stop()
            self.poller.stop()
            self.printer.pump(self.poller.results)

    return _Futures()


def cli_destinations(urls: tuple[str, ...]) -> list[Any]:
    """`--notify URL` (repeatable) as notification destinations, labelled by position and scheme (never the URL)."""
    from urllib.parse import urlsplit

    from kraken_monitor.notify.channels import Channel
    from kraken_monitor.notify.service import Destination

    return [Destination(Channel(f"cli-{i}", f"--notify #{i} ({urlsplit(url).scheme})"), url)
            for i, url in enumerate(urls, 1)]


def _start_notifications(urls: tuple[str, ...], printer: Any):
    """The command line's channels (default routing, URLs in memory only), or None without any."""
    if not urls:
        return None
    from kraken_monitor.notify.service import AlertNotifications

    notifications = AlertNotifications(cli_destinations(urls), at_desk=False, on_status=printer.delivered.emit)
    printer.notifications = notifications
    return notifications


def _start_watchdog(config: MonitorConfig, monitor: Any, printer: Any):
    """The watchdog in `watch`'s main loop: a stuck poll thread still yields a stale line within the window."""
    from PySide6.QtCore import QTimer

    from kraken_monitor.worker.watchdog import Watchdog, watchdog_windows

    window_s, startup_s = watchdog_windows(config)
    watchdog = Watchdog(window_s, startup_s, monitor.worker.activity)
    printer.watchdog = watchdog  # fed by the printer's slot, which runs in this (the main) thread

    def check() -> None:
        reason, started = watchdog.check()
        if started:
            printer.on_not_responding(reason, config.mode)

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(500)
    return timer


def _make_printer(as_json: bool, out: TextIO):
    """A QObject living in the main thread, so worker signals arrive queued (never in the poll thread)."""
    from PySide6.QtCore import QObject, Signal, Slot

    class WatchPrinter(QObject):
        quit_requested = Signal()
        delivered = Signal(object)  # DeliveryStatus, emitted in the delivery thread: printed in this one

        def __init__(self):
            super().__init__()
            self.auth_error = ""
            self._stale: bool | None = None
            self.watchdog: Any = None
            self.notifications: Any = None
            self.delivered.connect(self.on_delivered)

        def _line(self, obj: dict[str, Any], text: str) -> None:
            out.write((json.dumps(with_venue(obj, "spot")) if as_json else printable(text)) + "\n")
            out.flush()

        @Slot(object)
        def on_snapshot(self, snap: Snapshot) -> None:
            if self.watchdog is not None:
                self.watchdog.saw_snapshot(snap)
            # Report transitions only: stale, and fresh again after a stale period (not the first fresh one).
            if snap.stale != bool(self._stale) or (snap.stale and self._stale is None):
                self._stale = snap.stale
                self._line(freshness_to_json(snap),
                           f"{snap.as_of:%H:%M:%S} {'STALE - RISK UNKNOWN: ' + snap.stale_reason if snap.stale else 'data fresh again'}")
            if as_json:
                self._line(watch_snapshot_to_json(snap), "")

        def on_not_responding(self, reason: str, mode: str) -> None:
            """The watchdog tripped: a stale line and the stale alert, as when the worker reports stale data."""
            from kraken_monitor.worker.watchdog import stale_alert

            now = utc_now()
            self._stale = True  # the next fresh snapshot prints the "fresh" line
            self._line({"type": "stale", "ts": now.isoformat(), "reason": reason},
                       f"{now:%H:%M:%S} STALE - RISK UNKNOWN: {reason}")
            self.on_alerts((stale_alert(reason, now),))

        @Slot(object)
        def on_delivered(self, status) -> None:
            if not status.final:
                return  # retries are in the log; the line says how it ended
            self._line({"type": "notify", "ts": status.at.isoformat(), "channel": status.label,
                        "ok": status.ok, "attempts": status.attempts, "reason": status.reason or None},
                       f"{status.at.astimezone():%H:%M:%S} NOTIFY: {status.text().split(' ', 1)[1]}")

        @Slot(object)
        def on_alerts(self, alerts) -> None:
            if self.notifications is not None:
                self.notifications.fired(alerts)
            for alert in alerts:
                if alert.is_event:
                    self._line(event_to_json(alert), f"{alert.fired_at:%H:%M:%S} EVENT: {alert_message(alert)}")
                    continue
                a = alert_to_json(alert)
                self._line(a, f"{alert.fired_at:%H:%M:%S} {a['level'].upper()}: {alert_message(alert)}")

        @Slot(str)
        def on_auth_failed(self, message: str) -> None:
            self.auth_error = message
            sys.stderr.write(f"kraken-monitor: authentication failed: {message}\n")
            self.quit_requested.emit()

        @Slot(str)
        def on_journal(self, text: str) -> None:
            now = utc_now()
            self._line({"type": "journal", "ts": now.isoformat(), "recording": not text, "reason": text},
                       f"{now:%H:%M:%S} JOURNAL: {text or 'recording again'}")

        @Slot(str)
        def on_status(self, status: str) -> None:
            log.info("status: %s", status)

    return WatchPrinter()
