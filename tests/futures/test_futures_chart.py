"""The chart on a Kraken Futures row in a real offscreen window: marks, liquidation and order lines, a dragged
stop confirmed and sent to the futures poller, a stale book marked stale (issue 16 item 4 on futures)."""

import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.exchange.demo_market import DemoMarket
from kraken_monitor.exchange.paper_futures import PaperFuturesExchange
from kraken_monitor.text import futures_chart as words
from kraken_monitor.ui.chart_futures import FUTURES_BANDS
from kraken_monitor.ui.messages import Messages
from kraken_monitor.worker.futures_snapshot import read_futures_book
from tests.futures.test_futures_window import _futures_rows, _select, _session

D = Decimal
BTC = "BTC/USD:USD"
ETH = "ETH/USD:USD"


@pytest.fixture
def messages(monkeypatch):
    """Messages.confirm / error, the one seam: records each question and error; confirm says yes."""
    seen: dict[str, list[str]] = {"asked": [], "errors": []}
    instance = Messages(sound_enabled=False)
    monkeypatch.setattr(instance, "confirm", lambda parent, title, q: seen["asked"].append(q) or True)
    monkeypatch.setattr(instance, "error", lambda parent, title, text: seen["errors"].append(text))
    return seen


def _demo():
    exchanges = []

    def factory():
        exchanges.append(PaperFuturesExchange.demo(DemoMarket(("BTC/USD", "ETH/USD"), seed=7)))
        return exchanges[-1]

    return exchanges, factory


def _drop(chart, key, price):
    """What pyqtgraph does at the end of a drag: the line moved, then sigPositionChangeFinished."""
    line = chart.lines[key]
    line.setValue(float(price))
    line.sigPositionChangeFinished.emit(line)


def test_a_futures_row_draws_its_marks_liquidation_and_stop_and_a_drag_modifies_the_stop(qtbot, tmp_path, messages):
    exchanges, factory = _demo()
    window, session = _session(qtbot, tmp_path, factory)
    try:
        qtbot.waitUntil(lambda: len(_futures_rows(window)) == 2, timeout=5000)
        # The demo's ETH short is isolated at 5x: its liquidation line sits at the row's own liquidation price,
        # labelled as our estimate (the paper account has no WebSocket liquidation_threshold).
        _select(window, ETH)
        chart = window.chart
        eth = window.selected_futures_row()
        state = chart.futures_line_state()
        assert eth.figures.liquidation_price_source == "estimate" and eth.liquidation_price is not None
        assert state["liquidation"][0] == float(eth.liquidation_price)
        assert state["liquidation"][1].startswith(words.LIQUIDATION_ESTIMATE)
        assert state["stop_loss"] is None  # the demo's unprotected short
        # The BTC long (cross) has its stop; no liquidation line where the row has no liquidation price.
        _select(window, BTC)
        row = window.selected_futures_row()
        state = chart.futures_line_state()
        assert state["liquidation"] == (None if row.liquidation_price is None else
                                        (float(row.liquidation_price), state["liquidation"][1]))
        assert state["entry"][0] == float(row.entry_price)
        assert state["margin_call"] is None and state["break_even"] is None  # no margin call on Kraken Futures
        # The demo's stop: 8 % under the first mark, on the mark (domain/futures_paper_orders.demo_orders).
        stop = next(o for o in row.orders if o.type.is_stop)
        assert state["stop_loss"][0] == float(stop.trigger_price)
        assert chart.order_ids["stop_loss"] == stop.id
        # The price curve is the contract's marks, its last point the row's mark.
        ts, values = chart.buffers[BTC].view()
        assert len(ts) >= 1 and values[-1] == float(row.price)
        assert chart.margin_source() is chart.futures_margin
        assert chart.controls.pair_box.currentText() == BTC  # the picker names the contract shown
        assert (chart.liquidation_band.getRegion()[1], chart.call_band.getRegion()[1]) == FUTURES_BANDS  # 100, 140

        # Drag the stop 1 % closer to the mark (still under it: a valid sell stop), confirm, and the paper
        # exchange's resting stop moves there (modify = cancel + place: a new id at the new trigger).
        new = (stop.trigger_price * D("1.01")).quantize(D(1))
        _drop(chart, "stop_loss", new)
        assert chart.futures_line_state()["stop_loss"][0] == float(stop.trigger_price)  # back until Kraken says so
        assert messages["errors"] == [] and len(messages["asked"]) == 1
        question = messages["asked"][0]
        assert question.startswith(f"Modify order {stop.id} on futures demo contract PF_XBTUSD")
        exchange = exchanges[0]
        qtbot.waitUntil(lambda: any(o.trigger_price == new for o in exchange.fetch_open_orders()), timeout=5000)
        assert all(o.id != stop.id for o in exchange.fetch_open_orders())
        qtbot.waitUntil(lambda: chart.futures_line_state()["stop_loss"][0] == float(new), timeout=5000)
    finally:
        session.stop()


