"""Paper / demo futures protective orders: reduce-only, triggered on the mark, filled at the trigger with the taker fee."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures_paper import PaperFuturesBook, PaperFuturesPosition
from kraken_monitor.domain.models import Side
from kraken_monitor.domain.orders import OrderSpec, OrderType, TriggerSignal
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.demo_market import DemoMarket
from kraken_monitor.exchange.errors import Rejected
from kraken_monitor.exchange.paper_futures import PaperFuturesExchange
from kraken_monitor.worker.futures_snapshot import read_futures_book

D = Decimal
BTC, ETH = "BTC/USD:USD", "ETH/USD:USD"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def marks():
    return {BTC: D(60000), ETH: D(3000)}


@pytest.fixture
def paper(marks):
    book = PaperFuturesBook(D(10000), {
        BTC: PaperFuturesPosition(BTC, Side.LONG, D("0.5"), D(58000)),
        ETH: PaperFuturesPosition(ETH, Side.SHORT, D(2), D(3100), D(5)),
    })
    return PaperFuturesExchange(AccountKind.PAPER, lambda: dict(marks), book=book)


def test_a_stop_on_the_mark_fills_before_the_isolated_short_liquidates(paper, marks):
    paper.place_order(OrderSpec(ETH, ETH, OrderType.STOP_LOSS, "buy", D(2), D(3600), trigger=TriggerSignal.MARK))
    before = read_futures_book(paper, AlertThresholds(), NOW)
    eth = before.positions[1]
    # ETH short 5x: allocated 6200 / 5 = 1240, liquidation (6200 + 1240) / (2 x 1.01) = 3683.17; the stop sits before it
    assert eth.liquidation_price.quantize(D("0.01")) == D("3683.17") and eth.stop_loss_price == D(3600)
    assert eth.warnings == ()
    # stop P&L: -2 x (3600 - 3100) = -1000, less the taker fee 2 x 3600 x 0.05 % = 3.6
    assert eth.stop_loss_pnl == D("-1003.6")
    marks[ETH] = D(3650)  # past the stop, short of liquidation
    after = read_futures_book(paper, AlertThresholds(), NOW)
    assert [pf.position.pair for pf in after.positions] == [BTC]  # filled in the same read that saw the mark
    assert paper.fetch_open_orders() == ()
    # collateral 10000 - 1003.6 = 8996.4; equity adds the BTC long's 0.5 x 2000 = 1000
    assert after.account.flex.collateral_value == D("8996.4")
    assert after.account.flex.margin_equity == D("9996.4")


def test_a_trailing_stop_follows_the_mark_and_fills_at_its_stop(paper, marks):
    paper.place_order(OrderSpec(BTC, BTC, OrderType.TRAILING_STOP, "sell", D("0.5"), trigger=TriggerSignal.MARK,
                                trailing_offset=D(1000)))
    assert paper.fetch_open_orders()[0].trigger_price == D(59000)  # 60000 - 1000
    marks[BTC] = D(61000)
    paper.fetch_marks()
    assert paper.fetch_open_orders()[0].trigger_price == D(60000)  # followed up
    marks[BTC] = D(60500)
    paper.fetch_marks()
    assert paper.fetch_open_orders()[0].trigger_price == D(60000)  # never back down
    marks[BTC] = D(59990)
    paper.fetch_marks()
    assert paper.fetch_open_orders() == ()
    flex, positions = paper.fetch_account()
    # 10000 + 0.5 x (60000 - 58000) = 11000, less 0.5 x 60000 x 0.05 % = 15
    assert [p.pair for p in positions] == [ETH] and flex.collateral_value == D(10985)


def test_take_profit_limit_rests_at_its_limit_once_triggered(paper, marks):
    paper.place_order(OrderSpec(BTC, BTC, OrderType.TAKE_PROFIT_LIMIT, "sell", D("0.2"), D(62000), D(62500)))
    marks[BTC] = D(62100)  # triggered, below its limit: rests
    paper.fetch_marks()
    (resting,) = paper.fetch_open_orders()
    assert (resting.type, resting.limit_price) == (OrderType.LIMIT, D(62500))
    marks[BTC] = D(62600)
    paper.fetch_marks()
    _, positions = paper.fetch_account()
    assert positions[0].volume == D("0.3")  # 0.5 - 0.2


def test_refusals_are_typed_and_change_nothing(paper):
    with pytest.raises(Rejected, match="sell order, not a buy"):
        paper.place_order(OrderSpec(BTC, BTC, OrderType.STOP_LOSS, "buy", D("0.5"), D(65000)))
    with pytest.raises(Rejected, match="more than the position"):
        paper.place_order(OrderSpec(BTC, BTC, OrderType.STOP_LOSS, "sell", D(1), D(55000)))
    with pytest.raises(Rejected, match="no trailing-stop-limit"):
        paper.place_order(OrderSpec(BTC, BTC, OrderType.TRAILING_STOP_LIMIT, "sell", D("0.5"),
                                    trailing_offset=D(500), limit_price=D(50)))
    with pytest.raises(Rejected, match="would fire at once"):
        paper.place_order(OrderSpec(BTC, BTC, OrderType.STOP_LOSS, "sell", D("0.5"), D(61000)))
    assert paper.fetch_open_orders() == ()


def test_modify_and_cancel(paper):
    placed = paper.place_order(OrderSpec(BTC, BTC, OrderType.STOP_LOSS, "sell", D("0.5"), D(55000)))
    with pytest.raises(Rejected, match="would fire at once"):  # refused: the old order stays
        paper.modify_order(placed.order_id, OrderSpec(BTC, BTC, OrderType.STOP_LOSS, "sell", D("0.5"), D(61000)))
    assert [o.id for o in paper.fetch_open_orders()] == [placed.order_id]
    moved = paper.modify_order(placed.order_id, OrderSpec(BTC, BTC, OrderType.STOP_LOSS, "sell", D("0.5"), D(56000)))
    assert [o.trigger_price for o in paper.fetch_open_orders()] == [D(56000)]
    paper.cancel_order(moved.order_id, BTC)
    assert paper.fetch_open_orders() == ()
    with pytest.raises(Rejected, match="no longer open"):
        paper.cancel_order(moved.order_id, BTC)


def test_the_demo_book_has_one_protected_position():
    demo = PaperFuturesExchange.demo(DemoMarket(("BTC/USD", "ETH/USD"), seed=7))
    book = read_futures_book(demo, AlertThresholds(), NOW)
    btc, eth = book.positions
    (stop,) = btc.orders
    assert (stop.type, stop.trigger, stop.reduce_only, stop.volume) == (
        OrderType.STOP_LOSS, TriggerSignal.MARK, True, D("0.1"))
    # 8 % under the mark the demo book was made at (this read's: marks are read first)
    assert stop.trigger_price == (btc.mark_price * D("0.92")).quantize(D(1))
    assert btc.warnings == () and eth.warnings == ("unprotected",)


def test_resting_orders_survive_a_save_and_restore(paper, marks):
    """A paper trader's stop is part of the saved account: a restart that kept the positions but dropped the
    orders would leave them unprotected without a word."""
    placed = paper.place_order(OrderSpec(BTC, BTC, OrderType.STOP_LOSS, "sell", D("0.5"), D(55000)))
    paper.place_order(OrderSpec(BTC, BTC, OrderType.TRAILING_STOP, "sell", D("0.5"), trigger=TriggerSignal.MARK,
                                trailing_offset=D(1000)))
    saved = paper.export_state()
    restored = PaperFuturesExchange(AccountKind.PAPER, lambda: dict(marks))
    restored.import_state(saved)
    assert restored.fetch_open_orders() == paper.fetch_open_orders()
    assert restored.fetch_open_orders()[0].id == placed.order_id
    assert restored.fetch_open_orders()[1].trigger_price == D(59000)  # 60000 - 1000, as it stood
    again = restored.place_order(OrderSpec(BTC, BTC, OrderType.TAKE_PROFIT, "sell", D("0.5"), D(65000)))
    assert again.order_id not in {o.id for o in paper.fetch_open_orders()}  # ids keep counting after a restart
    marks[BTC] = D(54000)  # both stops fire in the restored account: the position is closed
    restored.fetch_marks()
    assert [p.pair for p in restored.fetch_account()[1]] == [ETH]


def test_a_damaged_order_in_a_save_is_refused_not_dropped(paper):
    from kraken_monitor.domain.futures_paper import DamagedState

    paper.place_order(OrderSpec(BTC, BTC, OrderType.STOP_LOSS, "sell", D("0.5"), D(55000)))
    saved = paper.export_state()
    saved["orders"][0]["side"] = "sideways"
    with pytest.raises(DamagedState):
        PaperFuturesExchange(AccountKind.PAPER, lambda: {}).import_state(saved)
