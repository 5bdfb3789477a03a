"""The window's watchdog: a GUI-thread QTimer that turns the screen to RISK UNKNOWN when the poll thread goes quiet."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Snapshot
from kraken_monitor.worker.freshness import Activity
from kraken_monitor.worker.watchdog import Watchdog, stale_alert, watchdog_windows

CHECK_EVERY_MS = 500


class WindowWatchdog(QObject):
    """Lives in the GUI thread, never blocks on the worker: it only reads the worker's `activity`.

    When no fresh snapshot arrived within the stale window, `not_responding` carries a snapshot with
    every risk UNKNOWN and "monitor not responding: waiting for <what>", and `stale_fired` one 'data
    stale' alert per episode (the session connects both to the window and the popups).
    """

    not_responding = Signal(object)  # Snapshot: the last one shown, every risk UNKNOWN, the reason
    stale_fired = Signal(object)  # tuple[Alert, ...]: one 'data stale' alert, id 0 (not journaled)

    def __init__(self, parent: QObject, config: MonitorConfig, activity: Activity, interval_ms: int = CHECK_EVERY_MS) -> None:
        super().__init__(parent)
        self.mode = config.mode
        window_s, startup_s = watchdog_windows(config)
        self.watchdog = Watchdog(window_s, startup_s, activity)
        self.quiet = False  # the poll thread is not answering now (its journal cannot take other alerts)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    @Slot(object)
    def on_snapshot(self, snapshot: Snapshot) -> None:
        self.watchdog.saw_snapshot(snapshot)

    @Slot()
    def check(self) -> str | None:
        reason, started = self.watchdog.check()
        self.quiet = reason is not None
        if reason is None:
            return None
        self.not_responding.emit(self.watchdog.unknown_snapshot(self.mode, reason))
        if started:
            # id 0: not journaled (the journal belongs to the stuck thread)
            self.stale_fired.emit((stale_alert(reason),))
        return reason

    def stop(self) -> None:
        self.timer.stop()
