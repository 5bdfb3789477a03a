"""fx_rate / fx_pairs_needed: direct, inverse and USD-cross conversion from Kraken's own pair prices."""

from decimal import Decimal as D

import pytest

from kraken_monitor.domain.fx import common_currency, fx_missing_pair, fx_pairs_needed, fx_path, fx_rate
from kraken_monitor.domain.models import PairRules


def _rule(symbol: str) -> PairRules:
    base, quote = symbol.split("/")
    return PairRules(symbol, base, quote, D(80), D(40))


RULES = {s: _rule(s) for s in ("BTC/USD", "BTC/EUR", "ETH/BTC", "EUR/USD", "USD/JPY", "ETH/EUR")}
PRICES = {"BTC/USD": D("60000"), "BTC/EUR": D("55000"), "ETH/BTC": D("0.05"), "EUR/USD": D("1.08"),
          "USD/JPY": D("150"), "ETH/EUR": D("2750")}


def test_same_currency_is_exactly_one_and_needs_no_pair():
    assert fx_rate("USD", "USD", {}, {}) == 1
    assert fx_rate("XBT", "BTC", {}, {}) == 1  # XBT is Kraken's name for BTC
    assert fx_pairs_needed(["USD"], "USD", RULES) == ()


def test_direct_pair_is_its_price():
    # 1 BTC is worth the BTC/USD price in USD.
    assert fx_rate("BTC", "USD", PRICES, RULES) == D("60000")


def test_inverse_pair_is_one_over_its_price():
    # 1 USD = 1 / 1.08 EUR = 0.9259259259... EUR
    assert fx_rate("USD", "EUR", PRICES, RULES) == D(1) / D("1.08")


def test_cross_through_usd_when_no_direct_pair():
    # No EUR/JPY market: EUR -> USD (x 1.08) then USD -> JPY (x 150) = 162 JPY per EUR.
    assert fx_path("EUR", "JPY", RULES) == (("EUR/USD", False), ("USD/JPY", False))
    assert fx_rate("EUR", "JPY", PRICES, RULES) == D("162.00")
    # JPY -> EUR is the inverse of both legs: 1 / 150 / 1.08.
    assert fx_rate("JPY", "EUR", PRICES, RULES) == D(1) / D(150) / D("1.08")


def test_direct_pair_is_preferred_over_the_cross():
    # BTC/EUR exists (55,000), although BTC/USD / EUR/USD would give 55,555.55...
    assert fx_rate("BTC", "EUR", PRICES, RULES) == D("55000")


def test_missing_price_is_none_never_one():
    prices = {k: v for k, v in PRICES.items() if k != "EUR/USD"}
    assert fx_rate("EUR", "USD", prices, RULES) is None
    assert fx_rate("EUR", "JPY", prices, RULES) is None
    assert fx_missing_pair("EUR", "JPY", RULES, prices) == "EUR/USD"
    assert fx_rate("EUR", "USD", {**PRICES, "EUR/USD": D(0)}, RULES) is None


def test_no_market_connects_the_currencies():
    assert fx_rate("GBP", "USD", PRICES, RULES) is None
    assert fx_missing_pair("GBP", "USD", RULES, PRICES) == "GBP/USD"
    assert fx_pairs_needed(["GBP"], "USD", RULES) == ()


def test_symbols_without_rules_are_markets_too():
    # The FX pair has no margin rules: its symbol alone says base EUR, quote USD.
    assert fx_rate("EUR", "USD", {"EUR/USD": D("1.1")}, {}) == D("1.1")


def test_pairs_needed_for_a_mixed_book_in_a_usd_account():
    # ETH/BTC (quote BTC) needs BTC/USD; ETH/EUR (quote EUR) needs EUR/USD; USD needs nothing.
    assert fx_pairs_needed(["BTC", "EUR", "USD"], "USD", RULES) == ("BTC/USD", "EUR/USD")
    # In a JPY account BTC goes through USD: BTC/USD and USD/JPY.
    assert fx_pairs_needed(["BTC"], "JPY", RULES) == ("BTC/USD", "USD/JPY")


@pytest.mark.parametrize(("code", "common"), [("XBT", "BTC"), ("XXBT", "BTC"), ("ZUSD", "USD"), ("ZEUR", "EUR"),
                                              ("XETH", "ETH"), ("XDG", "DOGE"), ("usdt", "USDT")])
def test_common_currency(code, common):
    assert common_currency(code) == common
