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
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.exchange.errors import AuthFailed, BadResponse, ExchangeError, RateLimited
from kraken_monitor.worker.backoff import Backoff
from kraken_monitor.worker.cycle import Poller, utc_now
from kraken_monitor.worker.freshness import Activity

log = logging.getLogger(__name__)

# This app session: alerts journalled since then already fired here, so a worker restarted with new
# settings is seeded with them instead of firing them again (the poll thread imports this at start-up).
SESSION_STARTED = utc_now()

# Public price reads are cheap and are what turns the screen fresh again: after an outage the next try
# is never more than this far away (the account channel keeps the configured, longer cap).
PRICE_BACKOFF_CAP_S = 5.0


class PollWorker(QObject):
    """Runs in the worker thread; emits only. Slots are invoked queued from the UI thread."""

    snapshot_ready = Signal(object)  # Snapshot
    alerts_fired = Signal(object)  # tuple[Alert, ...] fired this cycle, each with its journal id
    alerts_changed = Signal(object)  # tuple[Alert, ...] acknowledged / snoozed: every view updates at once
    history_ready = Signal(object)  # {pair: (ts, prices), "margin": (ts, levels)} float64 arrays
    action_finished = Signal(object)  # OrderResult
    action_failed = Signal(str)
    auth_failed = Signal(str)
    status_changed = Signal(str)
    capabilities_ready = Signal(object)  # exchange.base.Capabilities of the venue in use
    recent_alerts_ready = Signal(object)  # tuple[Alert, ...] from the journal, newest first
    journal_status = Signal(str)  # "" = recording; else "not recording: <reason>" (persistent until it recovers)

    def __init__(self, config: MonitorConfig):
        super().__init__(None)
        self.config = config
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

    def _open_journal(self) -> Any:
        from kraken_monitor.storage.journal import Journal

        return Journal.open(self.config.journal_path())

    def _create_exchange(self, paper_state: Any) -> Any:
        # Imported here, in the worker thread after the window painted: ccxt takes ~1 s to import.
        from kraken_monitor.exchange.factory import create_exchange

        return create_exchange(self.config, paper_state=paper_state)

    @Slot()
    def start(self) -> None:
        """Create journal, exchange and timers in this thread, emit history, poll once at once."""
        journal = None
        try:
            journal = self._open_journal()
        except Exception as exc:  # monitoring matters more than history: carry on without a journal
            log.error("journal unavailable: %s: %s", type(exc).__name__, exc)
            self._set_journal_problem(_message(exc))
        try:
            paper_state = journal.load_paper_state(self.config.mode.value) if journal is not None else None
            with self.activity.doing("the exchange connection to start"):
                exchange = self._create_exchange(paper_state)
        except AuthFailed as exc:
            self._on_auth_failed(str(exc))
            return
        except Exception as exc:
            log.error("cannot create exchange: %s: %s", type(exc).__name__, exc)
            self._set_status(f"cannot start: {_message(exc)}")
            if journal is not None:
                journal.close()
            return
        self.poller = Poller(self.config, exchange, journal, activity=self.activity)
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
        self.poller.last_error = _message(exc)
        self.poller.connection = "retrying"
        self._set_status(f"retrying in {delay:.1f} s: {_message(exc)}")

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
        try:
            fired = self.poller.persist(snapshot)
        except Exception as exc:
            log.error("journal write failed: %s: %s", type(exc).__name__, exc)
            self._set_journal_problem(_message(exc))
            fired = self.poller.engine.recorded(snapshot.alerts)
        else:
            if self.poller.journal is not None:
                self._set_journal_problem("")
        if fired:
            # Alerts go out with their journal ids so the UI can acknowledge / snooze them by id.
            self.alerts_fired.emit(fired)

    def _in_start_grace(self) -> bool:
        """Nothing read yet and not yet overdue: stay 'connecting' instead of alarming on a first hiccup."""
        p = self.poller
        if self._auth_failed or (p.prices_at is not None and p.account_at is not None):
            return False
        grace = max(self.config.price_stale_after_s(), self.config.account_stale_after_s())
        return time.monotonic() - self._started_mono < grace

    def _on_auth_failed(self, message: str) -> None:
        """Not retryable: stop polling (a key storm could lock the account) and tell the user."""
        self._auth_failed = True
        for timer in (self._price_timer, self._account_timer):
            if timer is not None:
                timer.stop()
        if self.poller is not None:
            self.poller.last_error = message
            self.poller.connection = "auth failed"
        self._set_status(f"authentication failed: {message}")
        self.auth_failed.emit(message)
        self._publish()

    @Slot()
    def reconnect(self) -> None:
        """After an auth failure (the trader fixed the key, or it was a one-off): new exchange, timers on, poll."""
        if not self._auth_failed or self._stopped:
            return
        self._auth_failed = False
        self._price_backoff.succeeded()
        self._account_backoff.succeeded()
        self._set_status("reconnecting")
        if self.poller is None:
            self.start()  # the exchange was never created (auth failed at start)
            return
        try:
            self.poller.exchange.close()
            with self.activity.doing("the exchange connection to start"):
                self.poller.exchange = self._create_exchange(self._paper_state())
        except AuthFailed as exc:
            self._on_auth_failed(str(exc))
            return
        except Exception as exc:
            log.error("reconnect failed: %s: %s", type(exc).__name__, exc)
            self._failed(self._account_backoff, time.monotonic(), exc)
        self.poller.connection = "starting"
        for timer in (self._price_timer, self._account_timer):
            if timer is not None:
                timer.start()
        self._account_cycle()
        self._price_cycle()
        self._publish()

    def _paper_state(self) -> Any:
        export = getattr(self.poller.exchange, "export_state", None) if self.poller else None
        return export() if export is not None else None

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

    # -- actions (queued from the UI) -----------------------------------------------------------

    def _action(self, run) -> None:
        if self.poller is None:
            self.action_failed.emit("Not connected to the exchange yet.")
            return
        try:
            result = run(self.poller)
        except (ExchangeError, DomainError) as exc:
            self.action_failed.emit(_message(exc))
            return
        except Exception as exc:
            log.error("action failed unexpectedly: %s: %s", type(exc).__name__, exc, exc_info=True)
            self.action_failed.emit(f"Unexpected error ({type(exc).__name__}); see the log file.")
            return
        self.action_finished.emit(result)
        # Show the effect at once instead of at the next account tick.
        self._account_backoff.succeeded()
        self._account_cycle()
        self._publish()

    @Slot(str, object, str, object)
    def request_close(self, position_id: str, volume: object, order_type: str, limit_price: object) -> None:
        self._action(lambda p: p.close(position_id, volume, order_type or "market", limit_price))

    @Slot(str)
    def request_settle(self, position_id: str) -> None:
        self._action(lambda p: p.settle(position_id))

    @Slot(object)
    def request_add_collateral(self, amount: object) -> None:
        self._action(lambda p: p.add_collateral(amount))

    @Slot(str, object)
    def request_add_isolated_margin(self, position_id: str, amount: object) -> None:
        self._action(lambda p: p.add_isolated_margin(position_id, amount))

    @Slot(int)
    def acknowledge_alert(self, alert_id: int) -> None:
        self._alert_call("acknowledge", lambda p: p.acknowledge_alert(alert_id, self._now()), alert_id)

    @Slot(int, float)
    @Slot(int, float, bool)
    def snooze_alert(self, alert_id: int, seconds: float, confirmed: bool = False) -> None:
        """Snooze at the level of THAT alert (a higher level fires through); LIQUIDATION needs `confirmed`."""
        until = self._now() + timedelta(seconds=seconds)
        self._alert_call("snooze", lambda p: p.snooze_alert(alert_id, until, confirmed), alert_id)

    def _alert_call(self, what: str, call, alert_id: int) -> None:
        if self.poller is None:
            return
        try:
            changed = call(self.poller)
        except DomainError as exc:  # e.g. an unconfirmed LIQUIDATION snooze: nothing changed
            self.action_failed.emit(_message(exc))
            return
        except Exception as exc:
            log.error("%s alert %s failed: %s: %s", what, alert_id, type(exc).__name__, exc)
            self.action_failed.emit(f"Could not {what} the alert: {_message(exc)}")
            return
        if changed is not None:
            self.alerts_changed.emit((changed,))

    # -- shutdown ----------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Any thread: no new exchange call starts after this; `stop` (queued) then flushes and ends the loop."""
        self._stop_event.set()

    @Slot()
    def stop(self) -> None:
        """Stop timers, flush paper state, close journal + exchange here, then end this thread's loop."""
        self._stopped = True
        for timer in (self._price_timer, self._account_timer):
            if timer is not None:
                timer.stop()
        if self.poller is not None:
            try:
                self.poller.flush()
            except Exception as exc:
                log.error("flush on stop failed: %s: %s", type(exc).__name__, exc)
        # End our own thread's event loop only after the flush above; never quit the GUI thread.
        thread = self.thread()
        app = QCoreApplication.instance()
        if app is not None and thread is not app.thread():
            thread.quit()


def _message(exc: Exception) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
