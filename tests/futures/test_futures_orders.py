"""Kraken Futures protective orders through ccxt over HTTP to the test server: the bodies sent, refusals, fills."""

from decimal import Decimal

import pytest

from kraken_monitor.domain.orders import OrderSpec, OrderType, TriggerSignal
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import AuthFailed, BadResponse, Rejected
from kraken_monitor.exchange.kraken_futures import KrakenFuturesExchange
from kraken_monitor.testing.futures_server import FuturesTestServer

D = Decimal
BTC = "BTC/USD:USD"


@pytest.fixture
def server():
    with FuturesTestServer() as srv:
        srv.futures.add_position("PF_XBTUSD", "long", D("0.5"), D(58000))
        yield srv


@pytest.fixture
def ex(server):
    exchange = KrakenFuturesExchange(server.url, Credentials(server.api_key, server.api_secret), timeout_s=2.0)
    yield exchange
    exchange.close()


def spec(kind, volume="0.5", trigger=None, limit=None, signal=TriggerSignal.MARK, offset=None, percent=False):
    return OrderSpec("PF_XBTUSD", BTC, kind, "sell", D(volume), None if trigger is None else D(trigger),
                     None if limit is None else D(limit), signal, None if offset is None else D(offset), percent)


def sent(server):
    return server.requests_to("POST sendorder")


def test_stop_loss_is_stp_reduce_only_on_the_chosen_signal(server, ex):
    result = ex.place_order(spec(OrderType.STOP_LOSS, trigger=55000))
    (body,) = sent(server)
    assert body == {"symbol": "PF_XBTUSD", "side": "sell", "size": "0.5", "orderType": "stp", "stopPrice": "55000",
                    "reduceOnly": "true", "triggerSignal": "mark"}
    assert "triggerPrice" not in body and "limitPrice" not in body  # stopLossPrice, never triggerPrice
    (order,) = ex.fetch_open_orders()
    assert (order.id, order.type, order.trigger_price, order.trigger, order.reduce_only) == (
        result.order_id, OrderType.STOP_LOSS, D(55000), TriggerSignal.MARK, True)


def test_take_profit_limit_and_limit_close_bodies(server, ex):
    ex.place_order(spec(OrderType.TAKE_PROFIT_LIMIT, trigger=65000, limit=64900, signal=TriggerSignal.LAST))
    ex.place_order(spec(OrderType.LIMIT, limit=66000))
    tp, limit = sent(server)
    assert (tp["orderType"], tp["stopPrice"], tp["limitPrice"], tp["reduceOnly"], tp["triggerSignal"]) == (
        "take_profit", "65000", "64900", "true", "last")
    assert (limit["orderType"], limit["limitPrice"], limit["reduceOnly"]) == ("lmt", "66000", "true")
    assert "triggerSignal" not in limit and "stopPrice" not in limit
    kinds = [(o.type, o.trigger_price, o.limit_price) for o in ex.fetch_open_orders()]
    assert kinds == [(OrderType.TAKE_PROFIT_LIMIT, D(65000), D(64900)), (OrderType.LIMIT, None, D(66000))]


def test_trailing_stop_goes_as_the_raw_trailing_stop_type(server, ex):
    ex.place_order(spec(OrderType.TRAILING_STOP, volume="0.2", offset=2, percent=True))
    ex.place_order(spec(OrderType.TRAILING_STOP, volume="0.2", offset=1500, signal=TriggerSignal.INDEX))
    pct, amount = sent(server)
    assert (pct["orderType"], pct["trailingStopMaxDeviation"], pct["trailingStopDeviationUnit"], pct["reduceOnly"],
            pct["triggerSignal"]) == ("trailing_stop", "2", "PERCENT", "true", "mark")
    assert (amount["trailingStopMaxDeviation"], amount["trailingStopDeviationUnit"], amount["triggerSignal"]) == (
        "1500", "QUOTE_CURRENCY", "index")
    first, second = ex.fetch_open_orders()
    # mark 60000: 2 % trails 1200 below -> 58800; 1500 below the index (= mark) -> 58500
    assert (first.type, first.trigger_price, first.trailing_offset, first.trailing_percent) == (
        OrderType.TRAILING_STOP, D(58800), D(2), True)
    assert (second.trigger_price, second.trigger, second.trailing_percent) == (D(58500), TriggerSignal.INDEX, False)


def test_a_trailing_stop_limit_is_refused_before_anything_is_sent(server, ex):
    with pytest.raises(Rejected, match="no trailing-stop-limit"):
        ex.place_order(spec(OrderType.TRAILING_STOP_LIMIT, offset=500, limit=50))
    assert sent(server) == []


def test_kraken_refusals_come_back_in_krakens_words(server, ex):
    buy_stop = OrderSpec("PF_XBTUSD", BTC, OrderType.STOP_LOSS, "buy", D("0.5"), D(65000), trigger=TriggerSignal.MARK)
    with pytest.raises(Rejected, match="wouldNotReducePosition"):  # a buy cannot reduce a long
        ex.place_order(buy_stop)
    # A word ccxt does not know: ccxt returns a "rejected" order instead of raising; we must not call it placed.
    server.futures.refuse_next_order = "wouldCauseLiquidation"
    with pytest.raises(Rejected, match="wouldCauseLiquidation"):
        ex.place_order(spec(OrderType.STOP_LOSS, trigger=55000))
    assert ex.fetch_open_orders() == ()


