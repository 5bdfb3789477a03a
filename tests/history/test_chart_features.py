"""Chart (issue 18): candles from the worker, live ticks in the current candle, the pair picker, range
presets, a title that follows a partial close, an isolated position's own margin level, stale shading,
the crosshair readout; and end to end, the demo's candles through the real worker into the window."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
from PySide6.QtCore import QPointF, QSettings

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import MarginMode
from kraken_monitor.testing import builders as S
from kraken_monitor.text import chart as text
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui.chart import ChartWidget
from kraken_monitor.ui.chart_candles import decimate
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.candle_sync import CANDLES_KEY, CandleSet
from kraken_monitor.worker.runner import MonitorThread

H = 3600.0


def _chart(qtbot) -> ChartWidget:
    chart = ChartWidget()
    qtbot.addWidget(chart)
    chart.resize(900, 500)
    return chart


def _rows(n: int, start: float, step: float = H) -> np.ndarray:
    ts = start + np.arange(n) * step
    close = 60000 + np.arange(n) * 10.0
    return np.column_stack([ts, close - 5, close + 20, close - 20, close, np.ones(n)])


def test_decimate_keeps_every_extreme():
    rows = np.array([[0, 10, 12, 9, 11, 1], [60, 11, 15, 10, 14, 2], [120, 14, 14, 5, 6, 3], [180, 6, 7, 6, 7, 4.0]])
    # Two groups: (first open, highest high, lowest low, last close, summed volume) of rows 0-1 and 2-3.
    assert decimate(rows, 2).tolist() == [[0, 10, 15, 9, 14, 3], [120, 14, 14, 5, 7, 7]]
    assert decimate(rows, 10) is rows


def test_candles_from_the_worker_are_drawn_and_a_live_tick_moves_the_current_one(qtbot):
    chart = _chart(qtbot)
    snap = S.snapshot()
    btc = next(pf for pf in snap.positions if pf.position.pair == S.BTC)
    asked = []
    chart.candles_wanted.connect(lambda pair, tf: asked.append((pair, tf)))
    chart.show_position(btc, snap)
    assert asked == [(S.BTC, "1h")]  # the default timeframe
    now = snap.as_of.timestamp()
    start = (now // H - 9) * H  # ten hourly candles, the last one holding `now`
    chart.set_history({CANDLES_KEY: CandleSet(S.BTC, "1h", _rows(10, start))})
    assert len(chart.candle_item.rows) == 10 and not chart.price_curve.isVisible()
    chart.set_history({CANDLES_KEY: CandleSet(S.ETH, "1h", _rows(3, start))})  # another pair's: ignored
    assert len(chart.candle_item.rows) == 10
    tick = S.ticked(step="500")  # BTC 64250.3 + 500 = 64750.3, above the last candle's high of 60110
    chart.append_snapshot(tick)
    last = chart.candle_item.rows[-1]
    assert (last[2], last[4]) == (64750.3, 64750.3) and len(chart.candle_item.rows) == 10
    chart.controls.candles_button.setChecked(False)  # line mode: the monitor's own price line
    assert chart.price_curve.isVisible() and not chart.candle_item.isVisible()


def test_pair_picker_lists_held_and_watched_pairs_and_asks_for_the_chosen_one(qtbot):
    chart = _chart(qtbot)
    snap = S.snapshot()
    chart.append_snapshot(snap)
    box = chart.controls.pair_box
    assert [box.itemText(i) for i in range(box.count())] == sorted(set(snap.tickers) | {S.BTC, S.ETH, S.XRP})
    asked = []
    chart.candles_wanted.connect(lambda pair, tf: asked.append((pair, tf)))
    box.setCurrentText(S.ETH)
    assert chart.selected_pair == S.ETH and asked[-1] == (S.ETH, "1h")
    assert chart.price_plot.titleLabel.text == text.WATCHED.format(pair=S.ETH)
    chart.controls.range_buttons[604_800].click()  # "7d": the 4 h timeframe suits a week
    assert asked[-1] == (S.ETH, "4h") and chart.range_s == 604_800


def test_a_range_preset_shows_that_much_time_up_to_now(qtbot):
    chart = _chart(qtbot)
    snap = S.snapshot()
    chart.show_position(snap.positions[0], snap)
    now = snap.as_of.timestamp()
    chart.set_history({S.BTC: (np.arange(now - 10 * 86400, now + 1, 60.0), np.full(14401, 60000.0))})
    chart.controls.range_buttons[14_400].click()  # 4h
    (x_lo, x_hi), _ = chart.price_plot.getViewBox().viewRange()
    assert abs(x_lo - (now - 14_400)) < 1 and x_hi > now


def test_the_title_follows_a_partial_close(qtbot):
    chart = _chart(qtbot)
    snap = S.snapshot()
    btc = next(pf for pf in snap.positions if pf.position.pair == S.BTC)
    chart.show_position(btc, snap)
    rules = snap.pair_rules[S.BTC]
    assert fmt.fmt_volume(Decimal("0.5"), rules) in chart.price_plot.titleLabel.text
    p = btc.position
    # A quarter closed: 0.5 -> 0.375 remaining (cost scaled to the remaining volume, see Position).
    closed = replace(p, volume_closed=Decimal("0.125"), cost=p.cost * Decimal("0.75"), margin=p.margin * Decimal("0.75"))
    after = S.snapshot(positions=(closed, *(pf.position for pf in snap.positions[1:])))
    chart.append_snapshot(after)
    assert fmt.fmt_volume(Decimal("0.375"), rules) in chart.price_plot.titleLabel.text


def test_the_margin_pane_shows_an_isolated_positions_own_level(qtbot):
    chart = _chart(qtbot)
    snap = S.snapshot_of(S.paper_exchange())
    eth = next(pf for pf in snap.positions if pf.position.margin_mode is MarginMode.ISOLATED)
    assert eth.margin_level is not None and snap.account.margin_level is not None
    chart.append_snapshot(snap)
    chart.show_position(eth, snap)
    _, levels = chart.margin_curve.getData()
    assert levels[-1] == float(eth.margin_level) != float(snap.account.margin_level)
    cross = next(pf for pf in snap.positions if pf.position.margin_mode is MarginMode.CROSS)
    chart.show_position(cross, snap)
    _, levels = chart.margin_curve.getData()
    assert levels[-1] == float(snap.account.margin_level)


def test_stale_periods_are_shaded(qtbot):
    chart = _chart(qtbot)
    chart.append_snapshot(S.snapshot())
    assert chart.stale_regions == []
    t1 = S.NOW.replace(minute=5)
    chart.append_snapshot(S.snapshot(stale=True, now=t1))
    chart.append_snapshot(S.snapshot(stale=True, now=t1.replace(minute=7)))
    chart.append_snapshot(S.snapshot(now=t1.replace(minute=8)))
    (region,) = chart.stale_regions
    assert region.getRegion() == (t1.timestamp(), t1.replace(minute=7).timestamp())


def test_the_crosshair_reads_out_time_and_price(qtbot):
    chart = _chart(qtbot)
    snap = S.snapshot()
    chart.show_position(snap.positions[0], snap)
    chart.append_snapshot(snap)
    chart.show()
    qtbot.waitExposed(chart)
    vb = chart.price_plot.getViewBox()
    center = vb.sceneBoundingRect().center()
    chart._on_mouse_moved(center)
    point = vb.mapSceneToView(QPointF(center))
    assert chart.crosshair_v.isVisible()
    assert chart.controls.readout.text() == text.readout(point.x(), point.y(), snap.pair_rules[S.BTC])


def test_the_demo_window_draws_candles_from_the_worker_and_keeps_them_in_the_journal(qtbot, tmp_path):
    config = MonitorConfig(mode="demo", db_path=tmp_path / "demo.sqlite3", price_interval_s=0.2,
                           account_interval_s=0.5, sound_enabled=False)
    window = MainWindow("demo", settings=QSettings(str(tmp_path / "l.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    monitor = MonitorThread(config)
    MonitorSession(window, config).attach(monitor)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: window.positions_model.rowCount() > 0, timeout=20_000)
        window.chart.controls.pair_box.setCurrentText(S.BTC)
        # A month of seeded hourly candles (720) plus the live one, on the first launch.
        qtbot.waitUntil(lambda: len(window.chart.candle_item.rows) > 700, timeout=20_000)
    finally:
        assert monitor.stop()
    from kraken_monitor.storage.candles import load_candles
    from kraken_monitor.storage.history_queries import open_read_only

    conn = open_read_only(config.db_path)
    try:
        # Kept for the next start: every candle drawn except, perhaps, ticks merged after the last fetch.
        assert len(load_candles(conn, S.BTC, "1h")) >= 721
    finally:
        conn.close()