def test_a_drag_is_refused_while_the_futures_figures_are_stale(qtbot, tmp_path, messages):
    exchanges, factory = _demo()
    window, session = _session(qtbot, tmp_path, factory)
    try:
        qtbot.waitUntil(lambda: len(_futures_rows(window)) == 2, timeout=5000)
        window.show()  # laid out at its real size (the y range leaves room for the line labels)
        _select(window, ETH)  # the isolated short: it has a liquidation price
        chart = window.chart
        liquidation = chart.futures_line_state()["liquidation"][0]
        session.futures.timer.stop()  # no fresh read comes after the stale one below
        window.show_futures_book(FuturesBook("demo", datetime.now(timezone.utc), None, (), stale=True,
                                             stale_reason="futures read timed out"))
        state = chart.futures_line_state()
        # The last liquidation price stays for reference, never as current: the label says STALE.
        assert state["liquidation"][0] == liquidation and state["liquidation"][1].endswith(words.STALE_SUFFIX)
        assert "STALE: futures read timed out" in chart.price_plot.titleLabel.text
        assert chart.futures_stale_regions and chart.futures_stale_regions[-1].isVisible()
        if os.environ.get("FUTCHART_SHOTS"):  # for the developer to look at
            window.grab().save(os.path.join(os.environ["FUTCHART_SHOTS"], "futures_chart_stale.png"))
        _select(window, BTC)  # the long with the demo's stop: pinned while stale
        assert not chart.lines["stop_loss"].movable
        before = exchanges[0].fetch_open_orders()
        _drop(chart, "stop_loss", D(1000))
        assert messages["asked"] == [] and messages["errors"] == [words.NOT_MOVABLE_STALE]
        assert exchanges[0].fetch_open_orders() == before
    finally:
        session.stop()


def test_a_chart_built_late_is_backfilled_with_the_marks_received(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from kraken_monitor.ui.main_window import MainWindow

    window = MainWindow("demo", settings=QSettings(str(tmp_path / "l.ini"), QSettings.Format.IniFormat),
                        defer_chart=True)
    qtbot.addWidget(window)
    window.watch_futures(True)
    demo = PaperFuturesExchange.demo(DemoMarket(("BTC/USD", "ETH/USD"), seed=7))
    start = datetime.now(timezone.utc)
    marks = []
    for i in range(3):
        demo.fetch_marks()
        book = read_futures_book(demo, AlertThresholds(), start + timedelta(seconds=i))
        marks.append(float(book.positions[0].mark_price))
        window.show_futures_book(book)
    assert not window.chart_ready()
    _select(window, BTC)
    chart = window.chart  # built now, fed the three reads' marks
    ts, values = chart.buffers[BTC].view()
    assert list(values) == marks and np.all(np.diff(ts) == 1.0)
    assert chart.is_futures_selected() and chart.futures_line_state()["stop_loss"] is not None  # its lines too


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1400, 860), (1366, 768)])
def test_screenshots(qtbot, tmp_path, theme, size):
    """Renders of the window with a futures row selected (looked at by the developer; here: they render)."""
    from kraken_monitor.ui.resources import apply_theme

    apply_theme(QApplication.instance(), theme)
    try:
        exchanges, factory = _demo()
        window, session = _session(qtbot, tmp_path, factory)
        try:
            window.resize(*size)
            window.show()
            qtbot.waitUntil(lambda: len(_futures_rows(window)) == 2, timeout=5000)
            out = os.environ.get("FUTCHART_SHOTS") or str(tmp_path)
            for pair in (BTC, ETH):  # the long with its stop; the isolated short with its liquidation
                _select(window, pair)
                qtbot.waitUntil(lambda p=pair: len(window.chart.buffers[p]) >= 15, timeout=10000)
                path = os.path.join(out, f"futures_chart_{pair[:3]}_{theme}_{size[0]}.png")
                assert window.grab().save(path) and os.path.getsize(path) > 20000
        finally:
            session.stop()
    finally:
        apply_theme(QApplication.instance(), "light")





def test_kraken_s_own_liquidation_price_is_labelled_as_kraken_s(qtbot):
    """A liquidation price from Kraken (the WebSocket's liquidation_threshold) reads "(Kraken)", ours "(est.)"."""
    from dataclasses import replace

    from kraken_monitor.ui.chart import ChartWidget
    from kraken_monitor.ui.positions_futures import futures_rows

    demo = PaperFuturesExchange.demo(DemoMarket(("BTC/USD", "ETH/USD"), seed=7))
    book = read_futures_book(demo, AlertThresholds(), datetime.now(timezone.utc))
    eth = next(pf for pf in book.positions if pf.position.pair == ETH)
    kraken = replace(book, positions=(replace(eth, liquidation_price=D("3600.5"), liquidation_price_source="exchange"),))
    chart = ChartWidget()
    qtbot.addWidget(chart)
    chart.append_futures_book(kraken)
    chart.show_futures(futures_rows(kraken, stale=False)[0])
    # 3600.5 on a 0.1-tick contract: one decimal place.
    assert chart.futures_line_state()["liquidation"] == (3600.5, f"{words.LIQUIDATION_KRAKEN} 3,600.5")
    assert chart.futures_line_state()["trailing"] is None


def test_a_drag_is_refused_while_replaying(qtbot, tmp_path, messages):
    exchanges, factory = _demo()
    window, session = _session(qtbot, tmp_path, factory)
    try:
        qtbot.waitUntil(lambda: len(_futures_rows(window)) == 2, timeout=5000)
        _select(window, BTC)
        row = window.selected_futures_row()
        stop = next(o for o in row.orders if o.type.is_stop)
        window.replay.at = datetime.now(timezone.utc)  # a replayed moment on screen
        try:
            window.futures.chart_order_moved(row.position.id, stop.id, stop.trigger_price + 100)
        finally:
            window.replay.at = None
        assert messages["errors"] == [words.NOT_MOVABLE_REPLAY] and messages["asked"] == []
        assert [o.trigger_price for o in exchanges[0].fetch_open_orders()] == [stop.trigger_price]
    finally:
        session.stop()
