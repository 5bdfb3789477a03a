"""The Kraken Futures test server: Authent as Kraken documents it, error shapes, quirks, faults, through ccxt."""

import base64
import hashlib
import hmac
import json
import urllib.request
from decimal import Decimal

import ccxt
import pytest

from kraken_monitor.testing.futures_server import FuturesTestServer, authent


def _client(server: FuturesTestServer, **config) -> ccxt.krakenfutures:
    ex = ccxt.krakenfutures(dict({"apiKey": server.api_key, "secret": server.api_secret, "enableRateLimit": False,
                                  "timeout": 2000}, **config))
    ex.urls["api"] = dict(ex.urls["api"], public=server.api_base, private=server.api_base)
    return ex


@pytest.fixture
def server():
    with FuturesTestServer(timeout_sleep_s=2.5) as srv:
        yield srv


def test_authent_matches_a_vector_computed_by_hand_from_the_documented_algorithm():
    # Kraken: Authent = base64(HMAC-SHA512(key=base64decode(secret), msg=SHA256(postData + Nonce + endpointPath))).
    secret = base64.b64encode(b"\x01" * 64).decode()
    post_data, nonce, path = "symbol=PF_XBTUSD&maxLeverage=5", "1700000000000", "/api/v3/leveragepreferences"
    message = hashlib.sha256(b"symbol=PF_XBTUSD&maxLeverage=5" b"1700000000000" b"/api/v3/leveragepreferences").digest()
    by_hand = base64.b64encode(hmac.new(b"\x01" * 64, message, hashlib.sha512).digest()).decode()
    assert authent(post_data, nonce, path, secret) == by_hand
    # ...and it is what ccxt sends for the same request (ccxt omits the optional nonce).
    ex = ccxt.krakenfutures({"apiKey": "K", "secret": secret})
    signed = ex.sign("leveragepreferences", ["private"], "PUT", {"symbol": "PF_XBTUSD", "maxLeverage": 5})
    query = signed["url"].split("?", 1)[1]
    assert signed["headers"]["Authent"] == authent(query, "", "/api/v3/leveragepreferences", secret)


def _raw_get(server, endpoint, headers):
    request = urllib.request.Request(server.api_base + "v3/" + endpoint, headers=headers)
    with urllib.request.urlopen(request, timeout=2) as response:
        return json.loads(response.read())


def test_a_wrong_or_missing_authent_gets_kraken_futures_authentication_error(server):
    good = authent("", "", "/api/v3/accounts", server.api_secret)
    assert _raw_get(server, "accounts", {"APIKey": server.api_key, "Authent": good})["result"] == "success"
    for headers in ({"APIKey": server.api_key, "Authent": good[:-4] + "AAA="}, {"APIKey": "other", "Authent": good},
                    {}):
        answer = _raw_get(server, "accounts", headers)
        assert answer["result"] == "error" and answer["error"] == "authenticationError"
    with pytest.raises(ccxt.AuthenticationError):
        _client(server, secret=base64.b64encode(b"wrong" * 13).decode()).fetch_balance()


def test_a_nonce_when_sent_must_grow(server):
    sign = authent("", "5", "/api/v3/openpositions", server.api_secret)
    headers = {"APIKey": server.api_key, "Authent": sign, "Nonce": "5"}
    assert _raw_get(server, "openpositions", headers)["result"] == "success"
    assert _raw_get(server, "openpositions", headers)["error"] == "nonceBelowThreshold"


def test_ccxt_round_trip_with_kraken_quirks(server):
    server.futures.add_position("PF_XBTUSD", "long", Decimal("0.5"), Decimal(58000))
    server.futures.add_position("PF_ETHUSD", "short", Decimal(2), Decimal(3100), leverage=Decimal(5))
    ex = _client(server)
    positions = ex.fetch_positions()
    # Lower-case ids (pf_xbtusd) do not resolve to ccxt's markets: the adapter must normalise them.
    assert [p["info"]["symbol"] for p in positions] == ["pf_xbtusd", "pf_ethusd"]
    assert [p["marginMode"] for p in positions] == ["cross", "isolated"]
    assert all("unrealizedPnl" not in p["info"] for p in positions)
    flex = ex.fetch_balance()["info"]["accounts"]["flex"]
    # marginEquity = collateral 10000 + P&L 0.5*(60000-58000) + 2*(3100-3000) = 10000 + 1000 + 200 = 11200
    assert Decimal(flex["marginEquity"]) == Decimal(11200)
    assert ex.fetch_tickers()["BTC/USD:USD"]["markPrice"] == 60000
    server.futures.numbers_as_strings = False
    assert isinstance(ex.fetch_balance()["info"]["accounts"]["flex"]["marginEquity"], int | float)


def test_leverage_change_refused_with_kraken_error_41(server):
    # Short 2 ETH at 3100, isolated at 5x: allocated 2*3100/5 = 1240. Mark 3500: P&L = 2*(3100-3500) = -800.
    # At 10x the allocation would be 620; 620 - 800 = -180 <= maintenance 2*3500*0.01 = 70: Kraken refuses (41).
    server.futures.add_position("PF_ETHUSD", "short", Decimal(2), Decimal(3100), leverage=Decimal(5))
    server.futures.set_mark("PF_ETHUSD", Decimal(3500))
    with pytest.raises(ccxt.ExchangeError, match="Would cause liquidation"):
        _client(server).set_leverage(10, "ETH/USD:USD")
    assert server.futures.leverage["PF_ETHUSD"] == Decimal(5)
    _client(server).set_leverage(2, "ETH/USD:USD")  # lower leverage: more margin allocated, accepted
    assert server.futures.leverage["PF_ETHUSD"] == Decimal(2)
    assert server.requests_to("PUT leveragepreferences")[-1] == {"maxLeverage": "2", "symbol": "PF_ETHUSD"}


def test_missing_open_positions_is_never_flat(server):
    server.inject_fault("openpositions", "missing_fields")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        _client(server).fetch_positions()


@pytest.mark.parametrize(("kind", "error"), [("rate_limit", ccxt.RateLimitExceeded),
                                             ("unavailable", ccxt.ExchangeNotAvailable),
                                             ("invalid_key", ccxt.AuthenticationError),
                                             ("http500", ccxt.ExchangeNotAvailable),
                                             ("malformed", ccxt.BaseError)])
def test_fault_kinds_reach_ccxt_as_kraken_futures_would_send_them(server, kind, error):
    server.inject_fault("accounts", kind)
    with pytest.raises(error):
        _client(server).fetch_balance()
    assert _client(server).fetch_balance()["info"]["result"] == "success"  # one call only


def test_rate_budget_500_per_10_seconds(server):
    ex = _client(server)
    ex.load_markets()
    for _ in range(250):  # accounts costs 2: 250 calls spend the whole budget
        ex.private_get_accounts()
    with pytest.raises(ccxt.RateLimitExceeded):
        ex.private_get_accounts()
    assert server.max_cost_seen == 500
