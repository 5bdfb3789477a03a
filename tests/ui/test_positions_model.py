"""PositionsModel: modeltester, dataChanged on ticks, resets on row changes, stale = unknown, pair precision."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush

from kraken_monitor.domain.models import Risk
from kraken_monitor.testing import builders as S
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui.positions_columns import FIRST_LIQUIDATED_TIP, Column
from kraken_monitor.ui.positions_model import PositionsModel
from kraken_monitor.ui.positions_view import PositionsView

D = Decimal


def _text(model, row, col):
    return model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole)


def test_modeltester_passes_through_several_snapshots(qtmodeltester):
    model = PositionsModel()
    qtmodeltester.check(model)
    for snap in (
        S.snapshot(),
        S.ticked(),
        S.snapshot(positions=S.default_positions()[:2]),
        S.snapshot(stale=True),
        S.snapshot(positions=()),
        S.snapshot(positions=tuple(reversed(S.default_positions()))),
    ):
        model.set_snapshot(snap)
        qtmodeltester.check(model)
    assert model.rowCount() == 3


def test_price_tick_emits_one_ranged_datachanged_and_keeps_selection(qtbot):
    model = PositionsModel()
    view = PositionsView(model)
    qtbot.addWidget(view)
    model.set_snapshot(S.snapshot())
    assert view.select_position("TXB-2")
    resets, changes = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda tl, br, roles: changes.append((tl.row(), tl.column(), br.row(), br.column())))
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        model.set_snapshot(S.ticked(step="10"))
    assert resets == []
    # Smallest covering range: BTC moved, so the BTC row and the cross ETH row's account-wide figures;
    # the XRP row and the static columns (pair ... entry, rollover, risk) are left alone.
    assert changes == [(0, Column.PRICE, 1, Column.DISTANCE_TO_LIQUIDATION)]
    assert view.selected_position_id() == "TXB-2"
    assert _text(model, 0, Column.PRICE) == "64,260.3"


def test_tick_ranges_cover_clock_staleness_and_nothing(qtbot):
    from dataclasses import replace
    from datetime import timedelta

    model = PositionsModel()
    snap = S.snapshot()
    model.set_snapshot(snap)
    changes = []
    model.dataChanged.connect(lambda tl, br, roles: changes.append((tl.row(), tl.column(), br.row(), br.column())))
    model.set_snapshot(S.snapshot())  # equal figures: nothing to repaint
    assert changes == []
    model.set_snapshot(replace(snap, as_of=snap.as_of + timedelta(minutes=5)))  # rollover countdown moves
    assert changes == [(0, Column.NEXT_ROLLOVER, 2, Column.NEXT_ROLLOVER)]
    model.set_snapshot(S.snapshot(stale=True))  # risk becomes unknown everywhere
    assert changes[-1] == (0, 0, 2, len(Column) - 1)


def _painted_view(qtbot):
    """A shown view on a first snapshot, recording the region of every paint after that."""
    regions = []

    class Recording(PositionsView):
        def paintEvent(self, event):  # noqa: N802
            regions.append(event.region())
            super().paintEvent(event)

    model = PositionsModel()
    view = Recording(model)
    qtbot.addWidget(view)
    view.resize(1800, 300)
    model.set_snapshot(S.snapshot())
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(20)
    regions.clear()
    return model, view, regions


def test_view_repaints_only_cells_whose_text_changed(qtbot):
    model, view, regions = _painted_view(qtbot)
    model.set_snapshot(S.ticked(step="10"))
    qtbot.waitUntil(lambda: bool(regions), timeout=1000)
    painted = regions[0]

    def cell(row, col):
        return view.visualRect(model.index(row, col)).center()

    assert painted.contains(cell(0, Column.PRICE)) and painted.contains(cell(0, Column.PNL))
    assert not painted.contains(cell(0, Column.PAIR)) and not painted.contains(cell(0, Column.ENTRY))
    assert not painted.contains(cell(2, Column.PRICE))  # XRP row: nothing of it moved
    assert _text(model, 0, Column.PRICE) == "64,260.3"


def test_row_changes_remove_insert_or_reset(qtbot):
    model = PositionsModel()
    view = PositionsView(model)
    qtbot.addWidget(view)
    model.set_snapshot(S.snapshot())
    view.select_position("TXC-3")
    with qtbot.waitSignal(model.rowsRemoved, timeout=1000):
        model.set_snapshot(S.snapshot(positions=S.default_positions()[1:]))  # oldest closed
    assert model.rowCount() == 2
    assert view.selected_position_id() == "TXC-3"
    with qtbot.waitSignal(model.modelReset, timeout=1000):
        model.set_snapshot(S.snapshot(positions=tuple(reversed(S.default_positions()))))
    assert [model.position_at(r).position.id for r in range(3)] == ["TXC-3", "TXB-2", "TXA-1"]
    assert view.selected_position_id() == "TXC-3"  # restored by id after the reset


def test_stale_snapshot_shows_unknown_risk_and_hatched_rows():
    model = PositionsModel()
    model.set_snapshot(S.snapshot(risks={"TXA-1": Risk.OK}))
    ok_background = model.data(model.index(0, Column.PAIR), Qt.ItemDataRole.BackgroundRole)
    assert _text(model, 0, Column.RISK) == "ok"
    model.set_snapshot(S.snapshot(stale=True, risks={"TXA-1": Risk.OK}))
    for row in range(model.rowCount()):
        assert _text(model, row, Column.RISK) == "unknown"
        brush = model.data(model.index(row, Column.PRICE), Qt.ItemDataRole.BackgroundRole)
        assert isinstance(brush, QBrush) and brush.style() != Qt.BrushStyle.NoBrush
        assert brush != ok_background
    tip = model.data(model.index(0, Column.RISK), Qt.ItemDataRole.ToolTipRole)
    assert "stale" in tip and "connection refused" in tip


def test_risk_colours_rows():
    model = PositionsModel()
    model.set_snapshot(S.snapshot(risks={"TXB-2": Risk.CRITICAL}))
    assert model.data(model.index(0, 0), Qt.ItemDataRole.BackgroundRole) is None  # ok: calm
    critical = model.data(model.index(1, 0), Qt.ItemDataRole.BackgroundRole)
    assert isinstance(critical, QBrush)
    assert model.data(model.index(1, 0), Qt.ItemDataRole.ForegroundRole) is not None


def test_numbers_follow_pair_precision_exactly():
    prices = {"BTC/USD": D("64250.35"), "ETH/USD": D("3120.456"), "XRP/USD": D("0.612345")}
    model = PositionsModel()
    model.set_snapshot(S.snapshot(prices=prices))
    assert _text(model, 0, Column.PRICE) == "64,250.4"  # 1 dp, half-even on the Decimal
    assert _text(model, 1, Column.PRICE) == "3,120.46"
    assert _text(model, 2, Column.PRICE) == "0.61234"  # XRP 5 dp; half-even keeps the even 4
    assert _text(model, 2, Column.ENTRY) == "0.58000"
    assert _text(model, 2, Column.SIZE) == "12,000.00000000"
    assert _text(model, 0, Column.COST) == "30,000.00"
    assert _text(model, 0, Column.LEVERAGE) == "5.00x"
    assert _text(model, 1, Column.SIDE) == "short"
    assert model.data(model.index(0, Column.PRICE), Qt.ItemDataRole.UserRole) == D("64250.35")


def test_formatting_never_goes_through_float():
    huge = D("12345678901234567.891")
    assert fmt.fmt_decimal(huge, 2) == "12,345,678,901,234,567.89"
    assert fmt.fmt_decimal(D("0.1") + D("0.2"), 1) == "0.3"
    assert fmt.fmt_decimal(D("2.5"), 0) == "2"  # half-even
    assert fmt.fmt_money(D("-0.001")) == "0.00"  # no "-0.00"
    assert fmt.fmt_money(D("12.5"), signed=True) == "+12.50"
    assert fmt.fmt_pct(None) == fmt.DASH
    assert fmt.fmt_decimal(D("1E+3"), 2) == "1,000.00"


def test_first_liquidated_badge_and_tooltip():
    model = PositionsModel()
    model.set_snapshot(S.snapshot())
    assert "1st" in _text(model, 0, Column.PAIR)
    assert model.data(model.index(0, Column.PAIR), Qt.ItemDataRole.ToolTipRole) == FIRST_LIQUIDATED_TIP
    assert "1st" not in _text(model, 1, Column.PAIR)


def test_sorting_uses_raw_decimals_and_ticks_do_not_resort(qtbot):
    model = PositionsModel()
    view = PositionsView(model)
    qtbot.addWidget(view)
    model.set_snapshot(S.snapshot())
    view.sortByColumn(Column.PNL, Qt.SortOrder.AscendingOrder)
    proxy = model  # the model sorts itself (no proxy)
    order = [proxy.data(proxy.index(r, Column.PAIR)).split()[0] for r in range(3)]
    assert order == ["ETH/USD", "XRP/USD", "BTC/USD"]  # -481.80 < +388.08 < +2,125.15 (not text order)
    # BTC crashes below the others' P&L: a tick must not move rows under the cursor.
    prices = dict(S.PRICES, **{"BTC/USD": D("50000")})
    model.set_snapshot(S.snapshot(prices=prices))
    assert [proxy.data(proxy.index(r, Column.PAIR)).split()[0] for r in range(3)] == order
    view.sortByColumn(Column.PNL, Qt.SortOrder.AscendingOrder)  # the user clicks again: re-sorted
    assert proxy.data(proxy.index(0, Column.PAIR)).split()[0] == "BTC/USD"


def _ids(model):
    return [model.position_at(r).position.id for r in range(model.rowCount())]


def test_model_sorts_itself_selection_follows_and_missing_values_sort_last(qtbot, qtmodeltester):
    model = PositionsModel()
    view = PositionsView(model)
    qtbot.addWidget(view)
    model.set_snapshot(S.snapshot())
    assert view.model() is model  # no proxy between the view and the model
    view.select_position("TXB-2")
    # XRP long has no liquidation price ("–"): last in both directions, never on top.
    view.sortByColumn(Column.LIQUIDATION_PRICE, Qt.SortOrder.DescendingOrder)
    assert _ids(model)[-1] == "TXC-3"
    view.sortByColumn(Column.LIQUIDATION_PRICE, Qt.SortOrder.AscendingOrder)
    assert _ids(model)[-1] == "TXC-3"
    view.sortByColumn(Column.PNL, Qt.SortOrder.DescendingOrder)
    assert _ids(model) == ["TXA-1", "TXC-3", "TXB-2"]  # +2,125.15 > +388.08 > -481.80
    assert view.selected_position_id() == "TXB-2"  # persistent indexes moved with the row
    assert view.selectionModel().selectedRows()[0].row() == model.row_of("TXB-2") == 2
    qtmodeltester.check(model)
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # back to the exchange's FIFO order
    assert _ids(model) == ["TXA-1", "TXB-2", "TXC-3"]


def test_opened_position_lands_in_its_sorted_place_and_ticks_keep_order(qtbot):
    model = PositionsModel()
    view = PositionsView(model)
    qtbot.addWidget(view)
    model.set_snapshot(S.snapshot(positions=S.default_positions()[:2]))
    view.sortByColumn(Column.PNL, Qt.SortOrder.AscendingOrder)
    view.select_position("TXA-1")
    with qtbot.waitSignal(model.rowsInserted, timeout=1000):
        model.set_snapshot(S.snapshot())
    assert _ids(model) == ["TXB-2", "TXC-3", "TXA-1"]
    assert view.selected_position_id() == "TXA-1"
    changes = []
    model.dataChanged.connect(lambda tl, br, roles: changes.append((tl.row(), br.row())))
    model.set_snapshot(S.ticked(step="10"))
    assert changes == [(0, 2)] and _ids(model) == ["TXB-2", "TXC-3", "TXA-1"]
    assert _text(model, 2, Column.PRICE) == "64,260.3"  # the row shows its own position's new price


def test_painted_cells_match_data(qtbot):
    from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

    model = PositionsModel()
    model.set_snapshot(S.snapshot(risks={"TXB-2": Risk.CRITICAL}))
    delegate = QStyledItemDelegate()
    for row, col in ((0, Column.PRICE), (1, Column.PNL), (1, Column.PAIR), (2, Column.RISK)):
        option = QStyleOptionViewItem()
        delegate.initStyleOption(option, model.index(row, col))  # goes through multiData, as painting does
        assert option.text == _text(model, row, col)
        background = model.data(model.index(row, col), Qt.ItemDataRole.BackgroundRole)
        assert option.backgroundBrush == (background or QBrush())
    assert option.displayAlignment & Qt.AlignmentFlag.AlignLeft


def test_view_repaints_a_whole_row_when_its_risk_colour_changes(qtbot):
    model, view, regions = _painted_view(qtbot)
    model.set_snapshot(S.snapshot(risks={"TXC-3": Risk.CRITICAL}))
    qtbot.waitUntil(lambda: bool(regions), timeout=1000)
    painted = regions[0]
    for col in (Column.PAIR, Column.SIZE, Column.PRICE, Column.RISK):  # background of every cell
        assert painted.contains(view.visualRect(model.index(2, col)).center())
    assert not painted.contains(view.visualRect(model.index(0, Column.PAIR)).center())


def test_after_a_scroll_qt_repaints_the_range_once_then_only_changed_cells_again(qtbot):
    model, view, regions = _painted_view(qtbot)
    view.resize(700, 300)  # narrower than the columns: the view scrolls sideways
    qtbot.wait(20)

    def cell(row, col):
        return view.visualRect(model.index(row, col)).center()

    def shown_unchanged(before, after):
        # ETH row cells in the tick's range (price ... distance) whose text the BTC tick leaves alone
        return [c for c in Column if Column.PRICE <= c <= Column.DISTANCE_TO_LIQUIDATION
                and view.viewport().rect().contains(cell(1, c)) and before[c] == after[c]]

    bar = view.horizontalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)  # the visible window changes; no paint before the tick
    before = {c: _text(model, 1, c) for c in Column}
    regions.clear()
    model.set_snapshot(S.ticked(step="10"))  # what the cells show is not remembered: Qt repaints the range
    after = {c: _text(model, 1, c) for c in Column}
    unchanged = shown_unchanged(before, after)
    assert unchanged  # e.g. the ETH row's own price and P&L
    qtbot.waitUntil(lambda: bool(regions), timeout=1000)
    assert any(regions[-1].contains(cell(1, c)) for c in unchanged)
    qtbot.wait(20)
    regions.clear()
    model.set_snapshot(S.ticked(step="20"))  # that paint took the memory again: only changed cells now
    unchanged = shown_unchanged(after, {c: _text(model, 1, c) for c in Column})
    assert unchanged
    qtbot.waitUntil(lambda: bool(regions), timeout=1000)
    assert not any(regions[-1].contains(cell(1, c)) for c in unchanged)
    assert regions[-1].contains(cell(0, Column.PRICE)) or not view.viewport().rect().contains(cell(0, Column.PRICE))


def test_net_pnl_cell_tooltip_breaks_the_net_into_its_fees():
    from kraken_monitor.domain.costs import TAKER_FEE_RATE

    model = PositionsModel()
    snap = S.snapshot()
    model.set_snapshot(snap)
    pf = model.position_at(0)
    cur = pf.account_currency
    # Net P&L = P&L - fees so far - closing all of it at market at the 0.40 % taker rate.
    assert pf.net_pnl == pf.unrealized_pnl - pf.fees - pf.valuation * TAKER_FEE_RATE
    tip = model.data(model.index(0, Column.NET_PNL), Qt.ItemDataRole.ToolTipRole)
    lines = tip.splitlines()
    assert lines[0] == f"Net P&L {fmt.fmt_money(pf.net_pnl, cur, signed=True)} ="
    assert lines[1] == f"  Unrealised P&L {fmt.fmt_money(pf.unrealized_pnl, cur, signed=True)}"
    assert lines[-1] == (f"  Closing fee, est. at 0.40 % taker "
                         f"{fmt.fmt_money(-pf.valuation * TAKER_FEE_RATE, cur, signed=True)}")
    assert len(lines) == 6  # total, P&L, trading fee, opening fee, rollovers, closing fee


def test_cost_column_is_in_the_account_currency_its_header_names():
    # An ETH/BTC long of 2 ETH at 0.05 BTC in a USD account: its opening cost is 2 x 0.05 = 0.1 BTC, which at
    # BTC/USD 60,000 is 6,000.00 USD. The header says "Cost (USD)"; the raw 0.1 BTC would read "0.10" there.
    eth_btc = S.pair_rules("ETH/BTC", 5, 8)
    rules = {**S.RULES, "ETH/BTC": eth_btc}
    prices = {"ETH/BTC": D("0.05"), S.BTC: D("60000")}
    state = S.account_state("20000", S.position("EB-1", "ETH/BTC", vol="2", entry="0.05", lev=2))
    snap = S.engine_snapshot(state, prices, rules, S.NOW)
    model = PositionsModel()
    model.set_snapshot(snap)
    assert model.headerData(Column.COST, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) == "Cost (USD)"
    assert _text(model, 0, Column.COST) == "6,000.00"
