"""Spot-margin and Kraken Futures positions in the one table: their own figures, a dash where spot-only, account filter."""

from decimal import Decimal

from PySide6.QtCore import QSettings, Qt

from kraken_monitor.domain.models import Risk
from kraken_monitor.testing import builders as S
from kraken_monitor.testing.futures_books import futures_book
from kraken_monitor.text.numbers import DASH
from kraken_monitor.ui.account_filter import SETTINGS_KEY, AccountFilter
from kraken_monitor.ui.positions_model import Column, PositionsModel
from kraken_monitor.ui.positions_view import PositionsView

D = Decimal


def _row(model, pair):
    for row in range(model.rowCount()):
        if model.index(row, Column.PAIR).data().startswith(pair):
            return row
    raise AssertionError(f"{pair} not in the table")


def _cell(model, pair, column, role=Qt.ItemDataRole.DisplayRole):
    return model.index(_row(model, pair), column).data(role)


def test_spot_and_futures_rows_in_one_table_each_naming_its_account(qtmodeltester):
    model = PositionsModel()
    model.set_snapshot(S.snapshot())
    spot_rows = model.rowCount()
    model.set_futures_book(futures_book())
    qtmodeltester.check(model)
    assert model.rowCount() == spot_rows + 2
    accounts = {model.index(r, Column.ACCOUNT).data() for r in range(model.rowCount())}
    assert accounts == {"spot margin demo", "futures demo"}
    assert model.accounts() == ("spot margin demo", "futures demo")
    # FIFO order: the spot book first, then futures as Kraken lists them
    assert model.index(spot_rows, Column.PAIR).data() == "BTC/USD:USD \u00b7 isolated"
    assert model.index(spot_rows + 1, Column.PAIR).data() == "ETH/USD:USD \u00b7 cross"


def test_futures_rows_show_their_own_figures_and_a_dash_where_a_column_is_spot_only():
    model = PositionsModel()
    model.set_snapshot(S.snapshot())
    model.set_futures_book(futures_book())
    btc = "BTC/USD:USD"
    # Mark 52000 on a 0.5 tick: one place. Allocated 1 x 50000 / 5 = 10000; P&L 1 x (52000 - 50000) = +2000;
    # P&L % of the allocated margin 2000 / 10000 = +20 %; funding -12.5 paid shows as a 12.50 cost;
    # net 2000 - 12.5 = +1987.50. Liquidation 40000 / 0.99 = 40404.04 -> 40404.0 on the tick's one place, ours.
    assert _cell(model, btc, Column.PRICE) == "52,000.0"
    assert _cell(model, btc, Column.LEVERAGE) == "5.00x"
    assert _cell(model, btc, Column.USED_MARGIN) == "10,000.00"
    assert _cell(model, btc, Column.PNL) == "+2,000.00"
    assert _cell(model, btc, Column.PNL_PCT) == "+20.00 %"
    assert _cell(model, btc, Column.FEES) == "12.50"
    assert _cell(model, btc, Column.NET_PNL) == "+1,987.50"
    assert _cell(model, btc, Column.LIQUIDATION_PRICE) == "40,404.0 (est.)"
    assert "estimate" in _cell(model, btc, Column.LIQUIDATION_PRICE, Qt.ItemDataRole.ToolTipRole).lower()
    # distance (52000 - 40404.04) / 52000 = 22.30 %: watch
    assert _cell(model, btc, Column.DISTANCE_TO_LIQUIDATION) == "22.30 %"
    assert _cell(model, btc, Column.RISK) == Risk.WATCH.label
    for column in (Column.COST, Column.BREAK_EVEN, Column.MARGIN_CALL_PRICE, Column.NEXT_ROLLOVER):
        assert _cell(model, btc, column) == DASH  # spot-margin notions: never a 0 that looks safe
    eth = "ETH/USD:USD"
    # Cross: no leverage or margin of its own, so no P&L %; P&L 2 x (3100 - 3000) = +200, funding +1.25
    # credited reads as a -1.25 cost, net 200 + 1.25 = +201.25; prices on a 0.01 tick: two places.
    assert _cell(model, eth, Column.LEVERAGE) == "cross"
    assert (_cell(model, eth, Column.USED_MARGIN), _cell(model, eth, Column.PNL_PCT)) == (DASH, DASH)
    assert _cell(model, eth, Column.FEES) == "-1.25"
    assert _cell(model, eth, Column.NET_PNL) == "+201.25"
    assert _cell(model, eth, Column.ENTRY) == "3,100.00"


