"""The Kraken-protocol test server itself: signing, nonces, counter, orders, consolidation, faults."""

import base64
import json
import urllib.request
from decimal import Decimal

import pytest

from kraken_monitor.testing.kraken_server import KrakenTestServer, kraken_signature
from kraken_monitor.testing.kraken_sim import KrakenApiError, KrakenSim

# Kraken's published example (REST authentication guide).
VECTOR_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
VECTOR_BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
VECTOR_SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="


def test_signature_reproduces_krakens_published_vector():
    assert kraken_signature("/0/private/AddOrder", "1616492376594", VECTOR_BODY, VECTOR_SECRET) == VECTOR_SIGN


def _post(server, method, body, key=None, sign=None):
    path = f"/0/private/{method}"
    nonce = dict(p.split("=") for p in body.split("&"))["nonce"]
    sign = sign or kraken_signature(path, nonce, body, server.api_secret)
    req = urllib.request.Request(server.url + path, data=body.encode(), method="POST",
                                 headers={"API-Key": key or server.api_key, "API-Sign": sign,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def test_server_checks_key_signature_and_nonce():
    with KrakenTestServer() as server:
        assert _post(server, "TradeBalance", "nonce=10&asset=ZUSD")["error"] == []
        assert _post(server, "TradeBalance", "nonce=10&asset=ZUSD")["error"] == ["EAPI:Invalid nonce"]
        assert _post(server, "TradeBalance", "nonce=11&asset=ZUSD", key="WHO")["error"] == ["EAPI:Invalid key"]
        bad = base64.b64encode(b"x" * 64).decode()
        assert _post(server, "TradeBalance", "nonce=12", sign=bad)["error"] == ["EAPI:Invalid signature"]
        assert all("API-Sign" not in json.dumps(params) for _, params in server.requests)


def test_server_call_counter_limit_and_max_seen():
    with KrakenTestServer(enforce_rate_limit=True) as server:
        errors = [_post(server, "OpenPositions", f"nonce={n}")["error"] for n in range(1, 20)]
        assert errors[:15] == [[]] * 15
        assert errors[15] == ["EAPI:Rate limit exceeded"]
        assert 14 < server.max_counter_seen <= 15


def test_reduce_only_without_position_is_refused():
    sim = KrakenSim()
    with pytest.raises(KrakenApiError, match="EOrder:Reduce only:No position exists"):
        sim.add_order({"pair": "XBTUSD", "type": "sell", "ordertype": "market", "volume": "1",
                       "leverage": "5", "reduce_only": "true"})
    assert sim.orders == []


def test_reduce_only_reduces_oldest_positions_of_the_pair_first():
    sim = KrakenSim()
    old = sim.add_position("BTC/USD", "long", Decimal(1), Decimal(50000), opened_at=1000.0)
    new = sim.add_position("BTC/USD", "long", Decimal(1), Decimal(60000), opened_at=2000.0)
    eth = sim.add_position("ETH/USD", "long", Decimal(1), Decimal(3000), opened_at=500.0)
    sim.add_order({"pair": "XXBTZUSD", "type": "sell", "ordertype": "market", "volume": "1.5",
                   "leverage": "5", "reduce_only": "true"})
    assert old not in sim.positions and sim.positions[eth].vol_closed == 0
    p = sim.positions[new]
    assert p.vol_closed == Decimal("0.5") and p.cost == Decimal(30000) and p.margin == Decimal(6000)


def test_trade_balance_is_consistent_with_positions_and_prices():
    sim = KrakenSim()
    sim.set_balance(Decimal(5000))
    sim.add_position("BTC/USD", "short", Decimal("0.2"), Decimal(50000), leverage=5)
    sim.set_prices({"BTC/USD": Decimal(65200)})
    tb = sim.trade_balance_payload()
    assert Decimal(tb["e"]) == Decimal(tb["tb"]) + Decimal(tb["n"]) == Decimal(1960)
    assert Decimal(tb["m"]) == Decimal(2608)  # a short's margin is held in the base asset
    assert tb["ml"] == "75.15"  # Kraken support article's worked example


def test_open_positions_consolidation_market_matches_ccxt_shape():
    sim = KrakenSim()
    sim.load_docs_positions()
    rows = sim.positions_payload({"docalcs": "true", "consolidation": "market"})
    assert isinstance(rows, list) and len(rows) == 1
    assert rows[0]["pair"] == "XXBTZUSD" and rows[0]["positions"] == "5"
    assert Decimal(rows[0]["vol"]) == Decimal("16.82512861")
    per_txid = sim.positions_payload({"docalcs": "true", "txid": "T24DOR-TAFLM-ID3NYP"})
    assert list(per_txid) == ["T24DOR-TAFLM-ID3NYP"] and per_txid["T24DOR-TAFLM-ID3NYP"]["net"] == "+94367.2314"


def test_leveraged_order_opens_a_position_and_checks_margin():
    sim = KrakenSim()
    sim.set_balance(Decimal(1000))
    sim.add_order({"pair": "SOLUSD", "type": "buy", "ordertype": "market", "volume": "10", "leverage": "2"})
    assert len(sim.positions) == 1
    with pytest.raises(KrakenApiError, match="EOrder:Insufficient margin"):
        sim.add_order({"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "1", "leverage": "5"})
    with pytest.raises(KrakenApiError, match="leverage"):
        sim.add_order({"pair": "SOLUSD", "type": "buy", "ordertype": "market", "volume": "1", "leverage": "5"})


def test_fault_counts_and_clear():
    with KrakenTestServer() as server:
        url = server.url + "/0/public/Time"
        server.inject_fault("Time", "busy", count=2)
        server.inject_fault("Ticker", "http500", count=None)
        read = lambda: json.loads(urllib.request.urlopen(url, timeout=5).read())  # noqa: E731
        assert [read()["error"] for _ in range(3)] == [["EService:Busy"], ["EService:Busy"], []]
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(server.url + "/0/public/Ticker", timeout=5)
        server.clear_faults()
        assert "XXBTZUSD" in json.loads(urllib.request.urlopen(server.url + "/0/public/Ticker", timeout=5).read())["result"]
        with pytest.raises(ValueError):
            server.inject_fault("Ticker", "gremlins")


def test_ohlc_and_balance_ex():
    with KrakenTestServer() as server:
        ohlc = json.loads(urllib.request.urlopen(server.url + "/0/public/OHLC?pair=XBTUSD&interval=60", timeout=5).read())
        candles = ohlc["result"]["XXBTZUSD"]
        assert len(candles) == 100 and candles[-1][0] == ohlc["result"]["last"]
        assert _post(server, "BalanceEx", "nonce=5")["result"]["ZUSD"]["balance"] == "10000.0000"
