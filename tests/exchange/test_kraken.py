"""KrakenExchange with real ccxt against the real local Kraken-protocol server: reads, actions, auth."""

import json
import time
from datetime import timezone
from decimal import Decimal
from pathlib import Path

import pytest

from kraken_monitor.domain.models import MarginMode, Side
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import AuthFailed, NonceRejected, RateLimited, Rejected
from kraken_monitor.exchange.kraken_parse import CallCounter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_load_pair_rules_reads_margin_levels_leverage_and_decimals(kraken):
    rules = kraken.load_pair_rules()
    # ADA/USD and GBP/EUR have no leverage: not margin pairs.
    assert set(rules) == {"BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD", "ETH/BTC", "BTC/EUR", "ETH/EUR", "EUR/USD"}
    btc = rules["BTC/USD"]
    assert (btc.margin_call_level, btc.margin_stop_level) == (Decimal(80), Decimal(40))
    assert btc.leverage_buy == (2, 3, 4, 5) and btc.leverage_sell == (2, 3, 4, 5)
    assert (btc.price_decimals, btc.volume_decimals, btc.min_order) == (1, 8, Decimal("0.00005"))
    assert (btc.exchange_id, btc.base, btc.quote) == ("XXBTZUSD", "BTC", "USD")
    assert rules["SOL/USD"].leverage_buy == (2, 3)
    assert rules["XRP/USD"].exchange_id == "XXRPZUSD"


def test_fetch_tickers_uses_one_request_for_many_pairs(server, kraken):
    kraken.load_pair_rules()
    server.set_prices({"BTC/USD": Decimal("65432.1"), "ETH/USD": Decimal("3100.25"), "XRP/USD": Decimal("2.5")})
    before = len(server.requests_to("Ticker"))
    tickers = kraken.fetch_tickers(["BTC/USD", "ETH/USD", "XRP/USD", "NOPE/USD"])
    calls = server.requests_to("Ticker")[before:]
    assert len(calls) == 1
    assert calls[0]["pair"] == "XXBTZUSD,XETHZUSD,XXRPZUSD"
    assert tickers["BTC/USD"].last == Decimal("65432.1")
    assert tickers["ETH/USD"].bid == Decimal("3100.25") and tickers["ETH/USD"].ask == Decimal("3100.26")
    assert tickers["XRP/USD"].last == Decimal("2.50000")
    assert set(tickers) == {"BTC/USD", "ETH/USD", "XRP/USD"}


def test_scripted_prices_advance_one_step_per_ticker_call(server, kraken):
    server.script_prices("BTC/USD", [Decimal(100), Decimal(90), Decimal(80)])
    seen = [kraken.fetch_tickers(["BTC/USD"])["BTC/USD"].last for _ in range(4)]
    assert seen == [Decimal(90), Decimal(80), Decimal(80), Decimal(80)]  # step 1 applied when scripted


def test_docs_fixture_gives_five_positions_at_5x(server, kraken):
    fixture = json.loads((FIXTURES / "kraken_docs_OpenPositions_example.json").read_text())["response"]["result"]
    server.set_positions(fixture)
    state = kraken.fetch_account()
    positions = {p.id: p for p in state.positions}
    assert len(positions) == 5
    for txid, row in fixture.items():
        p = positions[txid]
        assert p.pair == "BTC/USD" and p.side is Side.LONG and p.margin_mode is MarginMode.CROSS
        assert (p.cost / p.margin).quantize(Decimal("0.01")) == Decimal("5.00")
        assert p.remaining_volume == Decimal(row["vol"]) - Decimal(row["vol_closed"])
        assert p.rollover_terms == "0.0100% per 4 hours"
        assert p.next_rollover is not None and int(p.next_rollover.timestamp()) == 1616672637
        assert p.opened_at.tzinfo == timezone.utc and abs(p.opened_at.timestamp() - row["time"]) < 1e-3
        assert p.trading_fee == Decimal(row["fee"])
        assert p.exchange_value == Decimal(row["value"]) and p.exchange_net == Decimal(row["net"])
    first = positions["TF5GVO-T7ZZ2-6NBKBI"]
    assert first.remaining_volume == Decimal("8.62212861")
    # The docs' reading (cost describes the remaining volume): net == value - cost to Kraken's rounding.
    assert abs(first.exchange_net - (first.exchange_value - first.cost)) < Decimal("0.01")
    assert [p.id for p in state.positions][0] == "TF5GVO-T7ZZ2-6NBKBI"  # oldest first
    assert all(params.get("docalcs") == "true" and "consolidation" not in params
               for params in server.requests_to("OpenPositions"))


