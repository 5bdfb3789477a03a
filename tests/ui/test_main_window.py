"""Main window wiring (through the session): worker signals reach the widgets, stale banner, selection -> chart, layout restored."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Alert, Risk
from kraken_monitor.testing import builders as S
from kraken_monitor.testing.fakes import FakeMonitor
from kraken_monitor.ui.alert_log import AlertColumn
from kraken_monitor.ui.positions_model import Column
from kraken_monitor.ui.session import MonitorSession


def _attached(make_window, mode="demo"):
    window = make_window(mode)
    monitor = FakeMonitor()
    MonitorSession(window, MonitorConfig(mode=mode)).attach(monitor)
    window.show()
    return window, monitor


def test_snapshot_reaches_every_widget_and_selects_a_row(make_window, qtbot):
    window, monitor = _attached(make_window)
    with qtbot.waitSignal(window.snapshot_shown, timeout=1000):
        monitor.worker.snapshot_ready.emit(S.snapshot())
    assert window.positions_model.rowCount() == 3
    assert window.account_bar.equity.value.text() == "22,031.43 USD"
    assert window.selected_position_id() == "TXA-1"  # something is always selected
    assert window.chart.selected_pair == "BTC/USD"
    assert window.action_add_margin.isEnabled()
    assert window.status.banner_text() == ""
    assert window.windowTitle().endswith("DEMO")


def test_selecting_a_row_shows_that_position_in_the_chart(make_window):
    window, monitor = _attached(make_window)
    snap = S.snapshot()
    monitor.worker.snapshot_ready.emit(snap)
    window.positions_view.select_position("TXB-2")
    assert window.chart.selected_pair == "ETH/USD"
    assert window.chart.visible_line_values()["liquidation"] == float(snap.positions[1].liquidation_price)
    assert window.selected_position().position.id == "TXB-2"


def test_stale_snapshot_shows_unknown_risk_and_red_banner(make_window, qtbot):
    clock_now = [S.NOW + timedelta(seconds=45)]
    window = make_window(clock=lambda: clock_now[0])
    monitor = FakeMonitor()
    MonitorSession(window, MonitorConfig()).attach(monitor)
    monitor.worker.snapshot_ready.emit(S.snapshot())
    monitor.worker.snapshot_ready.emit(S.snapshot(stale=True))
    model = window.positions_model
    assert model.data(model.index(0, Column.RISK)) == "unknown"
    assert window.status.banner_text().startswith("RISK UNKNOWN: data 45 s old")
    assert "#c62828" in window.status.banner.styleSheet()
    assert window.account_bar.risk_label.text() == "RISK UNKNOWN"
    clock_now[0] += timedelta(seconds=2)  # the banner's age ticks by itself
    qtbot.waitUntil(lambda: "data 47 s old" in window.status.banner_text(), timeout=3000)
    monitor.worker.snapshot_ready.emit(S.snapshot())  # fresh again: banner gone
    assert window.status.banner_text() == ""


def test_history_status_and_alerts_are_wired(make_window):
    window, monitor = _attached(make_window)
    monitor.worker.snapshot_ready.emit(S.snapshot())
    ts = np.arange(10, dtype=np.float64) + S.NOW.timestamp() - 100
    monitor.worker.history_ready.emit({"BTC/USD": (ts, np.full(10, 64000.0)), "margin": (ts, np.full(10, 150.0))})
    assert len(window.chart.buffers["BTC/USD"]) == 11  # 10 history + the live point after it
    monitor.worker.status_changed.emit("retrying in 4 s")
    assert window.status.connection.text() == "retrying in 4 s"
    alert = Alert("pos:TXB-2", Risk.WARNING, "TXB-2", "ETH/USD", None, None, "isolated_distance", S.NOW)
    monitor.worker.alerts_fired.emit((alert,))  # never recorded (id 0): nothing to acknowledge in the worker
    critical = replace(alert, level=Risk.CRITICAL, id=42)
    monitor.worker.alerts_fired.emit((critical,))
    dock = window.alert_dock
    assert dock.model.rowCount() == 2
    assert dock.model.data(dock.model.index(0, 1)) == "critical"  # newest first
    for row in (1, 0):
        dock.table.selectRow(row)
        dock.ack_button.click()
        dock.snooze_button.click()
    assert monitor.worker.acked == [42]
    assert monitor.worker.snoozed == [(42, 900.0)]
    # The row shows what the engine decided, when its updated record comes back (one source of truth).
    assert dock.model.data(dock.model.index(0, AlertColumn.STATE)) == ""
    until = datetime.now(timezone.utc) + timedelta(minutes=15)
    monitor.worker.alerts_changed.emit((replace(critical, snoozed_until=until),))
    assert dock.model.data(dock.model.index(0, AlertColumn.STATE)).startswith("snoozed until")
    assert "(critical and below)" in dock.model.data(dock.model.index(0, AlertColumn.STATE))


def test_alerts_reloaded_from_the_journal_keep_their_state(make_window):
    window, monitor = _attached(make_window)
    alert = Alert("account", Risk.CRITICAL, "TXB-1", "BTC/USD", Decimal("79"), None, "margin_level", S.NOW)
    acked = replace(alert, id=5, acknowledged_at=S.NOW)
    later = replace(alert, id=6, fired_at=S.NOW + timedelta(minutes=1))
    monitor.worker.recent_alerts_ready.emit((later, acked))
    model = window.alert_dock.model
    assert model.rowCount() == 2
    assert [model.row(r).id for r in (0, 1)] == [6, 5]
    assert model.data(model.index(1, AlertColumn.STATE)).startswith("acknowledged") and model.data(model.index(0, AlertColumn.STATE)) == ""
    assert model.data(model.index(0, AlertColumn.SUBJECT)) == "account \u2192 BTC/USD"  # the account's alert; act on BTC/USD
    assert model.data(model.index(0, AlertColumn.SUBJECT), Qt.ItemDataRole.ToolTipRole) == "Position TXB-1 (BTC/USD)"


def test_actions_shortcuts_refresh_and_close_stops_the_worker(make_window):
    window, monitor = _attached(make_window, mode="live")
    assert window.action_refresh.shortcut() == QKeySequence("F5")
    assert window.action_quit.shortcut() == QKeySequence("Ctrl+Q")
    assert window.action_add_margin.shortcut() == QKeySequence("Ctrl+M")
    assert window.action_settings.shortcut() == QKeySequence("Ctrl+,")
    shortcuts = [a.shortcut().toString() for a in window.findChildren(type(window.action_quit)) if not a.shortcut().isEmpty()]
    assert len(shortcuts) == len(set(shortcuts))  # no two actions fight over a key
    assert not window.action_close_position.isEnabled()  # nothing selected yet
    window.action_refresh.trigger()
    assert monitor.worker.polls == 1
    assert "LIVE" in window.windowTitle()
    window.close()
    assert monitor.stops == 1


def test_layout_is_restored_in_a_new_window(make_window):
    first = make_window()
    first.show()
    first.positions_model.set_snapshot(S.snapshot())
    first.resize(790, 580)  # the offscreen screen is 800 x 600: restoreGeometry clamps to it
    saved = first.size()
    first.positions_view.setColumnWidth(Column.PRICE, 233)
    header = first.positions_view.horizontalHeader()
    header.moveSection(header.visualIndex(Column.RISK), 0)
    first.alert_dock.setFloating(False)
    first.alert_dock.hide()
    first.close()
    second = make_window()
    assert second.restored
    second.show()
    assert second.size() == saved
    assert saved.height() == 580  # not the 860 default
    assert second.positions_view.columnWidth(Column.PRICE) == 233
    assert second.positions_view.horizontalHeader().visualIndex(Column.RISK) == 0
    assert second.alert_dock.isHidden()


def test_liquidation_columns_come_right_after_the_price_by_default(make_window):
    window = make_window()
    header = window.positions_view.horizontalHeader()
    price = header.visualIndex(Column.PRICE)
    assert header.visualIndex(Column.DISTANCE_TO_LIQUIDATION) == price + 1
    assert header.visualIndex(Column.LIQUIDATION_PRICE) == price + 2
    assert sorted(header.visualIndex(c) for c in Column) == list(range(len(Column)))


def test_first_window_without_saved_layout_keeps_defaults(make_window):
    window = make_window()
    assert not window.restored
    assert window.alert_dock.isVisibleTo(window)
    assert window.positions_view.model() is window.positions_model  # sorted in the model, no proxy
    window.show_snapshot(replace(S.snapshot(), mode="paper"))
    assert window.account_bar.mode_badge.text() == "PAPER"


def test_auth_failure_is_told_through_messages(make_window, monkeypatch):
    from kraken_monitor.ui.messages import Messages

    shown = []
    monkeypatch.setattr(Messages.instance(), "error", lambda parent, title, text: shown.append((title, text)))
    window, monitor = _attached(make_window)
    monitor.worker.auth_failed.emit("EAPI:Invalid key")
    assert shown and "EAPI:Invalid key" in shown[0][1]
    assert "EAPI:Invalid key" in window.status.connection.text()


def test_run_gui_screenshot_mode_paints_and_exits(tmp_path):
    # A child process: run_gui owns the QApplication's event loop, which must not leak into other tests.
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KRAKEN_MONITOR_HOME=str(tmp_path / "home"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    result = subprocess.run(
        [sys.executable, "-m", "kraken_monitor", "--mode", "demo", "--screenshot", str(out), "--exit-after", "8"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    image = QImage(str(out))
    assert image.width() >= 1000 and image.height() >= 700
    greens = sum(image.pixelColor(x, y).name() == "#2e7d32" for x in range(0, 120, 2) for y in range(40, 130, 2))
    assert greens > 50  # the DEMO badge
    # The worker's first snapshot arrived: the risk badge (top right) is no longer the grey RISK UNKNOWN.
    greys = sum(image.pixelColor(x, y).name() == "#616161" for x in range(1270, 1380, 2) for y in range(62, 108, 2))
    assert greys == 0


def test_non_default_api_url_is_in_the_title_and_status_bar(make_window):
    window = make_window("live")
    window.show()
    window.set_api_url("http://127.0.0.1:8080")
    assert window.windowTitle().endswith("LIVE \u2014 API http://127.0.0.1:8080")
    assert window.status.api_url.isVisible() and window.status.api_url.text() == "API: http://127.0.0.1:8080"
    window.show_snapshot(S.snapshot(mode="live"))  # the title is set again on every snapshot
    assert "API http://127.0.0.1:8080" in window.windowTitle()
    window.set_api_url("https://api.kraken.com")
    assert "API" not in window.windowTitle() and not window.status.api_url.isVisible()
