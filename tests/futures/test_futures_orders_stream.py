"""Futures orders with the futures WebSocket on: read and sent through REST, kept on books built from pushes."""

from decimal import Decimal

from kraken_monitor.domain.orders import OrderSpec, OrderType, TriggerSignal
from kraken_monitor.worker.requests import PlaceOrder
from tests.futures.test_futures_stream import BTC, _poller, _row, _until, servers  # noqa: F401 - the fixture

D = Decimal


def test_orders_survive_pushed_books_and_orders_go_through_the_wrapped_exchange(servers):  # noqa: F811
    rest, ws = servers
    with rest.futures._lock:
        rest.futures.orders.send({"symbol": "PF_XBTUSD", "side": "sell", "size": "0.5", "orderType": "stp",
                                  "stopPrice": "55000", "triggerSignal": "mark", "reduceOnly": "true"})
    poller, _feed = _poller(rest, ws, interval_s=60.0)  # one REST read unless an action asks for another
    try:
        book = _until(poller, lambda b: _row(b, BTC).liquidation_price_source == "exchange")
        assert _row(book, BTC).stop_loss_price == D(55000) and _row(book, BTC).warnings == ()
        rest.futures.set_mark("PF_XBTUSD", D(61000))
        ws.push_ticker("PF_XBTUSD")
        pushed = _until(poller, lambda b: _row(b, BTC).mark_price == D(61000))
        # the pushed book keeps the REST read's orders: (61000 - 55000) / 61000 = 9.8361 % to the stop
        assert _row(pushed, BTC).stop_loss_price == D(55000)
        assert _row(pushed, BTC).stop_loss_distance_pct.quantize(D("0.0001")) == D("9.8361")
        poller.handle(PlaceOrder(OrderSpec("PF_XBTUSD", BTC, OrderType.TAKE_PROFIT, "sell", D("0.5"), D(70000),
                                           trigger=TriggerSignal.MARK)))
        after = _until(poller, lambda b: _row(b, BTC).take_profit_price == D(70000))
        assert [o.type for o in _row(after, BTC).orders] == [OrderType.STOP_LOSS, OrderType.TAKE_PROFIT]
        assert rest.requests_to("POST sendorder")[0]["orderType"] == "take_profit"
    finally:
        poller.stop()
