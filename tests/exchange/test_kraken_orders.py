"""Protective orders through real ccxt to the local Kraken server: the AddOrder bodies, OpenOrders, cancel, amend."""

from decimal import Decimal

import pytest

from kraken_monitor.domain.orders import OrderSide, OrderSpec, OrderType, TriggerSignal
from kraken_monitor.exchange.errors import Rejected
from kraken_monitor.testing.kraken_sim import KrakenApiError

D = Decimal


@pytest.fixture
def long_btc(server, kraken):
    """A 5x long of 0.5 BTC opened at 60,000 with BTC/USD at 60,000."""
    server.set_balance(D("50000"))
    server.set_prices({"BTC/USD": D("60000")})
    return server.add_position("BTC/USD", "long", D("0.5"), D("60000"), leverage=5)


def spec(position_id, kind, **kwargs):
    fields = {"position_id": position_id, "pair": "BTC/USD", "type": kind, "side": OrderSide.SELL,
              "volume": D("0.5")} | kwargs
    return OrderSpec(**fields)


def last_add_order(server):
    return server.requests_to("AddOrder")[-1]


def test_stop_loss_sends_stop_loss_with_price_reduce_only_and_leverage(server, kraken, long_btc):
    result = kraken.place_order(spec(long_btc, OrderType.STOP_LOSS, trigger_price=D("55000")))
    body = last_add_order(server)
    assert (body["ordertype"], body["type"], body["price"]) == ("stop-loss", "sell", "55000")
    assert body["reduce_only"] == "true" and body["leverage"] == "5" and body["volume"] == "0.5"
    assert "triggerPrice" not in body and "price2" not in body and "trigger" not in body
    orders = kraken.fetch_account().orders
    assert [o.id for o in orders] == [result.order_id]
    order = orders[0]
    assert (order.type, order.side, order.volume, order.trigger_price) == (
        OrderType.STOP_LOSS, OrderSide.SELL, D("0.5"), D("55000"))
    assert order.margin and order.leverage == D(5)
    # The server, like Kraken's OpenOrders here, leaves reduce_only out: known False, to be inferred later.
    assert not order.reduce_only_known and not order.reduce_only


def test_stop_loss_limit_and_take_profit_limit_carry_price2(server, kraken, long_btc):
    kraken.place_order(spec(long_btc, OrderType.STOP_LOSS_LIMIT, trigger_price=D("55000"), limit_price=D("54900")))
    body = last_add_order(server)
    assert (body["ordertype"], body["price"], body["price2"]) == ("stop-loss-limit", "55000", "54900")
    kraken.place_order(spec(long_btc, OrderType.TAKE_PROFIT_LIMIT, trigger_price=D("70000"), limit_price=D("69900"),
                            trigger=TriggerSignal.INDEX))
    body = last_add_order(server)
    assert (body["ordertype"], body["price"], body["price2"], body["trigger"]) == (
        "take-profit-limit", "70000", "69900", "index")
    orders = {o.type: o for o in kraken.fetch_account().orders}
    assert orders[OrderType.STOP_LOSS_LIMIT].limit_price == D("54900")
    take = orders[OrderType.TAKE_PROFIT_LIMIT]
    assert (take.trigger_price, take.limit_price, take.trigger) == (D("70000"), D("69900"), TriggerSignal.INDEX)


def test_take_profit_market(server, kraken, long_btc):
    kraken.place_order(spec(long_btc, OrderType.TAKE_PROFIT, trigger_price=D("70000")))
    body = last_add_order(server)
    assert (body["ordertype"], body["price"], body["reduce_only"]) == ("take-profit", "70000", "true")


def test_trailing_amount_sends_a_plus_offset_and_the_server_follows_the_price(server, kraken, long_btc):
    kraken.place_order(spec(long_btc, OrderType.TRAILING_STOP, trailing_offset=D("500")))
    body = last_add_order(server)
    assert (body["ordertype"], body["price"], body["trigger"]) == ("trailing-stop", "+500", "last")
    order = kraken.fetch_account().orders[0]
    assert (order.trailing_offset, order.trailing_percent) == (D("500"), False)
    assert order.trigger_price == D("59500")  # 60,000 - 500
    server.set_prices({"BTC/USD": D("61000")})  # the stop follows up: 61,000 - 500
    assert kraken.fetch_account().orders[0].trigger_price == D("60500")
    server.set_prices({"BTC/USD": D("60800")})  # and never back down
    assert kraken.fetch_account().orders[0].trigger_price == D("60500")


def test_trailing_percent_goes_as_json_because_urlencoded_percent_is_refused(server, kraken, long_btc):
    kraken.place_order(spec(long_btc, OrderType.TRAILING_STOP, trailing_offset=D("2"), trailing_percent=True))
    body = last_add_order(server)
    assert (body["ordertype"], body["price"]) == ("trailing-stop", "+2%")
    order = kraken.fetch_account().orders[0]
    assert (order.trailing_offset, order.trailing_percent) == (D("2"), True)
    # The server took it, so the body was JSON: the same offset form-encoded (as older ccxt sent it) is refused.
    with pytest.raises(KrakenApiError, match="EOrder:Invalid price"):
        server.sim.add_order({"pair": "XXBTZUSD", "type": "sell", "ordertype": "trailing-stop", "volume": "0.5",
                              "price": "+2%", "leverage": "5", "reduce_only": "true"}, json_body=False)


