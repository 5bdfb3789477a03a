"""Chart: float64 buffers, history seeding, per-pair series, risk lines, a million points through setData."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np

from kraken_monitor.testing import builders as S
from kraken_monitor.ui.chart import MIN_X_RANGE_S, ChartWidget, SeriesBuffer


def test_series_buffer_grows_in_chunks_and_stays_sorted_float64():
    buf = SeriesBuffer()
    for i in range(SeriesBuffer.CHUNK + 10):
        buf.append(float(i), float(i) * 2)
    buf.append(5.0, 1.0)  # out of order: dropped, x must stay sorted for clip-to-view
    buf.append(float("nan"), 1.0)
    ts, values = buf.view()
    assert len(buf) == SeriesBuffer.CHUNK + 10
    assert ts.dtype == np.float64 and values.dtype == np.float64
    assert np.all(np.diff(ts) > 0)
    assert values[-1] == 2 * (SeriesBuffer.CHUNK + 9)


def test_series_buffer_caps_by_dropping_oldest():
    buf = SeriesBuffer(max_points=1000)
    for i in range(2500):
        buf.append(float(i), 1.0)
    ts, _ = buf.view()
    assert len(buf) <= 1000
    assert ts[-1] == 2499.0 and np.all(np.diff(ts) == 1.0)


def test_seed_keeps_live_points_newer_than_history():
    buf = SeriesBuffer()
    buf.append(100.0, 1.0)
    buf.append(200.0, 2.0)
    buf.seed(np.array([150.0, 50.0, 10.0]), np.array([9.0, 8.0, 7.0]))
    ts, values = buf.view()
    assert ts.tolist() == [10.0, 50.0, 150.0, 200.0]
    assert values.tolist() == [7.0, 8.0, 9.0, 2.0]


def test_seed_drops_non_finite_points_and_keeps_the_newest_within_the_cap():
    buf = SeriesBuffer(max_points=5)
    buf.append(100.0, 1.0)
    history_ts = np.array([1.0, 2.0, np.nan, 3.0, 4.0, 5.0, 6.0])
    history_values = np.array([1.0, 2.0, 3.0, np.inf, 5.0, 6.0, 7.0])
    buf.seed(history_ts, history_values)
    ts, values = buf.view()
    assert ts.tolist() == [2.0, 4.0, 5.0, 6.0, 100.0]  # newest history that fits + the live point
    assert values.tolist() == [2.0, 5.0, 6.0, 7.0, 1.0]
    buf.append(101.0, 2.0)  # still appendable after a seed that resized the arrays
    assert len(buf) <= 5 and buf.view()[0][-1] == 101.0  # the cap drops the oldest to make room


def test_selected_position_shows_its_pair_and_risk_lines(qtbot):
    chart = ChartWidget()
    qtbot.addWidget(chart)
    snap = S.snapshot()
    chart.append_snapshot(snap)
    eth = snap.positions[1]
    chart.show_position(eth, snap)
    lines = chart.visible_line_values()
    assert lines["entry"] == float(eth.entry_price)
    assert lines["break_even"] == float(eth.break_even_price)
    assert lines["liquidation"] == float(eth.liquidation_price)
    assert lines["margin_call"] == float(eth.margin_call_price)
    assert chart.lines["entry"].label.toPlainText() == "entry 3,000.00"  # ETH price precision: 2 dp
    assert chart.lines["liquidation"].label.toPlainText().startswith("liquidation 6,776.7")
    x, y = chart.price_curve.getData()
    assert y.tolist() == [float(S.PRICES["ETH/USD"])]
    # XRP long has no reachable liquidation price: its line is hidden, not drawn at 0.
    chart.show_position(snap.positions[2], snap)
    assert "liquidation" not in chart.visible_line_values()
    chart.show_position(None)
    assert chart.visible_line_values() == {}


def test_every_pair_is_buffered_and_margin_bands_follow_the_account(qtbot):
    chart = ChartWidget()
    qtbot.addWidget(chart)
    for i in range(5):
        snap = S.ticked(step=str(i))
        snap = replace(snap, as_of=S.NOW + timedelta(seconds=i), prices_as_of=S.NOW + timedelta(seconds=i),
                       account_as_of=S.NOW + timedelta(seconds=i))
        chart.append_snapshot(snap)
    assert set(chart.buffers) == {"BTC/USD", "ETH/USD", "XRP/USD"}
    assert all(len(b) == 5 for b in chart.buffers.values())
    assert len(chart.margin_buffer) == 5
    assert chart.liquidation_band.getRegion() == (0.0, 40.0)
    assert chart.call_band.getRegion() == (40.0, 80.0)
    # A stale snapshot without fresh prices adds nothing (no fake flat line).
    chart.append_snapshot(replace(snap, stale=True, prices_as_of=None, as_of=S.NOW + timedelta(seconds=60)))
    assert len(chart.buffers["BTC/USD"]) == 5


def test_a_million_points_render_through_setdata(qtbot):
    chart = ChartWidget()
    qtbot.addWidget(chart)
    chart.resize(900, 500)
    chart.show()
    n = 1_000_000
    ts = S.NOW.timestamp() - np.arange(n, dtype=np.float64)[::-1]
    prices = 64000.0 + np.cumsum(np.random.default_rng(1).normal(0, 2, n))
    chart.set_history({"BTC/USD": (ts, prices), "margin": (ts, np.full(n, 160.0))})
    snap = S.snapshot()
    chart.append_snapshot(snap)  # same ts as the last history point: dropped as a repeat
    chart.show_position(snap.positions[0], snap)
    x = chart.price_curve.xData  # everything handed over; getData() is the view-clipped, downsampled part
    assert len(x) == n and x.dtype == np.float64
    assert chart.price_plot.getViewBox() is not None
    # The curve is painted: many pixels carry the price-curve colour.
    image = chart.grab().toImage()
    assert chart.visible_line_values()["liquidation"] == float(snap.positions[0].liquidation_price)
    curve_pixels = sum(
        image.pixelColor(px, py).name() == "#1e88e5" for px in range(0, image.width(), 2) for py in range(0, image.height(), 2)
    )
    assert curve_pixels > 100


def test_repeated_snapshots_keep_lines_and_reselecting_restores_them(qtbot):
    chart = ChartWidget()
    qtbot.addWidget(chart)
    snap = S.snapshot()
    chart.append_snapshot(snap)
    eth = snap.positions[1]
    chart.show_position(eth, snap)
    before = chart.visible_line_values()
    chart.append_snapshot(snap)  # same figures: nothing re-set, nothing lost
    assert chart.visible_line_values() == before
    assert chart.lines["entry"].label.toPlainText() == "entry 3,000.00"
    chart.show_position(None)
    chart.show_position(eth, snap)  # same values as before the clear: lines must come back
    assert chart.visible_line_values() == before
    assert chart.lines["entry"].label.toPlainText() == "entry 3,000.00"


def test_ranges_hold_still_between_steps_and_keep_now_and_lines_in_view(qtbot):
    chart = ChartWidget()
    qtbot.addWidget(chart)

    def tick(i, step="0"):
        at = S.NOW + timedelta(seconds=i)
        snap = replace(S.ticked(step=step), as_of=at, prices_as_of=at, account_as_of=at)
        chart.append_snapshot(snap)
        return snap

    snap = tick(0)
    chart.show_position(snap.positions[0], snap)
    vb = chart.price_plot.getViewBox()
    (x_lo, x_hi), (y_lo, y_hi) = vb.viewRange()
    now = S.NOW.timestamp()
    assert x_hi - x_lo >= MIN_X_RANGE_S and x_lo <= now < x_hi  # two minutes, "now" inside
    for value in [*chart.visible_line_values().values(), float(S.PRICES["BTC/USD"])]:
        assert y_lo < value < y_hi
    tick(1, "5")  # inside the view: neither range moves, so the axes are not re-laid out
    assert vb.viewRange() == [[x_lo, x_hi], [y_lo, y_hi]]
    tick(int(x_hi - now) + 1)  # "now" leaves the view: x steps on, still two minutes or more
    (x2_lo, x2_hi), _ = vb.viewRange()
    assert x2_hi > now + int(x_hi - now) + 1 and x2_hi - x2_lo >= MIN_X_RANGE_S
    tick(400, "40000")  # the price jumps far above every line: y follows it
    assert vb.viewRange()[1][1] > float(S.PRICES["BTC/USD"]) + 40000
    # A pan by the trader stops the following; the auto-range button resumes it.
    vb.sigRangeChangedManually.emit([True, True])
    vb.setXRange(0, 10, padding=0)
    tick(500)
    assert vb.viewRange()[0] == [0.0, 10.0]
    vb.enableAutoRange()
    (x3_lo, x3_hi), _ = vb.viewRange()
    assert x3_lo < now + 500 < x3_hi and not any(vb.state["autoRange"])


def test_a_squeezed_price_plot_keeps_its_data_instead_of_a_label_headroom(qtbot):
    from kraken_monitor.ui.chart import MAX_LABEL_SHARE, Y_PAD

    chart = ChartWidget()
    qtbot.addWidget(chart)
    chart.resize(900, 110)  # a laptop screen with every dock open (margin pane folded): price a few pixels tall
    chart.show()
    qtbot.waitExposed(chart)
    snap = S.snapshot()
    chart.append_snapshot(snap)
    chart.show_position(snap.positions[0], snap)
    vb = chart.price_plot.getViewBox()
    assert vb.height() < 2 * 20 + 10  # below two label heights: the case that blew the axis up
    levels = [*chart.visible_line_values().values(), float(S.PRICES["BTC/USD"])]
    lo, hi = min(levels), max(levels)
    _, (y_lo, y_hi) = vb.viewRange()
    # Fitted as lo - pad .. hi + max(pad, headroom), the headroom capped at half the data's height: the shown
    # range is at most (1 + 0.1 + 0.5) times the data's (it was over 40 times on a 768 px screen).
    assert y_lo < lo and hi < y_hi
    assert (y_hi - y_lo) <= (hi - lo) * (1 + Y_PAD + MAX_LABEL_SHARE) * 1.0001


def test_a_short_chart_folds_the_margin_pane_for_the_price_plot(qtbot):
    """At laptop height the 3:1 stretch gave way to the margin pane's axis minimum: price got about half of a
    ~180 px chart. Below SHORT_CHART_PX the margin pane folds (the account bars show the margin level)."""
    from kraken_monitor.ui.chart_panes import SHORT_CHART_PX

    chart = ChartWidget()
    qtbot.addWidget(chart)
    chart.resize(900, SHORT_CHART_PX - 60)
    chart.show()
    qtbot.waitExposed(chart)
    qtbot.waitUntil(lambda: not chart.margin_plot.isVisible())
    assert chart.price_plot.getAxis("bottom").isVisible()  # the dates move to the price plot
    short_price = chart.price_plot.height()
    assert short_price > 0.75 * (SHORT_CHART_PX - 60) - 40  # nearly all of it, less the title
    chart.resize(900, SHORT_CHART_PX + 200)
    qtbot.waitUntil(lambda: chart.margin_plot.isVisible())
    assert not chart.price_plot.getAxis("bottom").isVisible()
    # tall enough: both panes, price about 3/4 (stretch 3:1, the margin pane capped at a quarter)
    assert chart.margin_plot.height() <= (SHORT_CHART_PX + 200) / 4 + 1
