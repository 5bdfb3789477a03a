"""Every injected fault on every endpoint reaches the caller as its typed error; secrets never appear."""

from decimal import Decimal

import ccxt
import pytest

from kraken_monitor.exchange.errors import (
    AuthFailed,
    BadResponse,
    ExchangeError,
    ExchangeUnavailable,
    NonceRejected,
    RateLimited,
    Rejected,
)
from kraken_monitor.exchange.transport import TransportTimeout

ENDPOINTS = ["Ticker", "AssetPairs", "TradeBalance", "OpenPositions", "AddOrder"]
EXPECTED = {
    "timeout": TransportTimeout, "reset": ExchangeUnavailable, "http500": ExchangeUnavailable,
    "unavailable": ExchangeUnavailable, "busy": ExchangeUnavailable, "rate_limit": RateLimited,
    "malformed": BadResponse, "missing_fields": BadResponse, "empty_with_error": BadResponse,
    "invalid_nonce": NonceRejected, "invalid_key": AuthFailed,
}


def _call(kraken, endpoint, txid):
    if endpoint == "Ticker":
        return kraken.fetch_tickers(["BTC/USD", "ETH/USD"])
    if endpoint == "AssetPairs":
        return kraken.load_pair_rules()
    if endpoint in ("TradeBalance", "OpenPositions"):
        return kraken.fetch_account()
    return kraken.close_position(txid, Decimal("0.1"))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_fault_maps_to_typed_error(server, kraken, credentials, endpoint, kind):
    txid = server.add_position("BTC/USD", "long", Decimal("0.5"), Decimal("60000"))
    kraken.load_pair_rules()
    server.inject_fault(endpoint, kind)
    expected = EXPECTED[kind]
    if kind == "empty_with_error" and endpoint == "AddOrder":
        expected = Rejected  # a refused action carries Kraken's message
    with pytest.raises(ExchangeError) as info:
        _call(kraken, endpoint, txid)
    err = info.value
    assert type(err) is expected, f"{kind} on {endpoint}: {type(err).__name__}: {err}"
    assert not isinstance(err, ccxt.BaseError)
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)  # raw one not chained
    text = f"{err} {err!r} {err.args}"
    assert credentials.key not in text and credentials.secret not in text and "API-Sign" not in text
    # The fault was one-shot: the same call succeeds afterwards (a later read is not poisoned).
    if kind == "rate_limit" and endpoint in ("TradeBalance", "OpenPositions"):
        # Kraken's counter is shared by every client of the key: the client backs off without sending.
        sent = len(server.requests)
        with pytest.raises(RateLimited, match="Holding back"):
            _call(kraken, endpoint, txid)
        assert len(server.requests) == sent
    elif endpoint != "AddOrder":
        assert _call(kraken, endpoint, txid)


def test_failed_positions_read_never_returns_an_empty_account(server, kraken):
    server.load_docs_positions()
    server.inject_fault("OpenPositions", "empty_with_error", count=None)
    for _ in range(3):
        with pytest.raises(BadResponse):
            kraken.fetch_account()
    server.clear_faults()
    assert len(kraken.fetch_account().positions) == 5


def test_lockout_waits_out_krakens_15_minutes_instead_of_stopping(server, kraken):
    # Kraken suspends the key for 15 minutes when its counter runs over: monitoring resumes after it
    # (a RateLimited the worker honours), it does not stop as for bad credentials.
    server.inject_fault("TradeBalance", "kraken_error", error="EGeneral:Temporary lockout")
    with pytest.raises(RateLimited, match="Temporary lockout") as raised:
        kraken.fetch_account()
    assert not isinstance(raised.value, AuthFailed) and raised.value.retry_after == 15 * 60


def test_invalid_signature_and_permission_denied_are_auth_failed(server, kraken):
    server.inject_fault("TradeBalance", "kraken_error", error="EAPI:Invalid signature")
    server.inject_fault("OpenPositions", "kraken_error", error="EGeneral:Permission denied")
    with pytest.raises(AuthFailed):
        kraken.fetch_account()
    with pytest.raises(AuthFailed):
        kraken.fetch_account()


def test_fault_on_any_endpoint_wildcard(server, kraken):
    server.inject_fault("*", "busy", count=2)
    with pytest.raises(ExchangeUnavailable, match="unavailable"):
        kraken.load_pair_rules()  # Assets
    with pytest.raises(ExchangeUnavailable):
        kraken.load_pair_rules()  # Assets again
    assert "BTC/USD" in kraken.load_pair_rules()


def test_action_timeout_says_outcome_unknown(server, kraken):
    txid = server.add_position("BTC/USD", "long", Decimal("0.5"), Decimal("60000"))
    server.inject_fault("AddOrder", "timeout")
    with pytest.raises(ExchangeUnavailable, match="outcome is unknown"):
        kraken.close_position(txid, Decimal("0.1"))