def test_sorting_by_account_and_by_a_figure_mixes_both_venues_on_raw_values():
    model = PositionsModel()
    model.set_snapshot(S.snapshot())
    model.set_futures_book(futures_book())
    model.sort(Column.ACCOUNT, Qt.SortOrder.AscendingOrder)
    names = [model.index(r, Column.ACCOUNT).data() for r in range(model.rowCount())]
    assert names == sorted(names) and names[0] == "futures demo"
    model.sort(Column.NET_PNL, Qt.SortOrder.DescendingOrder)
    # +1,987.50 on the futures BTC row is the largest net P&L in the demo snapshot plus this book
    top = model.position_at(0)
    values = [model.index(r, Column.NET_PNL).data(Qt.ItemDataRole.UserRole) for r in range(model.rowCount())]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=True)
    assert top.position.id == "futures:iso-btc"


def test_the_account_filter_shows_one_account_and_is_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "filter.ini"), QSettings.Format.IniFormat)
    model = PositionsModel()
    chooser = AccountFilter(settings)
    qtbot.addWidget(chooser)
    chooser.changed.connect(model.set_account_filter)
    model.set_snapshot(S.snapshot())
    model.set_futures_book(futures_book())
    chooser.set_accounts(model.accounts())
    assert [chooser.combo.itemText(i) for i in range(chooser.combo.count())] == [
        "All accounts", "spot margin demo", "futures demo"]
    chooser.select("futures demo")
    assert model.rowCount() == 2
    assert {model.index(r, Column.ACCOUNT).data() for r in range(2)} == {"futures demo"}
    model.set_snapshot(S.snapshot())  # a spot tick does not bring spot rows back
    assert model.rowCount() == 2
    assert settings.value(SETTINGS_KEY) == "futures demo"
    again = AccountFilter(settings)  # the next start: the same choice before the futures account is read
    qtbot.addWidget(again)
    assert again.current() == "futures demo"
    chooser.select(None)
    assert model.rowCount() == len(S.snapshot().positions) + 2


def test_a_stale_futures_read_keeps_its_rows_unknown_and_leaves_the_spot_rows_alone(qtbot):
    model = PositionsModel()
    view = PositionsView(model)
    qtbot.addWidget(view)
    model.set_snapshot(S.snapshot())
    model.set_futures_book(futures_book())
    view.select_position("futures:iso-btc")
    model.set_futures_book(futures_book(stale=True))
    assert _cell(model, "BTC/USD:USD", Column.RISK) == Risk.UNKNOWN.label
    assert "openpositions missing" in _cell(model, "BTC/USD:USD", Column.RISK, Qt.ItemDataRole.ToolTipRole)
    spot = S.snapshot().positions[0]
    assert _cell(model, spot.position.pair, Column.RISK) == Risk(spot.risk).label  # spot is as fresh as before
    assert view.selected_position_id() == "futures:iso-btc"  # the selection survives the stale read
    model.set_futures_book(futures_book())
    assert _cell(model, "BTC/USD:USD", Column.RISK) == Risk.WATCH.label



def test_futures_rows_read_a_dash_in_the_protective_order_columns_not_unprotected():
    model = PositionsModel()
    model.set_snapshot(S.snapshot())
    model.set_futures_book(futures_book())
    btc = "BTC/USD:USD"
    for column in (Column.STOP_LOSS, Column.TAKE_PROFIT, Column.PROTECTION):
        assert _cell(model, btc, column) == DASH  # this book's orders were not read: unknown, never "unprotected"
        assert "not read" in _cell(model, btc, column, Qt.ItemDataRole.ToolTipRole)
    model.sort(Column.STOP_LOSS, Qt.SortOrder.AscendingOrder)  # no value: the futures rows sort last
    assert model.position_at(model.rowCount() - 1).position.id.startswith("futures:")


def test_a_new_risk_repaints_the_whole_row_up_to_the_account_column(qtbot):
    model = PositionsModel()
    first = S.snapshot()
    model.set_snapshot(first)
    model.set_futures_book(futures_book())
    pid = first.positions[0].position.id
    other = Risk.CRITICAL if first.positions[0].risk != Risk.CRITICAL else Risk.OK
    with qtbot.waitSignal(model.dataChanged) as changed:
        model.set_snapshot(S.snapshot(risks={pid: other}))
    top_left, bottom_right = changed.args[0], changed.args[1]
    assert (top_left.column(), bottom_right.column()) == (0, Column.ACCOUNT)  # Account is the last column
    assert top_left.row() <= model.row_of(pid) <= bottom_right.row()
