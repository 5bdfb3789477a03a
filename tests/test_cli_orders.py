"""`snapshot --json` carries the resting orders Kraken lists (issue 16 item 6), end to end through the test server."""

import json
from decimal import Decimal

import pytest
from cli_support import live_env, run_cli

from kraken_monitor.testing.kraken_server import KrakenTestServer


@pytest.fixture
def kraken():
    # 1 BTC long at 20,000, 5x, trade balance 10,000, BTC at 17,000: liquidation at 11,600
    # (equity 10,000 + (P - 20,000) = 40 % of the 4,000 margin -> P = 11,600).
    with KrakenTestServer() as srv:
        srv.set_balance(Decimal("10000"))
        srv.set_prices({"BTC/USD": Decimal("17000")})
        srv.add_position("BTC/USD", "long", Decimal("1"), Decimal("20000"), leverage=5, txid="TPOS1-LONG-BTC")
        yield srv


def add(srv, **params):
    body = {"pair": "XXBTZUSD", "type": "sell", "volume": "1", "leverage": "5", "reduce_only": "true"} | params
    return srv.sim.add_order(body)["txid"][0]


def snapshot(srv, tmp_path):
    result = run_cli(["snapshot", "--mode", "live", "--api-url", srv.url, "--json"], tmp_path,
                     extra_env=live_env(srv))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_orders_attached_to_the_position_and_unattached_ones_under_account(kraken, tmp_path):
    stop = add(kraken, ordertype="stop-loss", price="16000")
    take = add(kraken, ordertype="take-profit-limit", price="22000", price2="21900", trigger="index")
    loose = kraken.sim.add_order({"pair": "XETHZUSD", "type": "sell", "volume": "2", "ordertype": "stop-loss",
                                  "price": "1500"})["txid"][0]  # spot stop, no position: protects nothing
    data = snapshot(kraken, tmp_path)
    pos = data["positions"][0]
    assert pos["orders"] == [
        {"id": stop, "type": "stop-loss", "side": "sell", "volume": "1", "trigger_price": "16000",
         "limit_price": None, "trigger": "last", "reduce_only": True},
        {"id": take, "type": "take-profit-limit", "side": "sell", "volume": "1", "trigger_price": "22000",
         "limit_price": "21900", "trigger": "index", "reduce_only": True},
    ]  # reduce_only inferred: Kraken's OpenOrders rows here omit it
    assert pos["stop_loss_price"] == "16000" and pos["take_profit_price"] == "22000" and pos["warnings"] == []
    assert [o["id"] for o in data["account"]["orders"]] == [loose]
    assert data["account"]["orders"][0]["reduce_only"] is False


def test_a_stop_past_liquidation_and_a_missing_stop_are_warned(kraken, tmp_path):
    assert snapshot(kraken, tmp_path)["positions"][0]["warnings"] == ["unprotected"]
    add(kraken, ordertype="stop-loss", price="11000")
    add(kraken, ordertype="trailing-stop", price="+500", volume="0.5")
    pos = snapshot(kraken, tmp_path)["positions"][0]
    # The trailing stop (17,000 - 500 = 16,500) fires first; it is the nearest stop and protects.
    assert pos["stop_loss_price"] == "16500"
    assert pos["warnings"] == ["order_exceeds_position"]  # 1.5 BTC of stops on 1 BTC


def test_stop_beyond_liquidation(kraken, tmp_path):
    add(kraken, ordertype="stop-loss", price="11000")
    assert snapshot(kraken, tmp_path)["positions"][0]["warnings"] == ["stop_beyond_liquidation"]


def test_a_failing_open_orders_read_fails_the_snapshot(kraken, tmp_path):
    kraken.inject_fault("OpenOrders", "unavailable", None)
    result = run_cli(["snapshot", "--mode", "live", "--api-url", kraken.url, "--json"], tmp_path,
                     extra_env=live_env(kraken))
    assert result.returncode == 2 and result.stdout == ""  # never positions without their orders
