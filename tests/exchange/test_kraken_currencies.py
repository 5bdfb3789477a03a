"""Multi-currency TradeBalance and quote-currency positions: the test server through real ccxt and KrakenExchange.

Every expected number is derived by hand in the test from the scenario it sets up (shared reference 1, 1b).
"""

from decimal import Decimal

import pytest

from kraken_monitor.domain.models import Side
from kraken_monitor.exchange.errors import BadResponse, Rejected
from kraken_monitor.exchange.kraken_parse import common_code, kraken_asset
from kraken_monitor.testing.kraken_sim import KrakenApiError, KrakenSim

D = Decimal


def eth_btc_issue_book(sim_or_server) -> str:
    """Issue 11's book: 100 ETH long on ETH/XBT at 5x, entry 0.05 BTC, now 0.046; BTC/USD 19,000; 20,000 USD.

    Quote currency BTC: cost = 100 * 0.05 = 5 BTC, margin = 5 / 5 = 1 BTC, value = 100 * 0.046 = 4.6 BTC,
    net = 4.6 - 5 = -0.4 BTC.
    """
    sim_or_server.set_balance(D(20000))
    sim_or_server.set_prices({"ETH/BTC": D("0.05"), "BTC/USD": D(19000), "EUR/USD": D("1.25"),
                              "BTC/EUR": D(15200)})
    txid = sim_or_server.add_position("ETH/BTC", "long", D(100), D("0.05"), leverage=5, fee=D(0))
    sim_or_server.set_prices({"ETH/BTC": D("0.046")})
    return txid


def test_eth_btc_long_in_usd_gives_issue_margin_level_65_26():
    sim = KrakenSim()
    eth_btc_issue_book(sim)
    tb = sim.trade_balance_payload("ZUSD")
    # USD: n = -0.4 BTC * 19,000 = -7,600; m = 1 BTC * 19,000 = 19,000 (a long's margin is fixed in BTC,
    # revalued by BTC/USD); e = 20,000 - 7,600 = 12,400; mf = 12,400 - 19,000 = -6,600;
    # ml = 12,400 / 19,000 * 100 = 65.263... -> "65.26". Without conversion: (20,000 - 0.4) / 1 * 100 = 1,999,960.
    assert (tb["tb"], tb["n"], tb["m"], tb["e"], tb["mf"], tb["ml"]) == (
        "20000.0000", "-7600.0000", "19000.0000", "12400.0000", "-6600.0000", "65.26")
    assert (tb["c"], tb["v"]) == ("95000.0000", "87400.0000")  # 5 and 4.6 BTC at 19,000


def test_same_book_in_btc_and_eur_agrees_in_every_asset():
    sim = KrakenSim()
    eth_btc_issue_book(sim)
    btc = sim.trade_balance_payload("XBT")  # altname accepted as Kraken does; XXBT has 10 decimals
    # BTC: tb = 20,000 USD / 19,000 = 1.0526315789...; n = -0.4; m = 1; e = 0.6526315789...
    assert (btc["tb"], btc["n"], btc["m"], btc["e"], btc["ml"]) == (
        "1.0526315789", "-0.4000000000", "1.0000000000", "0.6526315789", "65.26")
    eur = sim.trade_balance_payload("ZEUR")
    # EUR: BTC/EUR 15,200 direct, USD->EUR through EUR/USD 1.25 inverted: tb = 20,000 / 1.25 = 16,000;
    # n = -0.4 * 15,200 = -6,080; m = 15,200; e = 9,920; ml = 9,920 / 15,200 = 65.26 % (same account).
    assert (eur["tb"], eur["n"], eur["m"], eur["e"], eur["ml"]) == (
        "16000.0000", "-6080.0000", "15200.0000", "9920.0000", "65.26")


