"""Regenerates the README screenshots from the real app: demo mode, real workers, scripted crash.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py

Writes docs/screenshot-main.png (the main window as the app starts: spot margin and Kraken Futures,
prices streamed from the demo market) and docs/screenshot-popup.png (the critical popup a scripted crash
raises, in a second session). Uses a throw-away data directory and settings.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HOME = tempfile.mkdtemp(prefix="kraken-monitor-screens-")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["KRAKEN_MONITOR_HOME"] = HOME
os.environ["XDG_CONFIG_HOME"] = os.path.join(HOME, "config")

from PySide6.QtWidgets import QApplication  # noqa: E402

from kraken_monitor.config import MonitorConfig  # noqa: E402
from kraken_monitor.domain.models import Risk  # noqa: E402
from kraken_monitor.ui import actions  # noqa: E402
from kraken_monitor.ui.app import _application, _apply_look  # noqa: E402
from kraken_monitor.ui.main_window import MainWindow  # noqa: E402
from kraken_monitor.ui.messages import AlertPopup, Messages  # noqa: E402
from kraken_monitor.ui.session import MonitorSession  # noqa: E402

DOCS = Path(__file__).resolve().parent


def _spin(seconds: float, until=lambda: False) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        if until():
            return True
        time.sleep(0.01)
    return until()


def _session(window: MainWindow, config: MonitorConfig) -> MonitorSession:
    session = MonitorSession(window, config, actions.install(window, config), futures=True)
    session.start()
    return session


def _main_window(app: QApplication) -> bool:
    """The window as a trader first sees it: both venues read, prices pushed by the demo market."""
    config = MonitorConfig(mode="demo", prices="stream", sound_enabled=False)
    window = MainWindow("demo")
    window.resize(1400, 860)
    window.show()
    session = _session(window, config)
    try:
        futures_shown = lambda: window.futures_bar.isVisible() and window.positions_model.rowCount() > 0  # noqa: E731
        if not _spin(60, futures_shown):
            print("no futures book within 60 s", file=sys.stderr)
            return False
        _spin(6)  # a few pushed prices: ages read "0 s ago", the chart has its live candle
        window.grab().save(str(DOCS / "screenshot-main.png"))
        return True
    finally:
        session.stop()
        window.close()


def _crash_popup(app: QApplication) -> bool:
    config = MonitorConfig(
        mode="demo", price_interval_s=0.25, account_interval_s=0.25, demo_speed=10.0,
        demo_scenario="crash", sound_enabled=False, db_path=Path(HOME) / "crash.sqlite3",
    )  # fmt: skip
    messages = Messages(sound_enabled=False)
    window = MainWindow("demo")
    window.resize(1400, 860)
    window.show()
    session = _session(window, config)

    def critical_popup() -> AlertPopup | None:
        for widget in app.topLevelWidgets():
            alert = getattr(widget, "alert", None)
            if isinstance(widget, AlertPopup) and widget.isVisible() and alert.key == "account" and alert.level >= Risk.CRITICAL:
                return widget
        return None

    try:
        if not _spin(120, lambda: critical_popup() is not None):
            print("no critical popup within 120 s", file=sys.stderr)
            return False
        _spin(0.5)
        critical_popup().grab().save(str(DOCS / "screenshot-popup.png"))
        return True
    finally:
        session.stop()
        messages.close_all_popups()
        window.close()


def main() -> int:
    app = _application()
    _apply_look(app)
    if not (_main_window(app) and _crash_popup(app)):
        return 1
    print(f"wrote {DOCS / 'screenshot-main.png'} and {DOCS / 'screenshot-popup.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