def test_server_validates_raw_arguments_as_kraken_does(server, ex):
    ex.load_contracts()
    base = {"symbol": "PF_XBTUSD", "side": "sell", "size": "0.5", "reduceOnly": "true"}
    import ccxt

    with pytest.raises(ccxt.BadRequest, match="invalidArgument: triggerSignal"):
        ex._ccxt.private_post_sendorder(dict(base, orderType="stp", stopPrice="55000", triggerSignal="x"))
    with pytest.raises(ccxt.BadRequest, match="requiredArgumentMissing"):
        ex._ccxt.private_post_sendorder(dict(base, orderType="stp", triggerSignal="mark"))
    answer = ex._ccxt.private_post_sendorder(dict(base, orderType="stop_market", triggerSignal="mark"))
    assert answer["sendStatus"] == {"status": "invalidOrderType", "receivedTime": answer["serverTime"],
                                    "orderEvents": []}
    answer = ex._ccxt.private_post_sendorder(dict(base, orderType="stp", stopPrice="-1", triggerSignal="mark"))
    assert answer["sendStatus"]["status"] == "invalidPrice"
    # Not reduce-only, 10 BTC: 10 x 60000 x 4 % (the 500k+ tier) = 24000 > available 11000 - 600 = 10400
    big = {"symbol": "PF_XBTUSD", "side": "buy", "size": "10", "orderType": "lmt", "limitPrice": "59000"}
    with pytest.raises(ccxt.InsufficientFunds):  # ccxt raises for this word
        ex._ccxt.create_order(BTC, "limit", "buy", "10", "59000")
    assert ex._ccxt.private_post_sendorder(big)["sendStatus"]["status"] == "insufficientAvailableFunds"


def test_cancel_and_cancel_again(server, ex):
    placed = ex.place_order(spec(OrderType.STOP_LOSS, trigger=55000))
    assert ex.cancel_order(placed.order_id, BTC).description == "cancelled"
    assert server.requests_to("POST cancelorder") == [{"order_id": placed.order_id}]
    assert ex.fetch_open_orders() == ()
    with pytest.raises(Rejected, match="notFound"):
        ex.cancel_order(placed.order_id, BTC)


def test_modify_edits_in_place_or_replaces_when_the_type_changes(server, ex):
    placed = ex.place_order(spec(OrderType.STOP_LOSS, trigger=55000))
    edited = ex.modify_order(placed.order_id, spec(OrderType.STOP_LOSS, volume="0.3", trigger=56000))
    assert edited.order_id == placed.order_id
    assert server.requests_to("POST editorder") == [{"orderId": placed.order_id, "size": "0.3", "stopPrice": "56000"}]
    (order,) = ex.fetch_open_orders()
    assert (order.volume, order.trigger_price) == (D("0.3"), D(56000))
    replaced = ex.modify_order(placed.order_id, spec(OrderType.TAKE_PROFIT, trigger=66000))
    assert replaced.order_id != placed.order_id  # editorder cannot change the type: cancel, then place
    assert [o.type for o in ex.fetch_open_orders()] == [OrderType.TAKE_PROFIT]
    with pytest.raises(Rejected, match="no longer open"):
        ex.modify_order(placed.order_id, spec(OrderType.STOP_LOSS, trigger=55000))


def test_triggers_fire_as_marks_move_and_trailing_follows(server, ex):
    ex.place_order(spec(OrderType.TRAILING_STOP, offset=2, percent=True))
    sim = server.futures
    sim.set_mark("PF_XBTUSD", D(62000))  # best 62000: stop 62000 x 0.98 = 60760
    (order,) = ex.fetch_open_orders()
    assert order.trigger_price == D(60760)
    sim.set_mark("PF_XBTUSD", D(61000))  # above the stop: it stays, the stop does not move back
    assert ex.fetch_open_orders()[0].trigger_price == D(60760)
    sim.set_mark("PF_XBTUSD", D(60700))
    assert ex.fetch_open_orders() == () and sim.orders.fills == [(order.id, D(60760))]
    _, positions = ex.fetch_account()
    assert positions == []
    # 10000 + 0.5 x (60760 - 58000) = 11380, less the 0.05 % taker fee 0.5 x 60760 x 0.0005 = 15.19
    assert sim.collateral["USD"] == D("11364.81")


def test_a_last_trigger_fires_on_the_last_trade_not_the_mark(server, ex):
    ex.place_order(spec(OrderType.STOP_LOSS, volume="0.2", trigger=55000, signal=TriggerSignal.LAST))
    ex.place_order(spec(OrderType.STOP_LOSS, volume="0.3", trigger=55000, signal=TriggerSignal.MARK))
    server.futures.set_mark("PF_XBTUSD", D(56000), last=D(54900))
    (left,) = ex.fetch_open_orders()
    assert left.trigger is TriggerSignal.MARK  # the mark (56000) did not reach 55000
    _, (position,) = ex.fetch_account()
    assert position.volume == D("0.3")  # 0.5 - 0.2 closed by the last-price stop


def test_order_actions_cost_ten_and_need_a_valid_signature(server, ex):
    before = server.cost_in_window()
    ex.place_order(spec(OrderType.STOP_LOSS, trigger=55000))
    assert server.cost_in_window() - before == 10  # sendorder's cost in Kraken's 500 per 10 s budget
    forged = KrakenFuturesExchange(server.url, Credentials(server.api_key, "c2VjcmV0"), timeout_s=2.0)
    try:
        with pytest.raises(AuthFailed):
            forged.place_order(spec(OrderType.STOP_LOSS, trigger=54000))
    finally:
        forged.close()
    assert len(ex.fetch_open_orders()) == 1


def test_a_missing_openorders_list_is_a_failed_read(server, ex):
    server.inject_fault("openorders", "missing_fields", None)
    with pytest.raises(BadResponse, match="openOrders"):
        ex.fetch_open_orders()
