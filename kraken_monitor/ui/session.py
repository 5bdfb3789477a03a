"""The session: the one place that connects the GUI to the poll worker, from one table of signals and slots.

It owns the MonitorThread (start, stop, restart on new settings) and every connection across the
thread boundary. MainWindow and ActionsController only expose signals and slots; neither touches the
worker. Requests are worker/requests.py records sent to the worker's single `handle` slot (queued into
its thread); results come back on `action_finished(request, result)` / `action_failed(request, text)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from kraken_monitor.config import MonitorConfig
from kraken_monitor.storage.instance_lock import InstanceLock, JournalInUse
from kraken_monitor.ui.watchdog_guard import WindowWatchdog

log = logging.getLogger(__name__)

# (worker signal, GUI slot as "<owner>.<attribute path>"); owners: window, actions, watchdog.
# Order matters where a signal has several slots: the window's widgets update before the popups.
WORKER_TO_GUI: tuple[tuple[str, str], ...] = (
    ("recent_alerts_ready", "window.alert_dock.load_recent"),
    ("snapshot_ready", "window.show_snapshot"),
    ("snapshot_ready", "watchdog.on_snapshot"),
    ("alerts_fired", "window.alert_dock.add_alerts"),
    ("alerts_fired", "window.history_dock.on_alerts"),  # a position ended: re-read the history
    ("alerts_fired", "actions.on_alerts_fired"),  # popups from the ids the journal gave the alerts
    ("alerts_changed", "window.alert_dock.model.update_alerts"),
    ("alerts_changed", "actions.messages.update_alerts"),
    ("alerts_changed", "actions.on_alerts_changed"),  # acknowledged / snoozed anywhere: no escalation
    ("history_ready", "window.chart_history"),
    ("status_changed", "window.status.set_connection"),
    ("price_feed_changed", "window.status.set_price_feed"),  # streaming worker: which price feed is live
    ("auth_failed", "window.status.set_connection"),
    ("auth_failed", "window.on_worker_auth_failed"),
    ("auth_failed", "window.status.show_reconnect"),
    ("journal_status", "window.status.set_journal"),
    ("capabilities_ready", "actions.on_capabilities_ready"),
    ("action_finished", "actions.on_action_finished"),
    ("action_failed", "actions.on_action_failed"),
)

# (GUI signal carrying a request record, worker slot): every user action takes this path.
GUI_TO_WORKER: tuple[tuple[str, str], ...] = (
    ("window.requested", "handle"),  # Refresh / Reconnect, the alert log's acknowledge and snooze
    ("window.data_requested", "read"),  # the chart's candles (a DataRequest: answered on history_ready)
    ("actions.requested", "handle"),  # dialogs (close, settle, margin, collateral) and popup buttons
)

# The GUI-thread watchdog's verdicts when the poll thread goes quiet (it reads the worker's `activity`).
WATCHDOG_TO_GUI: tuple[tuple[str, str], ...] = (
    ("watchdog.not_responding", "window.show_not_responding"),
    ("watchdog.stale_fired", "window.alert_dock.add_alerts"),
    ("watchdog.stale_fired", "actions.on_alerts_fired"),  # the popup, tray message and sound of any alert
)


# The futures account's controller (ui/futures_controller.py, its own poll thread) and the GUI.
FUTURES_TO_GUI: tuple[tuple[str, str], ...] = (
    ("futures.book_ready", "window.show_futures_book"),  # its account bar and its rows in the one table
    ("futures.outcome_ready", "window.futures_bar.show_outcome"),
    ("futures.not_watched", "window.futures_bar.show_not_watched"),
    # Journalled by the spot worker (ids: acknowledge and snooze persist), back on its alerts_fired;
    # shown at once, unjournalled, when no worker answers (record_futures_alerts).
    ("futures.alerts_fired", "session.record_futures_alerts"),
    ("worker.alerts_changed", "futures.on_alerts_changed"),  # a snoozed futures alert stays quiet
    ("window.change_leverage_requested", "futures.change_leverage"),  # a futures row: Ctrl+Shift+L
    ("actions.messages.change_leverage_requested", "futures.change_leverage"),  # a futures popup's button
    # Protective orders on futures (issue 16): the row's Protect, the Orders dock's futures rows.
    ("window.protect_futures_requested", "futures.protect"),
    ("window.orders_dock.futures_modify_requested", "futures.protect_order"),
    ("window.orders_dock.futures_cancel_requested", "futures.cancel_order"),
    ("window.futures.signals.order_move_requested", "futures.move_order"),  # a chart line dragged (confirmed)
    ("window.futures.signals.margin_mode_requested", "futures.switch_margin_mode"),  # Ctrl+Shift+K
    ("window.futures.signals.transfer_requested", "futures.transfer_collateral"),
)


def _lock_journal(config: MonitorConfig) -> Any:
    """The instance lock of the journal `config` writes; raises JournalInUse when another process holds it."""
    return InstanceLock(config.journal_path()).acquire()


def _default_monitor(config: MonitorConfig) -> Any:
    from kraken_monitor.worker.runner import MonitorThread  # imports the worker side after the first paint

    return MonitorThread(config)


class MonitorSession(QObject):
    """GUI thread. `start()` creates and starts a monitor; `restart(config)` replaces it; `stop()` ends it.

    `monitor_factory(config)` makes the MonitorThread (tests pass one with their exchange/journal
    factories); `attach(monitor)` wires a monitor someone else starts. `lock` is the instance lock the
    process took for `config`'s journal at start-up: a restart onto another journal (a new mode) takes
    that journal's lock first and keeps monitoring as before when another instance holds it.
    """

    def __init__(
        self,
        window: Any,
        config: MonitorConfig,
        actions: Any = None,
        monitor_factory: Callable[[MonitorConfig], Any] = _default_monitor,
        lock: Any = None,
        lock_journal: Callable[[MonitorConfig], Any] = _lock_journal,
        futures: bool = False,
        futures_poller: Callable[[MonitorConfig, float], Any] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.config = config
        self.actions = actions
        self.monitor_factory = monitor_factory
        self.lock = lock
        self.lock_journal = lock_journal
        self.monitor: Any = None
        self.watchdog: WindowWatchdog | None = None
        self._connections: list[tuple[Any, Any]] = []
        self._futures_connections: list[tuple[Any, Any]] = []
        self.futures: Any = None  # the futures account's controller (its own poll thread), issue 15
        self.with_futures = futures  # the app watches the futures account too; tests opt in
        self.futures_poller = futures_poller  # makes the futures poller (tests give their exchange); None: real
        window.closing.connect(self._on_window_closing)
        if actions is not None:
            self.set_actions(actions)

    @property
    def worker(self) -> Any:
        return self.monitor.worker if self.monitor is not None else None

    def set_actions(self, actions: Any) -> None:
        """The dialogs controller, built after the first paint (it imports every dialog)."""
        self.actions = actions
        actions.config_changed.connect(self.restart)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, config: MonitorConfig | None = None) -> None:
        if self.monitor is not None:
            return
        if config is not None:
            self.config = config
        monitor = self.monitor_factory(self.config)
        self.attach(monitor)
        monitor.start()
        self._start_futures()

    def _start_futures(self) -> None:
        """The futures account of the same kind (demo, paper, live) beside the spot one, in its own thread."""
        if not hasattr(self.window, "show_futures_book") or self.futures is not None or not self.with_futures:
            return
        from dataclasses import replace

        from kraken_monitor.ui.futures_controller import FuturesController

        # Kraken Futures is its own host: the spot --api-url override never applies to it (--futures-api-url does).
        config = replace(self.config, api_url=self.config.futures_api_url)
        interval = self.config.price_interval_s if config.mode.simulated else max(self.config.price_interval_s, 1.0)
        extra = {"poller_factory": self.futures_poller} if self.futures_poller is not None else {}
        self.futures = FuturesController.start(config, interval, self, **extra)
        self.futures.dialog_parent = self.window
        self.window.watch_futures(True)
        owners = {"window": self.window, "actions": self.actions, "futures": self.futures, "session": self,
                  "worker": self.worker}
        for signal_path, slot_path in FUTURES_TO_GUI:
            signal, slot = _resolve(owners, signal_path), _resolve(owners, slot_path)
            if signal is not None and slot is not None:
                signal.connect(slot)
                self._futures_connections.append((signal, slot))

    def record_futures_alerts(self, alerts: tuple) -> None:
        """Futures alerts go through the spot worker's journal (one thread owns it), which gives them ids
        and sends them on like its own. A worker that cannot take them (none, or not answering: the watchdog
        says so) must not hold them back: they are shown now, id 0 (not acknowledgeable from the log)."""
        monitor = self.monitor
        quiet = self.watchdog is not None and self.watchdog.quiet
        if monitor is not None and hasattr(monitor, "send") and self.worker is not None and not quiet:
            from kraken_monitor.worker.requests import RecordAlerts

            monitor.send(RecordAlerts(tuple(alerts)))
            return
        dock = getattr(self.window, "alert_dock", None)
        if dock is not None:
            dock.add_alerts(alerts)
        if self.actions is not None:
            self.actions.on_alerts_fired(alerts)  # popup, tray, sound and channels, as for spot

    def _stop_futures(self) -> None:
        futures, self.futures = self.futures, None
        connections, self._futures_connections = self._futures_connections, []
        for signal, slot in connections:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        if futures is not None:
            futures.stop()
            self.window.watch_futures(False)

    def restart(self, config: MonitorConfig) -> None:
        """Settings saved: stop the old worker (it flushes its journal), start one on the new settings.

        A new journal (another mode or --db) is locked before anything stops: if another kraken-monitor
        holds it, the running monitor goes on unchanged and the trader is told why.
        """
        try:
            lock = self._lock_for(config)
        except JournalInUse as exc:
            from kraken_monitor.ui.messages import Messages

            log.warning("settings not applied: %s", exc)
            Messages.instance().error(self.window, "Settings saved, monitoring unchanged", journal_in_use_text(exc))
            return
        old = self.monitor
        self._stop_futures()
        self.detach()
        if old is not None and not old.stop():
            log.warning("previous poll thread did not stop in time")
        if lock is not self.lock:
            if self.lock is not None:
                self.lock.release()  # after the old worker closed its journal
            self.lock = lock
        self.window.mode = config.mode
        self.window.set_api_url(config.api_url)  # sets the title too
        self.start(config)

    def _lock_for(self, config: MonitorConfig) -> Any:
        current = self.lock
        if current is not None and current.journal == config.journal_path():
            return current
        try:
            return self.lock_journal(config)
        except OSError as exc:  # cannot even create the lock file: the journal's own error will show
            log.error("instance lock unavailable: %s", exc)
            return None

    def stop(self) -> bool:
        """The session ends: disconnect and stop the monitor (its worker flushes the journal in its own
        thread), then give the journal's instance lock back."""
        monitor = self.monitor
        self._stop_futures()
        self.detach()
        stopped = True if monitor is None else bool(monitor.stop())
        lock, self.lock = self.lock, None
        if lock is not None:
            lock.release()
        return stopped

    def _on_window_closing(self) -> None:
        if self.monitor is not None:
            self.window.hide()  # the wait can last until a request's deadline: do not look frozen meanwhile
        if not self.stop():
            log.warning("poll thread still running at exit")

    # -- wiring ------------------------------------------------------------------------------
    def attach(self, monitor: Any) -> None:
        """Connect every row of the tables to `monitor.worker`; call before `monitor.start()`."""
        self.detach()
        self.monitor = monitor
        worker = monitor.worker
        if hasattr(monitor, "config") and hasattr(worker, "activity"):
            # Outside the poll thread: notices when it goes quiet.
            self.watchdog = WindowWatchdog(self.window, monitor.config, worker.activity)
        config = getattr(monitor, "config", None)
        history = getattr(self.window, "history_dock", None)
        if config is not None and history is not None:
            history.set_journal(config.journal_path())  # read-only: the closed positions' record
        replay = getattr(self.window, "replay", None)
        if config is not None and replay is not None:
            replay.set_journal(config.journal_path(), getattr(config, "thresholds", None))  # read-only too
        owners = {"window": self.window, "actions": self.actions, "watchdog": self.watchdog}
        for signal_name, slot_path in WORKER_TO_GUI:
            self._connect(getattr(worker, signal_name, None), _resolve(owners, slot_path))
        for signal_path, slot_name in GUI_TO_WORKER:
            self._connect(_resolve(owners, signal_path), getattr(worker, slot_name, None))
        for signal_path, slot_path in WATCHDOG_TO_GUI:
            self._connect(_resolve(owners, signal_path), _resolve(owners, slot_path))

    def _connect(self, signal: Any, slot: Any) -> None:
        if signal is None or slot is None:  # no controller yet / no watchdog for a stand-in monitor
            return
        signal.connect(slot)
        self._connections.append((signal, slot))

    def detach(self) -> None:
        """Undo every connection (an old worker must not reach the screen, nor requests the old worker)."""
        connections, self._connections = self._connections, []
        for signal, slot in connections:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):  # already gone with the old worker object
                pass
        if self.watchdog is not None:
            self.watchdog.stop()
            self.watchdog.deleteLater()
            self.watchdog = None
        if self.monitor is not None and self.actions is not None:
            self.actions.on_capabilities_ready(None)  # the next worker reports its venue's own
        self.monitor = None


def _resolve(owners: dict[str, Any], path: str) -> Any:
    owner_name, _, rest = path.partition(".")
    target = owners.get(owner_name)
    for part in rest.split("."):
        if target is None:
            return None
        target = getattr(target, part, None)
    return target


def journal_in_use_text(exc: BaseException) -> str:
    return (f"{exc}.\nThe monitor keeps running on the previous settings. Close the other kraken-monitor and "
            "apply the settings again, or restart this one.")