def test_trade_balance_keeps_exchange_e_m_ml(server, kraken):
    server.set_balance(Decimal("10000"))
    server.set_prices({"BTC/USD": Decimal("20000")})
    server.add_position("BTC/USD", "long", Decimal("1"), Decimal("20000"), leverage=5)
    server.set_prices({"BTC/USD": Decimal("19000")})
    balance = kraken.fetch_account().balance
    assert balance.currency == "USD" and balance.trade_balance == Decimal("10000")
    assert balance.exchange_equity == Decimal("9000")  # e = tb + n
    assert balance.exchange_used_margin == Decimal("4000")
    assert balance.exchange_margin_level == Decimal("225.00")
    assert server.requests_to("TradeBalance")[-1]["asset"] == "ZUSD"


def test_no_margin_used_leaves_margin_level_none(kraken):
    state = kraken.fetch_account()
    assert state.positions == ()
    assert state.balance.exchange_used_margin == 0 and state.balance.exchange_margin_level is None


def test_close_sends_reduce_only_opposite_order_with_leverage(server, kraken):
    txid = server.add_position("ETH/USD", "long", Decimal("2"), Decimal("3000"), leverage=4)
    result = kraken.close_position(txid, Decimal("0.5"))
    order = server.requests_to("AddOrder")[-1]
    assert (order["pair"], order["type"], order["ordertype"]) == ("XETHZUSD", "sell", "market")
    assert (order["volume"], order["leverage"], order["reduce_only"]) == ("0.5", "4", "true")
    assert result.order_id.startswith("O") and "sell 0.5 ETHUSD" in result.description
    p = kraken.fetch_account().positions[0]
    assert p.volume_closed == Decimal("0.5") and p.cost == Decimal("4500") and p.margin == Decimal("1125")


def test_close_short_with_limit_buys_and_full_close_removes_it(server, kraken):
    txid = server.add_position("BTC/USD", "short", Decimal("0.1"), Decimal("50000"), leverage=5)
    kraken.close_position(txid, Decimal("0.1"), "limit", Decimal("49000.5"))
    order = server.requests_to("AddOrder")[-1]
    assert (order["type"], order["ordertype"], order["price"], order["reduce_only"]) == ("buy", "limit", "49000.5", "true")
    assert kraken.fetch_account().positions == ()


def test_close_refuses_bad_volume_and_unknown_position(server, kraken):
    txid = server.add_position("BTC/USD", "long", Decimal("0.2"), Decimal("50000"))
    with pytest.raises(Rejected, match="only 0.2"):
        kraken.close_position(txid, Decimal("0.3"))
    with pytest.raises(Rejected, match="positive"):
        kraken.close_position(txid, Decimal("0"))
    with pytest.raises(Rejected, match="no longer open"):
        kraken.close_position("TNOPE-00000-000000", Decimal("0.1"))
    assert server.requests_to("AddOrder") == []


def test_kraken_order_refusal_is_rejected_with_its_message(server, kraken):
    txid = server.add_position("BTC/USD", "long", Decimal("0.2"), Decimal("50000"))
    server.inject_fault("AddOrder", "kraken_error", error="EOrder:Insufficient margin")
    with pytest.raises(Rejected, match="EOrder:Insufficient margin"):
        kraken.close_position(txid, Decimal("0.1"))


