"""Chart built after the first paint: placeholder first, nothing heavy imported, the feed replayed into it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.testing import builders as S
from kraken_monitor.testing.fakes import FakeMonitor
from kraken_monitor.ui import main_window as mw
from kraken_monitor.ui.session import MonitorSession


@pytest.fixture
def deferred(qtbot, layout_settings):
    window = mw.MainWindow("demo", settings=layout_settings, clock=lambda: S.NOW, defer_chart=True)
    qtbot.addWidget(window)
    monitor = FakeMonitor()
    MonitorSession(window, MonitorConfig()).attach(monitor)
    window.show()
    return window, monitor


def test_window_starts_with_a_placeholder_where_the_chart_goes(deferred):
    window, _monitor = deferred
    assert not window.chart_ready()
    assert window.splitter.widget(1) is window.chart_placeholder
    assert "Loading chart" in window.chart_placeholder.text()


def test_feed_that_arrived_before_the_chart_is_replayed_into_it(deferred):
    window, monitor = deferred
    snap = S.snapshot()
    monitor.worker.snapshot_ready.emit(snap)
    ts = np.arange(10, dtype=np.float64) + S.NOW.timestamp() - 100
    monitor.worker.history_ready.emit({"BTC/USD": (ts, np.full(10, 64000.0)), "margin": (ts, np.full(10, 150.0))})
    window.positions_view.select_position("TXB-2")
    assert window.positions_model.rowCount() == 3  # the table did not wait for the chart
    assert not window.chart_ready()
    sizes = window.splitter.sizes()

    chart = window.ensure_chart()
    assert window.chart_ready() and window.chart is chart and window.ensure_chart() is chart
    assert chart.parentWidget() is window.splitter.widget(1)  # the chart area: control bar + chart
    assert window.splitter.sizes() == sizes  # swapped in place: the trader's proportions are kept
    assert len(chart.buffer("BTC/USD")) == 11  # 10 history + the live point after it
    assert chart.selected_pair == "ETH/USD"
    assert chart.visible_line_values()["liquidation"] == float(snap.positions[1].liquidation_price)
    later = S.snapshot(prices={**S.snapshot().prices(), "BTC/USD": Decimal("65000")}, now=S.NOW + timedelta(seconds=5))
    monitor.worker.snapshot_ready.emit(later)  # from now on: straight into the chart
    assert chart.buffer("BTC/USD").view()[1][-1] == 65000.0


def test_chart_attribute_builds_the_chart_on_demand(deferred):
    window, _monitor = deferred
    chart = window.chart
    assert window.chart_ready()
    assert chart.parentWidget() is window.splitter.widget(1)  # the chart area: control bar + chart


def test_a_chart_that_cannot_be_built_leaves_a_note_and_the_monitor_running(deferred, monkeypatch):
    window, monitor = deferred

    def broken(*_args, **_kwargs):
        raise ImportError("no pyqtgraph")

    monkeypatch.setattr(mw, "ChartWidget", broken, raising=False)
    window.build_chart_later()
    assert not window.chart_ready()
    assert "Chart unavailable" in window.chart_placeholder.text()
    monitor.worker.snapshot_ready.emit(S.snapshot())
    assert window.positions_model.rowCount() == 3


def test_nothing_heavy_is_imported_before_the_first_paint(tmp_path):
    # A fresh interpreter: this test process has long since imported pyqtgraph and numpy.
    script = (
        "import sys, json\n"
        "from kraken_monitor import cli\n"
        "from kraken_monitor.ui import app\n"
        "from kraken_monitor.ui.main_window import MainWindow\n"
        "qt = app._application(); app._apply_look(qt)\n"
        "w = MainWindow('demo', defer_chart=True); w.show(); qt.processEvents()\n"
        "heavy = ('pyqtgraph', 'numpy', 'ccxt', 'sqlite_utils', 'keyring', 'kraken_monitor.worker.runner',\n"
        "         'kraken_monitor.ui.chart', 'kraken_monitor.ui.actions', 'kraken_monitor.ui.settings_dialog')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path), KRAKEN_MONITOR_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
