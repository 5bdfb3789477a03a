"""Idle cost of the GUI (issue 17.7): columns measured only when what they show changes shape, candles built
once but the last; every shortcut checked against the full computation it skips."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTableView

from kraken_monitor.testing import builders as S
from kraken_monitor.ui.chart import ChartWidget
from kraken_monitor.ui.chart_candles import CandleItem
from kraken_monitor.ui.positions_columns import Column
from kraken_monitor.ui.positions_view import _digits_interchangeable
from kraken_monitor.worker.candle_sync import CANDLES_KEY, CandleSet


def _shown_window(make_window, qtbot):
    window = make_window()
    window.resize(1400, 860)
    window.show()
    qtbot.waitExposed(window)
    return window


def _count_measures(view, monkeypatch) -> list[int]:
    measured: list[int] = []
    real = view.sizeHintForColumn

    def counting(column: int) -> int:
        measured.append(column)
        return real(column)

    monkeypatch.setattr(view, "sizeHintForColumn", counting)
    return measured


def test_same_shape_numbers_need_the_same_width_in_this_font_and_style(qtbot):
    # What the shortcut relies on, asked of Qt itself: a plain table in the same font sizes a column of
    # 67,123.4 exactly like one of 98,760.1 (every digit as 0: 00,000.0), and -1,234.56 like -9,870.01.
    table = QTableView()
    qtbot.addWidget(table)
    assert _digits_interchangeable(table.font())
    widths = []
    for text in ("67,123.4", "98,760.1", "-1,234.56", "-9,870.01", "in 25 min", "in 38 min"):
        model = QStandardItemModel(1, 1)
        model.setItem(0, 0, QStandardItem(text))
        table.setModel(model)
        widths.append(table.sizeHintForColumn(0))
    assert widths[0] == widths[1] and widths[2] == widths[3] and widths[4] == widths[5], widths
    assert widths[2] > widths[0]  # a longer shape is wider: the check is not vacuous


def test_a_column_is_measured_again_only_when_its_text_changes_shape(make_window, qtbot, monkeypatch):
    window = _shown_window(make_window, qtbot)
    view, model = window.positions_view, window.positions_model
    window.show_snapshot(S.snapshot())
    view.widen_to_fit()  # the first look measures every column
    measured = _count_measures(view, monkeypatch)
    assert view.widen_to_fit() == [] and measured == []  # nothing changed: nothing measured

    # BTC 64,250.3 -> 64,251.8 (S.ticked: +1.5): its price cell keeps its shape (00,000.0); the P&L cells move.
    before = model.data(model.index(0, Column.PRICE))
    window.show_snapshot(S.ticked())
    after = model.data(model.index(0, Column.PRICE))
    assert before != after and before.translate(str.maketrans("123456789", "0" * 9)) == \
        after.translate(str.maketrans("123456789", "0" * 9))
    view.widen_to_fit()
    assert Column.PRICE not in measured and Column.PAIR not in measured  # same shapes: no measuring
    measured.clear()

    # BTC at 164,250.3: one more digit in the price (and the P&L) column: measured, and wide enough after.
    prices = dict(S.PRICES)
    prices[S.BTC] = Decimal("164250.3")
    window.show_snapshot(S.snapshot(prices=prices))
    view.widen_to_fit()
    assert Column.PRICE in measured
    assert view.columnWidth(Column.PRICE) >= view.sizeHintForColumn(Column.PRICE)
    measured.clear()

    view.setColumnWidth(Column.SIZE, 20)  # narrowed by hand: measured again although its texts did not change
    assert Column.SIZE in view.widen_to_fit() and Column.SIZE in measured


def _painted(chart: ChartWidget):
    chart.repaint()
    return chart.grab().toImage()


def test_candles_reuse_their_shapes_when_only_the_last_moves_and_paint_the_same(qtbot):
    def chart_with(rows) -> ChartWidget:
        chart = ChartWidget()
        qtbot.addWidget(chart)
        chart.resize(900, 500)
        snap = S.snapshot()
        chart.show_position(next(pf for pf in snap.positions if pf.position.pair == S.BTC), snap)
        chart.set_history({CANDLES_KEY: CandleSet(S.BTC, "1h", rows)})
        chart.show()
        qtbot.waitExposed(chart)
        return chart

    n, hour = 200, 3600.0
    ts = (S.NOW.timestamp() // hour - n + 1) * hour + np.arange(n) * hour
    close = 60000 + 300 * np.sin(np.arange(n) / 7)  # up and down candles
    rows = np.column_stack([ts, close - 40, close + 90, close - 90, close, np.ones(n)])
    chart = chart_with(rows)
    item: CandleItem = chart.candle_item
    _painted(chart)
    shapes = item._shapes
    assert shapes is not None and len(shapes[1][0][0]) + len(shapes[1][1][0]) == n - 1  # all but the last

    item.merge_price(float(ts[-1]) + 60, 60150.0)  # a live tick inside the last candle
    moved = _painted(chart)
    assert item._shapes is shapes  # the 199 others were not rebuilt
    # The same candles drawn from scratch (a new chart, nothing cached) paint the same pixels.
    fresh = chart_with(item.rows.copy())
    assert _painted(fresh) == moved