def test_btc_eur_short_margin_is_base_denominated_and_revalued_by_fx():
    sim = KrakenSim()
    sim.set_balance(D(5000), "ZEUR")
    sim.set_prices({"BTC/EUR": D(20000), "EUR/USD": D("1.1")})
    sim.add_position("BTC/EUR", "short", D("0.5"), D(20000), leverage=5, fee=D(0))
    sim.set_prices({"BTC/EUR": D(22000)})
    eur = sim.trade_balance_payload("ZEUR")
    # cost 0.5 * 20,000 = 10,000 EUR, margin 2,000 EUR = 0.1 BTC; at 22,000: value 11,000, net -1,000,
    # used margin 0.1 BTC * 22,000 = 2,200 EUR; e = 5,000 - 1,000 = 4,000; ml = 4,000 / 2,200 = 181.818 %.
    assert (eur["tb"], eur["n"], eur["m"], eur["e"], eur["ml"]) == (
        "5000.0000", "-1000.0000", "2200.0000", "4000.0000", "181.82")
    usd = sim.trade_balance_payload("ZUSD")
    # USD: every EUR figure * 1.1: tb 5,500, n -1,100, m 2,420 (0.1 BTC * 22,000 EUR * 1.1), e 4,400.
    assert (usd["tb"], usd["n"], usd["m"], usd["e"], usd["ml"]) == (
        "5500.0000", "-1100.0000", "2420.0000", "4400.0000", "181.82")


def test_cross_through_eur_and_unknown_asset():
    sim = KrakenSim()
    sim.set_collateral({"GBP": D(1000), "ZUSD": D(100)})
    sim.set_prices({"GBP/EUR": D("1.2"), "EUR/USD": D("1.25")})
    # No GBP/USD pair: 1,000 GBP = 1,000 * 1.2 EUR * 1.25 = 1,500 USD (through EUR), plus 100 USD.
    assert sim.trade_balance_payload("ZUSD")["tb"] == "1600.0000"
    assert "ml" not in sim.trade_balance_payload("ZUSD")  # no margin used: Kraken omits ml
    with pytest.raises(KrakenApiError, match="EQuery:Unknown asset"):
        sim.trade_balance_payload("ZNOPE")


def test_knobs_make_kraken_contradict_itself():
    sim = KrakenSim()
    eth_btc_issue_book(sim)
    sim.knobs.reported_ml = D(50)
    sim.knobs.equity_offset = D(3000)
    sim.knobs.hide_positions = True
    tb = sim.trade_balance_payload()
    assert tb["ml"] == "50.00" and tb["e"] == "15400.0000"  # 12,400 + 3,000; tb + n still 12,400
    assert tb["m"] == "19000.0000" and sim.positions_payload({"docalcs": "true"}) == {}


def test_margin_levels_change_and_disappear_mid_run():
    sim = KrakenSim()
    sim.set_margin_levels("ETH/BTC", 100, 50)
    sim.set_margin_levels("BTC/EUR", None, None)
    rows = sim.asset_pairs_payload(None)
    assert (rows["XETHXXBT"]["margin_call"], rows["XETHXXBT"]["margin_stop"]) == (100, 50)
    assert "margin_call" not in rows["XXBTZEUR"] and "margin_stop" not in rows["XXBTZEUR"]
    assert (rows["XXBTZUSD"]["margin_call"], rows["XXBTZUSD"]["margin_stop"]) == (80, 40)
    sim.knobs.hidden_pairs.add("EUR/USD")
    assert "ZEURZUSD" not in sim.asset_pairs_payload(None)


# ----- through ccxt and KrakenExchange -----

