"""Pure Kraken payload parsing and client-side pacing (fake clock), no network."""

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest

from kraken_monitor.exchange.errors import (
    AuthFailed,
    BadResponse,
    ExchangeUnavailable,
    NonceRejected,
    RateLimited,
    Rejected,
)
from kraken_monitor.exchange.kraken_errors import map_error, scrub
from kraken_monitor.exchange.kraken_parse import (
    CallCounter,
    MinIntervalPacer,
    kraken_number,
    parse_order_result,
    parse_positions,
    parse_tickers,
    parse_trade_balance,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2026, 2, 1, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_docs_trade_balance_fixture_is_kept_exactly():
    result = json.loads((FIXTURES / "kraken_docs_TradeBalance_example.json").read_text())["response"]["result"]
    b = parse_trade_balance(result)
    assert (b.trade_balance, b.exchange_equity, b.exchange_used_margin, b.exchange_margin_level) == (
        Decimal("392.2264"), Decimal("382.2032"), Decimal("7.0354"), Decimal("5432.57"))


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", "", 1.5, None, True, ["1"]])
def test_non_numeric_money_is_bad_response(bad):
    with pytest.raises(BadResponse):
        kraken_number(bad, "tb")


def test_json_numbers_only_where_allowed():
    assert kraken_number(80, "margin_call", json_number_ok=True) == Decimal(80)
    assert kraken_number(0.1, "x", json_number_ok=True) == Decimal("0.1")  # shortest repr, not binary expansion
    assert kraken_number("+154186.9728", "net") == Decimal("154186.9728")


@pytest.mark.parametrize("missing", ["tb", "e", "m"])
def test_trade_balance_missing_core_field_is_bad_response(missing):
    result = {"tb": "1", "e": "1", "m": "0"}
    del result[missing]
    with pytest.raises(BadResponse, match=missing):
        parse_trade_balance(result)


def test_consolidated_positions_are_refused():
    rows = json.loads((FIXTURES / "ccxt_static_response_kraken_fetchPositions_consolidated.json").read_text())
    with pytest.raises(BadResponse, match="consolidated"):
        parse_positions(rows["httpResponse"]["result"], lambda _id: None)


def test_positions_with_bad_rows_are_bad_response():
    good = json.loads((FIXTURES / "kraken_docs_OpenPositions_example.json").read_text())["response"]["result"]
    row = dict(next(iter(good.values())))
    for broken in ({"vol": "x"}, {"type": "hold"}, {"vol_closed": "99"}, {"time": "soon"}):
        with pytest.raises(BadResponse):
            parse_positions({"T1": row | broken}, {"XXBTZUSD": "BTC/USD"}.get)
    unknown = parse_positions({"T1": row | {"pair": "XFOOZUSD"}}, {"XXBTZUSD": "BTC/USD"}.get)
    assert unknown[0].pair == "XFOOZUSD"  # kept, not silently dropped


def test_ticker_parse_and_errors():
    ticker = json.loads((FIXTURES / "ccxt_static_response_kraken_fetchTicker_BTCUSDT.json").read_text())
    parsed = parse_tickers(ticker["httpResponse"]["result"], {"XBTUSDT": "BTC/USDT"}.get, NOW)
    t = parsed["BTC/USDT"]
    assert (t.bid, t.ask, t.last, t.as_of) == (Decimal("73380.60000"), Decimal("73380.70000"), Decimal("73380.60000"), NOW)
    with pytest.raises(BadResponse):
        parse_tickers({"XBTUSDT": {"a": [], "b": ["1"], "c": ["1"]}}, {"XBTUSDT": "BTC/USDT"}.get, NOW)
    with pytest.raises(BadResponse):
        parse_tickers("{not json", {}.get, NOW)


def test_order_result_needs_a_txid():
    assert parse_order_result({"descr": {"order": "sell 1 XBTUSD"}, "txid": ["OABC"]}).order_id == "OABC"
    for bad in ({}, {"txid": []}, {"txid": [1]}, None):
        with pytest.raises(BadResponse):
            parse_order_result(bad)


def test_min_interval_pacer_with_fake_clock():
    clock = FakeClock()
    pacer = MinIntervalPacer(1.0, clock)
    assert pacer.delay() == 0
    pacer.record()
    clock.t += 0.25
    assert pacer.delay() == pytest.approx(0.75)
    clock.t += 1
    assert pacer.delay() == 0


def test_call_counter_mirrors_kraken_starter_tier():
    clock = FakeClock()
    counter = CallCounter(limit=15, decay_per_s=0.33, clock=clock)
    for _ in range(7):  # seven account polls = 14 points
        assert counter.delay(2) == 0
        counter.record(2)
    assert counter.level() == pytest.approx(14)
    assert counter.delay(2) == pytest.approx(1 / 0.33)  # one point over: wait for it to decay
    clock.t += 1 / 0.33
    assert counter.delay(2) == pytest.approx(0, abs=1e-9)
    clock.t += 1000
    assert counter.level() == 0  # never negative


def test_map_error_by_class_and_code():
    body = 'kraken {"error":["%s"]}'
    assert type(map_error(ccxt.DDoSProtection(body % "EGeneral:Temporary lockout"))) is RateLimited
    assert type(map_error(ccxt.DDoSProtection(body % "EAPI:Rate limit exceeded"))) is RateLimited
    nonce = map_error(ccxt.InvalidNonce(body % "EAPI:Invalid nonce"))
    assert type(nonce) is NonceRejected and "your clock, or another client using this key" in str(nonce)
    assert "credentials" not in str(nonce)  # the key was accepted: never "bad credentials"
    assert type(map_error(ccxt.ExchangeError(body % "EAPI:Invalid signature"))) is AuthFailed
    assert type(map_error(ccxt.PermissionDenied("kraken"))) is AuthFailed
    assert type(map_error(ccxt.ExchangeError(body % "EOrder:Margin allowance exceeded"), action=True)) is Rejected
    assert type(map_error(ccxt.InsufficientFunds(body % "EOrder:Insufficient funds"))) is Rejected
    assert type(map_error(ccxt.RequestTimeout("kraken GET http://x"))) is ExchangeUnavailable
    assert type(map_error(ccxt.ExchangeNotAvailable(body % "EService:Busy"))) is ExchangeUnavailable
    assert type(map_error(ccxt.ExchangeError(body % "EGeneral:Invalid arguments"), action=True)) is Rejected
    assert type(map_error(ccxt.ExchangeError(body % "EGeneral:Invalid arguments"))) is BadResponse
    assert type(map_error(KeyError("altname"))) is BadResponse
    assert type(map_error(json.JSONDecodeError("x", "doc", 0))) is BadResponse


def test_scrub_removes_key_secret_and_signatures():
    secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
    sign = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    text = scrub(f"key MYKEY-12345 secret {secret} API-Sign: {sign}", ("MYKEY-12345", secret))
    assert "MYKEY-12345" not in text and secret not in text and sign not in text
    err = map_error(ccxt.AuthenticationError('kraken {"error":["EAPI:Invalid key MYKEY-12345"]}'),
                    secrets=("MYKEY-12345", secret))
    assert "MYKEY-12345" not in str(err) and "EAPI:Invalid key" in str(err)
