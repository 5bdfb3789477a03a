"""The window's watchdog: a GUI-thread QTimer that turns the screen to RISK UNKNOWN when the poll thread goes quiet."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Slot

from kraken_monitor.domain.models import Snapshot
from kraken_monitor.worker.watchdog import Watchdog, stale_alert, watchdog_windows

CHECK_EVERY_MS = 500


class WindowWatchdog(QObject):
    """Lives in the GUI thread, never blocks on the worker: it only reads the worker's `activity`.

    When no fresh snapshot arrived within the stale window, every risk on screen turns UNKNOWN with
    "monitor not responding: waiting for <what>", and one 'data stale' alert pops up per episode.
    """

    def __init__(self, window: Any, monitor: Any, interval_ms: int = CHECK_EVERY_MS) -> None:
        super().__init__(window)
        self.window = window
        self.mode = monitor.config.mode
        window_s, startup_s = watchdog_windows(monitor.config)
        self.watchdog = Watchdog(window_s, startup_s, monitor.worker.activity)
        monitor.worker.snapshot_ready.connect(self.on_snapshot)
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
        if reason is None:
            return None
        self.window.show_not_responding(self.watchdog.unknown_snapshot(self.mode, reason))
        if started:
            fired = (stale_alert(reason),)  # id 0: not journaled (the journal belongs to the stuck thread)
            self.window.alert_dock.add_alerts(fired)
            controller = getattr(self.window, "actions_controller", None)
            if controller is not None:
                controller.on_alerts_fired(fired)  # the popup, tray message and sound of any alert
        return reason

    def stop(self) -> None:
        self.timer.stop()
