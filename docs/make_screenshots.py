"""Regenerates the README screenshots from the real app: demo mode, real worker, scripted crash.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py

Writes docs/screenshot-main.png (the main window as the crash deepens) and docs/screenshot-popup.png
(the liquidation popup the crash raises). Uses a throw-away data directory and settings.
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


def main() -> int:
    app = _application()
    _apply_look(app)
    config = MonitorConfig(
        mode="demo", price_interval_s=0.25, account_interval_s=0.25, demo_speed=10.0,
        demo_scenario="crash", sound_enabled=False,
    )  # fmt: skip
    messages = Messages(sound_enabled=False)
    window = MainWindow("demo")
    window.resize(1400, 860)
    controller = actions.install(window, config)
    window.show()
    session = MonitorSession(window, config, controller)
    session.start()

    def critical_popup() -> AlertPopup | None:
        for widget in app.topLevelWidgets():
            alert = getattr(widget, "alert", None)
            if isinstance(widget, AlertPopup) and widget.isVisible() and alert.key == "account" and alert.level >= Risk.CRITICAL:
                return widget
        return None

    try:
        if not _spin(120, lambda: critical_popup() is not None):
            print("no critical popup within 120 s", file=sys.stderr)
            return 1
        _spin(0.5)
        popup = critical_popup()
        popup.grab().save(str(DOCS / "screenshot-popup.png"))
        window.grab().save(str(DOCS / "screenshot-main.png"))
    finally:
        session.stop()
        messages.close_all_popups()
        window.close()
    print(f"wrote {DOCS / 'screenshot-main.png'} and {DOCS / 'screenshot-popup.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
