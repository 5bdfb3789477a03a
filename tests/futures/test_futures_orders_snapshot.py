"""`snapshot --venue futures --json` with Kraken Futures orders: attached per position in the spot shape, fail closed."""

import json
from decimal import Decimal

import pytest

from kraken_monitor.testing.futures_server import FuturesTestServer
from tests.futures.test_futures_snapshot import run_cli

D = Decimal
ORDER_KEYS = {"id", "type", "side", "volume", "trigger_price", "limit_price", "trigger", "reduce_only"}


@pytest.fixture
def server():
    with FuturesTestServer() as srv:
        srv.futures.add_position("PF_XBTUSD", "long", D("0.5"), D(58000))
        srv.futures.add_position("PF_ETHUSD", "short", D(2), D(3100), leverage=D(5))
        book = srv.futures.orders
        with srv.futures._lock:
            book.send({"symbol": "PF_XBTUSD", "side": "sell", "size": "0.5", "orderType": "stp", "stopPrice": "55000",
                       "triggerSignal": "mark", "reduceOnly": "true"})
            book.send({"symbol": "PF_XBTUSD", "side": "sell", "size": "0.5", "orderType": "take_profit",
                       "stopPrice": "65000", "limitPrice": "64900", "triggerSignal": "last", "reduceOnly": "true"})
            # ETH short 5x isolated: liquidation (6200 + 1240) / (2 x 1.01) = 3683.17; a buy stop at 3700 is past it
            book.send({"symbol": "PF_ETHUSD", "side": "buy", "size": "2", "orderType": "stp", "stopPrice": "3700",
                       "triggerSignal": "mark", "reduceOnly": "true"})
            # not reduce-only: protects nothing, listed under the account
            book.send({"symbol": "PF_ETHUSD", "side": "buy", "size": "0.1", "orderType": "lmt", "limitPrice": "2500"})
        yield srv


def _env(srv):
    return {"KRAKEN_FUTURES_API_KEY": srv.api_key, "KRAKEN_FUTURES_API_SECRET": srv.api_secret}


def test_orders_are_attached_with_nearest_triggers_and_warnings(server, tmp_path):
    result = run_cli(["snapshot", "--venue", "futures", "--mode", "live", "--api-url", server.url, "--json"],
                     tmp_path, _env(server))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    btc, eth = data["positions"]
    assert [o["type"] for o in btc["orders"]] == ["stop-loss", "take-profit-limit"]
    assert all(set(o) == ORDER_KEYS for o in btc["orders"] + eth["orders"])
    stop = btc["orders"][0]
    assert (stop["side"], stop["volume"], stop["trigger_price"], stop["trigger"], stop["reduce_only"]) == (
        "sell", "0.5", "55000", "mark", True)
    assert btc["orders"][1]["limit_price"] == "64900" and btc["orders"][1]["trigger"] == "last"
    assert (btc["stop_loss_price"], btc["take_profit_price"], btc["warnings"]) == ("55000", "65000", [])
    assert eth["stop_loss_price"] == "3700" and eth["warnings"] == ["stop_beyond_liquidation"]
    loose = data["account"]["orders"]
    assert [(o["type"], o["limit_price"], o["reduce_only"]) for o in loose] == [("limit", "2500", False)]
    # read-only: openorders is the only order endpoint it called
    assert [p for p, _ in server.requests if "order" in p] == ["GET openorders"]


def test_a_failed_openorders_fails_the_whole_snapshot(server, tmp_path):
    server.inject_fault("openorders", "missing_fields", None)
    result = run_cli(["snapshot", "--venue", "futures", "--mode", "live", "--api-url", server.url, "--json"],
                     tmp_path, _env(server))
    assert result.returncode == 2 and result.stdout == ""  # never positions without their orders
    assert "openOrders" in result.stderr


def test_a_position_without_orders_is_unprotected(server, tmp_path):
    with server.futures._lock:
        for order_id in list(server.futures.orders.open):
            server.futures.orders.cancel(order_id)
    data = json.loads(run_cli(["snapshot", "--venue", "futures", "--mode", "live", "--api-url", server.url,
                               "--json"], tmp_path, _env(server)).stdout)
    assert [p["warnings"] for p in data["positions"]] == [["unprotected"], ["unprotected"]]
    assert [p["orders"] for p in data["positions"]] == [[], []] and data["account"]["orders"] == []
