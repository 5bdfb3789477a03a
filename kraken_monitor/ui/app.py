"""GUI start-up: QApplication, main window painted first, poll thread started after, screenshot mode."""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from kraken_monitor.config import MonitorConfig

log = logging.getLogger(__name__)

APP_NAME = "kraken-monitor"
ORG_NAME = "kraken-monitor"
SETTLED_AFTER_MS = 30_000  # the start-up heap is frozen again this long after the first read


def _application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    # Set before any QSettings() is created so layout and settings land in the app's own file.
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationDisplayName("Kraken Monitor")
    return app


def _apply_look(app: QApplication, theme: str = "system") -> None:
    try:
        from kraken_monitor.ui import resources

        resources.apply_theme(app, theme)
        app.setWindowIcon(resources.app_icon())
    except Exception as exc:  # a broken asset must not stop the monitor from showing risk
        log.warning("theme/icon not applied: %s: %s", type(exc).__name__, exc)


def _install_controllers(window, config: MonitorConfig):
    """Hook the dialogs/popups controller (ui/actions.py) into the window's actions."""
    from kraken_monitor.ui import actions

    window.actions_controller = actions.install(window, config)
    return window.actions_controller


def _save_screenshot(window, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        log.error("could not save screenshot to %s", path)
    else:
        log.info("screenshot saved to %s", path)


class _AfterFirstPaint(QObject):
    """Runs callbacks once, queued after the window's first paint (children paint in the same flush).

    A QTimer.singleShot(0) set before show() fires BEFORE the first paint; work started there (the
    poll thread's imports hold the GIL) delayed the window by ~40 ms (benchmarks/run.py startup_ms).
    """

    def __init__(self, parent: QObject, callbacks: list):
        super().__init__(parent)
        self.callbacks = callbacks

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint:
            self.fire()
        return False

    def fire(self) -> None:
        callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            QTimer.singleShot(0, callback)


def run_gui(config: MonitorConfig, screenshot: Path | None = None, exit_after: float | None = None) -> int:
    """Run the desktop monitor; with `exit_after` seconds, grab the window to `screenshot` and quit."""
    from kraken_monitor.storage.instance_lock import InstanceLock, JournalInUse

    try:
        lock = InstanceLock(config.journal_path()).acquire()  # held until the process ends
    except JournalInUse as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except OSError as exc:  # the journal's own error will show in the window
        log.error("instance lock unavailable: %s", exc)
        lock = None
    app = _application()
    from kraken_monitor.worker.main_thread_gc import MainThreadGarbageCollector

    collector = MainThreadGarbageCollector(app)  # before any thread starts: cycles die in this thread
    _apply_look(app, config.theme)
    from kraken_monitor.ui.main_window import MainWindow

    # The chart (pyqtgraph + numpy, ~200 ms of imports) is built right after the first paint.
    window = MainWindow(config.mode, defer_chart=True)
    window.set_api_url(config.api_url)
    if screenshot is not None:
        window.resize(1400, 860)  # reproducible screenshots, whatever layout was saved
    from kraken_monitor.ui.session import MonitorSession

    # Owns the poll threads (spot, and futures beside it), their connections and the journal lock.
    session = MonitorSession(window, config, lock=lock, futures=True)
    after_paint: list = []
    probe = os.environ.get("KRAKEN_MONITOR_STARTUP_PROBE")  # benchmarks/run.py startup_ms
    if probe:
        after_paint.append(lambda: Path(probe).write_text(repr(time.time())))

    def start_monitor() -> None:
        # After the first paint: dialogs controller (imports every dialog), then the worker, which
        # imports the journal and exchange and loads markets in its own thread.
        if session.actions is None:
            session.set_actions(_install_controllers(window, config))
        session.start()

    after_paint.append(start_monitor)
    # After the worker has started: its markets load in its thread while this one builds the chart,
    # which replays whatever history/snapshots arrived before it existed.
    after_paint.append(window.build_chart_later)
    # Everything built so far (Qt wrappers, pyqtgraph, ccxt's tables) lives as long as the app: move
    # it out of the collector's generations, or each full collection walks it (a 20-30 ms pause
    # that lands on a price tick now and then; benchmarks/ tick_to_screen p99).
    after_paint.append(gc.freeze)

    def freeze_after_first_read(_snapshot: object) -> None:
        window.snapshot_shown.disconnect(freeze_after_first_read)
        collector.freeze_start_up()  # the worker's start-up (markets, history) is in the heap now
        # and what followed it (candles, the futures venue's markets, the first journal pages).
        QTimer.singleShot(SETTLED_AFTER_MS, collector.freeze_start_up)

    window.snapshot_shown.connect(freeze_after_first_read)
    first_paint = _AfterFirstPaint(window, after_paint)
    window.installEventFilter(first_paint)
    window.show()
    # Monitoring must start even if the window is never painted (e.g. started minimised).
    QTimer.singleShot(1000, first_paint.fire)
    if exit_after is not None:

        def finish() -> None:
            if screenshot is not None:
                window.build_chart_later()  # already built unless the window was never painted
                _save_screenshot(window, Path(screenshot))
            window.close()  # stops the worker and saves the layout
            app.quit()

        QTimer.singleShot(int(exit_after * 1000), finish)
    code = app.exec()
    session.stop()  # also gives back the lock of the journal in use now (Settings may have changed the mode)
    collector.stop()
    return int(code)
