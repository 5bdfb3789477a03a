"""Futures rows' Stop-loss / Take-profit / Protection cells in the one positions table (Kraken Futures openorders)."""

from decimal import Decimal

from PySide6.QtCore import Qt

from kraken_monitor.domain.futures_protection import with_orders
from kraken_monitor.domain.orders import OpenOrder, OrderType, TriggerSignal
from kraken_monitor.testing import builders as S
from kraken_monitor.testing.futures_books import futures_book
from kraken_monitor.ui.positions_model import Column, PositionsModel

D = Decimal


def _cell(model, pair, column, role=Qt.ItemDataRole.DisplayRole):
    row = next(r for r in range(model.rowCount()) if model.position_at(r).position.pair == pair
               and model.position_at(r).position.id.startswith("futures:"))
    return model.index(row, column).data(role)


def _book():
    # BTC long 1 from 50000 at 5x, mark 52000; the stop at 48000 on the mark; ETH short: no orders
    stop = OpenOrder("f-1", "BTC/USD:USD", OrderType.STOP_LOSS, "sell", D(1), D(48000), None, TriggerSignal.MARK, True)
    return with_orders(futures_book(), [stop])


def test_a_futures_stop_shows_its_trigger_distance_and_pnl(qtmodeltester):
    model = PositionsModel()
    model.set_snapshot(S.snapshot())
    model.set_futures_book(_book())
    qtmodeltester.check(model)
    # (52000 - 48000) / 52000 = 7.69 %; the contract's tick 0.5 -> one decimal
    assert _cell(model, "BTC/USD:USD", Column.STOP_LOSS) == "48,000.0 (7.69 %)"
    assert _cell(model, "BTC/USD:USD", Column.PROTECTION) == "ok"
    tip = _cell(model, "BTC/USD:USD", Column.STOP_LOSS, Qt.ItemDataRole.ToolTipRole)
    # 1 x (48000 - 50000) = -2000, funding -12.5, taker fee 48000 x 0.05 % = 24 -> -2036.50
    assert "f-1" in tip and "-2,036.50" in tip
    assert _cell(model, "ETH/USD:USD", Column.PROTECTION) == "no stop-loss"
    assert _cell(model, "ETH/USD:USD", Column.STOP_LOSS) == "\u2013"
