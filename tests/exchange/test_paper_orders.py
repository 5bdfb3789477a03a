"""Paper protective orders: placed reduce-only, trailing stops follow every price, fills at the trigger with fees."""

from decimal import Decimal

import pytest

from kraken_monitor.domain.orders import OrderSide, OrderSpec, OrderType
from kraken_monitor.exchange.errors import Rejected
from kraken_monitor.exchange.paper import PaperExchange
from kraken_monitor.testing.builders import BTC, paper_exchange

D = Decimal


def btc_long(ex):
    return next(p for p in ex.fetch_account().positions if p.pair == BTC)


def spec(position_id, kind, **kwargs):
    return OrderSpec(**({"position_id": position_id, "pair": BTC, "type": kind, "side": OrderSide.SELL,
                         "volume": D("1")} | kwargs))


def move(ex, price):
    ex.price_source.prices[BTC] = D(price)
    ex.fetch_tickers([BTC])


def test_trailing_stop_follows_up_and_fills_at_its_trigger_with_the_fee():
    ex = paper_exchange()  # 1 BTC long at 20,000 (5x), BTC at 20,000
    pid = btc_long(ex).id
    placed = ex.place_order(spec(pid, OrderType.TRAILING_STOP, trailing_offset=D("500")))
    (order,) = ex.fetch_account().orders
    assert (order.id, order.trigger_price, order.reduce_only, order.position_id) == (
        placed.order_id, D("19500"), True, pid)
    move(ex, "21000")
    assert ex.fetch_account().orders[0].trigger_price == D("20500")  # 21,000 - 500
    move(ex, "20800")
    assert ex.fetch_account().orders[0].trigger_price == D("20500")  # never back down
    ex.drain_events()
    move(ex, "20400")  # through the stop
    state = ex.fetch_account()
    assert state.orders == () and all(p.id != pid for p in state.positions)
    closed = next(e for e in ex.drain_events() if e.kind == "closed")
    # Sold 1 BTC at the 20,500 trigger: +500, minus the 0.40 % fee on 20,500 = 82.
    assert closed.price == D("20500") and closed.amount == D("418")


def test_stop_limit_rests_as_a_limit_once_triggered():
    ex = paper_exchange()
    pid = btc_long(ex).id
    ex.place_order(spec(pid, OrderType.STOP_LOSS_LIMIT, trigger_price=D("19000"), limit_price=D("18900"),
                        volume=D("0.4")))
    move(ex, "18800")  # triggered below its limit: rests as a sell limit at 18,900
    (order,) = ex.fetch_account().orders
    assert (order.type, order.limit_price) == (OrderType.LIMIT, D("18900"))
    move(ex, "18950")
    assert ex.fetch_account().orders == () and btc_long(ex).remaining_volume == D("0.6")


def test_bad_orders_are_refused_and_cancel_modify_and_persistence():
    ex = paper_exchange()
    pid = btc_long(ex).id
    with pytest.raises(Rejected, match="sell stop must trigger below"):
        ex.place_order(spec(pid, OrderType.STOP_LOSS, trigger_price=D("21000")))
    with pytest.raises(Rejected, match="more than the position"):
        ex.place_order(spec(pid, OrderType.STOP_LOSS, trigger_price=D("19000"), volume=D("2")))
    placed = ex.place_order(spec(pid, OrderType.STOP_LOSS, trigger_price=D("19000")))
    ex.modify_order(placed.order_id, spec(pid, OrderType.STOP_LOSS, trigger_price=D("19200")))
    saved = ex.export_state()
    again = PaperExchange(ex.price_source, mode="paper", clock=lambda: ex.now())
    again.import_state(saved)
    assert [(o.id, o.trigger_price) for o in again.fetch_account().orders] == [(placed.order_id, D("19200"))]
    ex.cancel_order(placed.order_id, BTC)
    assert ex.fetch_account().orders == ()
    with pytest.raises(Rejected, match="No open order"):
        ex.cancel_order(placed.order_id, BTC)