def test_eth_btc_position_keeps_btc_amounts_and_balance_is_in_the_account_currency(server, make_kraken,
                                                                                     credentials):
    txid = eth_btc_issue_book(server)
    kraken = make_kraken(credentials, collateral_currency="BTC")
    state = kraken.fetch_account()
    assert server.requests_to("TradeBalance")[-1]["asset"] == "XXBT"  # BTC -> Kraken's XXBT
    # BTC account: tb 20,000 / 19,000; e = tb - 0.4; m = 1 BTC; ml 65.26 (see the derivation above).
    assert state.balance.currency == "BTC"
    assert state.balance.trade_balance == D("1.0526315789")
    assert state.balance.exchange_used_margin == D("1.0000000000")
    assert state.balance.exchange_unrealized_pnl == D("-0.4000000000")
    assert state.balance.exchange_margin_level == D("65.26")
    (p,) = state.positions
    # Quote-currency (BTC) amounts as Kraken sent them; the pair's unified symbol carries the quote.
    assert (p.id, p.pair, p.side) == (txid, "ETH/BTC", Side.LONG)
    assert (p.cost, p.margin, p.exchange_value, p.exchange_net) == (D("5.00000"), D("1.00000"), D("4.6000"),
                                                                     D("-0.4000"))
    assert kraken.listed_pairs()["ETH/BTC"] == ("ETH", "BTC")
    assert kraken.listed_pairs()["GBP/EUR"] == ("GBP", "EUR")  # listed although not a margin pair
    assert "GBP/EUR" not in kraken.load_pair_rules()


def test_eur_account_requests_zeur(server, make_kraken, credentials):
    eth_btc_issue_book(server)
    balance = make_kraken(credentials, collateral_currency="eur").fetch_account().balance
    assert server.requests_to("TradeBalance")[-1]["asset"] == "ZEUR"
    # EUR: tb 16,000, e 9,920, m 15,200 (derived in test_same_book_in_btc_and_eur_agrees_in_every_asset).
    assert (balance.currency, balance.trade_balance, balance.exchange_equity, balance.exchange_used_margin) == (
        "EUR", D("16000.0000"), D("9920.0000"), D("15200.0000"))


def test_unknown_account_currency_is_a_typed_refusal(server, make_kraken, credentials):
    kraken = make_kraken(credentials, collateral_currency="NOPE")
    with pytest.raises(Rejected, match="no asset NOPE"):
        kraken.fetch_account()
    assert server.requests_to("TradeBalance") == []  # nothing sent for a currency Kraken does not list


def test_rules_change_is_seen_on_the_next_read(server, kraken):
    assert kraken.load_pair_rules()["ETH/BTC"].margin_call_level == D(80)
    server.sim.set_margin_levels("ETH/BTC", 100, 50)
    rules = kraken.load_pair_rules()["ETH/BTC"]
    assert (rules.margin_call_level, rules.margin_stop_level) == (D(100), D(50))
    server.sim.set_margin_levels("ETH/BTC", None, 50)
    rules = kraken.load_pair_rules()["ETH/BTC"]
    # No margin_call: Kraken's usual 80/40, said out loud, never silently.
    assert (rules.margin_call_level, rules.margin_stop_level) == (D(80), D(40))
    assert rules.levels_unknown == "levels unknown, using 80/40"
    server.sim.set_margin_levels("ETH/BTC", 40, 50)  # stop above call: invalid
    rules = kraken.load_pair_rules()["ETH/BTC"]
    assert (rules.margin_call_level, rules.margin_stop_level) == (D(80), D(40))
    assert rules.levels_unknown == "levels invalid (40/50), using 80/40"
    assert kraken.load_pair_rules()["BTC/USD"].levels_unknown == ""
    server.sim.set_margin_levels("ETH/BTC", "eighty", 40)  # garbage is a bad response, not "unknown"
    with pytest.raises(BadResponse, match="margin_call"):
        kraken.load_pair_rules()


def test_currency_codes_map_both_ways():
    assert [kraken_asset(c) for c in ("BTC", "XBT", "eur", "USD", "ETH", "USDT", "CHF")] == [
        "XXBT", "XXBT", "ZEUR", "ZUSD", "XETH", "USDT", "CHF"]
    assert [common_code(c) for c in ("XXBT", "XBT", "ZEUR", "XETH", "usdc")] == ["BTC", "BTC", "EUR", "ETH", "USDC"]