def test_trailing_stop_limit_sends_offset_and_limit_offset(server, kraken, long_btc):
    kraken.place_order(spec(long_btc, OrderType.TRAILING_STOP_LIMIT, trailing_offset=D("500"), limit_price=D("50")))
    body = last_add_order(server)
    assert (body["ordertype"], body["price"], body["price2"]) == ("trailing-stop-limit", "+500", "-50")
    order = kraken.fetch_account().orders[0]
    assert (order.trailing_offset, order.limit_price) == (D("500"), D("50"))


def test_pitfalls_ccxt_would_fall_into(server, kraken, long_btc):
    kraken.load_pair_rules()
    # type='stop-loss' with a positional price: ccxt drops the price, Kraken refuses.
    with pytest.raises(Exception, match=r"EGeneral:Invalid arguments:price"):
        kraken._private.create_order("BTC/USD", "stop-loss", "sell", "0.5", "55000", {"leverage": 5})
    # reduce_only on an order without leverage.
    with pytest.raises(Exception, match="reduce_only only valid for leveraged orders"):
        kraken._private.create_order("BTC/USD", "market", "sell", "0.5", None,
                                     {"stopLossPrice": "55000", "reduceOnly": True})
    # triggerPrice is not mapped for Kraken spot: a plain market order goes out (our client never sends it).
    bodies = [b for b in server.requests_to("AddOrder")]
    kraken.place_order(spec(long_btc, OrderType.STOP_LOSS, trigger_price=D("55000")))
    assert all("triggerPrice" not in b for b in server.requests_to("AddOrder")[len(bodies):])


def test_a_mark_trigger_or_a_volume_above_the_position_is_refused_before_sending(server, kraken, long_btc):
    before = len(server.requests_to("AddOrder"))
    with pytest.raises(Rejected, match="last trade or the index"):
        kraken.place_order(spec(long_btc, OrderType.STOP_LOSS, trigger_price=D("55000"), trigger=TriggerSignal.MARK))
    with pytest.raises(Rejected, match="only 0.5"):
        kraken.place_order(spec(long_btc, OrderType.STOP_LOSS, trigger_price=D("55000"), volume=D("0.6")))
    assert len(server.requests_to("AddOrder")) == before


def test_cancel_removes_it_and_an_unknown_order_is_kraken_s_error(server, kraken, long_btc):
    placed = kraken.place_order(spec(long_btc, OrderType.STOP_LOSS, trigger_price=D("55000")))
    kraken.cancel_order(placed.order_id, "BTC/USD")
    assert server.requests_to("CancelOrder")[-1]["txid"] == placed.order_id
    assert kraken.fetch_account().orders == ()
    with pytest.raises(Rejected, match="EOrder:Unknown order"):
        kraken.cancel_order(placed.order_id, "BTC/USD")


def test_modify_amends_in_place_when_only_the_trigger_moves(server, kraken, long_btc):
    placed = kraken.place_order(spec(long_btc, OrderType.STOP_LOSS, trigger_price=D("55000")))
    result = kraken.modify_order(placed.order_id, spec(long_btc, OrderType.STOP_LOSS, trigger_price=D("56000"),
                                                       volume=D("0.4")))
    assert result.order_id == placed.order_id
    amend = server.requests_to("AmendOrder")[-1]
    assert (amend["txid"], amend["trigger_price"], amend["order_qty"]) == (placed.order_id, "56000", "0.4")
    order = kraken.fetch_account().orders[0]
    assert (order.id, order.trigger_price, order.volume) == (placed.order_id, D("56000"), D("0.4"))


def test_modify_to_another_type_cancels_and_places(server, kraken, long_btc):
    placed = kraken.place_order(spec(long_btc, OrderType.STOP_LOSS, trigger_price=D("55000")))
    result = kraken.modify_order(placed.order_id, spec(long_btc, OrderType.TRAILING_STOP, trailing_offset=D("800")))
    assert result.order_id != placed.order_id
    assert server.requests_to("CancelOrder")[-1]["txid"] == placed.order_id
    assert [o.type for o in kraken.fetch_account().orders] == [OrderType.TRAILING_STOP]


def test_a_triggered_stop_closes_the_position_at_its_trigger(server, kraken, long_btc):
    kraken.place_order(spec(long_btc, OrderType.STOP_LOSS, trigger_price=D("55000"), volume=D("0.2")))
    server.set_prices({"BTC/USD": D("54990")})
    state = kraken.fetch_account()
    assert state.orders == ()
    assert state.positions[0].remaining_volume == D("0.3")  # 0.5 - 0.2 sold by the stop
    assert server.sim.book.fills[-1][1] == D("55000")


def test_open_orders_failure_fails_the_account_read(server, kraken, long_btc):
    server.inject_fault("OpenOrders", "kraken_error", error="EService:Unavailable")
    with pytest.raises(Exception, match="unavailable|Unavailable"):
        kraken.fetch_account()