def test_settle_sends_settle_position_order(server, kraken):
    txid = server.add_position("SOL/USD", "short", Decimal("10"), Decimal("140"), leverage=3)
    kraken.settle_position(txid)
    order = server.requests_to("AddOrder")[-1]
    assert (order["ordertype"], order["type"], order["volume"], order["leverage"]) == ("settle-position", "buy", "10", "3")
    assert kraken.fetch_account().positions == ()


def test_collateral_and_isolated_margin_are_explained_not_supported(kraken):
    caps = kraken.capabilities()
    assert caps.can_trade and caps.can_settle
    assert not caps.can_add_collateral and not caps.can_add_isolated_margin
    with pytest.raises(Rejected, match="deposit"):
        kraken.add_collateral(Decimal(100))
    with pytest.raises(Rejected, match="cross margin"):
        kraken.add_isolated_margin("T1", Decimal(100))


def test_without_credentials_reads_prices_but_not_the_account(make_kraken):
    ex = make_kraken(None)
    assert ex.fetch_tickers(["BTC/USD"])["BTC/USD"].last > 0
    assert not ex.capabilities().can_trade
    with pytest.raises(AuthFailed, match="No Kraken API key"):
        ex.fetch_account()


@pytest.mark.parametrize("case", ["unknown_key", "wrong_secret"])
def test_bad_key_or_secret_is_auth_failed(server, make_kraken, credentials, case):
    other_secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
    if case == "unknown_key":
        creds = Credentials("NOT-A-KNOWN-KEY-123456", credentials.secret)
    elif case == "wrong_secret":
        creds = Credentials(credentials.key, other_secret)
    with pytest.raises(AuthFailed) as info:
        make_kraken(creds).fetch_account()
    assert creds.key not in str(info.value) and creds.secret not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_stale_nonce_is_transient_and_names_clock_or_other_client(server, make_kraken, credentials):
    """Another client used the key with a higher nonce (or our clock stepped back): retry, never "bad key"."""
    kraken = make_kraken(credentials)
    server.set_last_nonce(credentials.key, int(time.time() * 1000) + 1500)  # 1.5 s "ahead" of our clock
    with pytest.raises(NonceRejected, match="your clock, or another client using this key") as info:
        kraken.fetch_account()
    assert not isinstance(info.value, AuthFailed) and "credentials" not in str(info.value)
    time.sleep(1.6)  # ccxt's millisecond nonce passes the other client's: the same instance recovers
    assert kraken.fetch_account().balance.trade_balance > 0


def test_secret_that_is_not_base64_fails_early(server):
    from kraken_monitor.exchange.kraken import KrakenExchange

    with pytest.raises(AuthFailed, match="base64"):
        KrakenExchange(server.url, Credentials("KEY-123456789", "not base64 at all!"))


def test_client_counter_keeps_polls_within_kraken_limit(server, make_kraken, credentials):
    server.enforce_rate_limit = True
    ex = make_kraken(credentials, private_counter=CallCounter(limit=15, decay_per_s=0.33), max_wait_s=0)
    polls = 0
    with pytest.raises(RateLimited) as info:
        for _ in range(20):
            ex.fetch_account()
            polls += 1
    assert polls == 5  # 3 calls each (TradeBalance, OpenPositions, OpenOrders): 15 points; the 6th would need 16
    assert info.value.retry_after > 0
    assert 14 <= server.max_counter_seen <= 15
    assert "EAPI:Rate limit exceeded" not in json.dumps(server.requests)  # the client held back itself


def test_server_rate_limit_reaches_client_as_rate_limited(server, make_kraken, credentials):
    server.enforce_rate_limit = True
    ex = make_kraken(credentials)  # client-side counter effectively off
    with pytest.raises(RateLimited):
        for _ in range(20):
            ex.fetch_account()
    assert server.max_counter_seen <= 15


def test_public_calls_are_paced(make_kraken):
    sleeps = []
    ex = make_kraken(None, public_interval_s=1.0, sleep=sleeps.append)
    ex.load_pair_rules()
    ex.fetch_tickers(["BTC/USD"])
    ex.fetch_tickers(["BTC/USD"])
    assert len(sleeps) == 2 and all(0.5 < s <= 1.0 for s in sleeps)
