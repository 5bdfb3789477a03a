"""The one number format: rounding, units, dashes, and a threshold that reads the same everywhere."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.domain.models import PairRules
from kraken_monitor.text import numbers as fmt

D = Decimal
# price_decimals 1, volume_decimals 8, as Kraken's AssetPairs says for XBTUSD
BTC = PairRules("BTC/USD", "BTC", "USD", D("80"), D("40"), (2,), (2,), 1, 8, D("0.0001"), "XXBTZUSD")


def test_threshold_keeps_its_significant_decimals_and_drops_noise():
    assert fmt.fmt_threshold(D("82.5")) == "82.5"  # the gauge used to round this to "82"
    assert fmt.fmt_threshold(D("80")) == "80"
    assert fmt.fmt_threshold(D("80.00")) == "80"  # trailing zeros are noise, not precision
    assert fmt.fmt_threshold(D("82.25")) == "82.25"
    assert fmt.fmt_threshold(D("1E+3")) == "1,000"
    assert fmt.fmt_threshold(None) == fmt.DASH


def test_money_carries_its_currency_and_a_missing_amount_stays_a_bare_dash():
    assert fmt.fmt_money(D("19298.70210552"), "USD") == "19,298.70 USD"  # half-even to cents
    assert fmt.fmt_money(D("-2396.225"), "USD", signed=True) == "-2,396.22 USD"  # half-even: 2 stays
    assert fmt.fmt_money(D("12.5"), signed=True) == "+12.50"
    assert fmt.fmt_money(None, "USD") == fmt.DASH  # never "– USD", never "0.00"


def test_prices_and_volumes_use_the_pairs_precision_or_a_stated_default():
    assert fmt.fmt_price(D("64250.35"), BTC) == "64,250.4"  # 1 place: .35 -> .4 (half-even, 3 is odd)
    assert fmt.fmt_price(D("64250.25"), BTC) == "64,250.2"  # .25 -> .2 (half-even, 2 is even)
    assert fmt.fmt_price(D("0.61234"), None) == "0.61"  # no rules yet: DEFAULT_PRICE_DECIMALS = 2
    assert fmt.fmt_volume(D("0.3158004449"), BTC) == "0.31580044"
    assert fmt.fmt_volume(D("1E+1"), BTC) == "10.00000000"  # never exponent form


def test_levels_and_percentages():
    assert fmt.fmt_level(D("107.31654")) == "107.3 %"
    assert fmt.fmt_level(D("1234.56")) == "1,234.6 %"
    assert fmt.fmt_level(None, none="no margin used") == "no margin used"
    assert fmt.fmt_pct(D("43.57984")) == "43.58 %"
    assert fmt.fmt_pct(D("0.0040") * 100) == "0.40 %"
    assert fmt.fmt_pct(D("-0.001"), signed=True) == "0.00 %"  # no "-0.00 %"
    assert fmt.fmt_leverage(D("3")) == "3.00x"


def test_input_text_is_ungrouped_so_it_parses_back():
    assert fmt.fmt_plain(D("1234.5"), 2) == "1234.50"
    assert fmt.fmt_plain(D("1234.5"), 0) == "1234"  # half-even: 4 is even


def test_durations_and_times():
    assert fmt.fmt_duration(timedelta(seconds=45)) == "45 s"
    assert fmt.fmt_duration(timedelta(minutes=12, seconds=5)) == "12 m 05 s"
    assert fmt.fmt_duration(timedelta(hours=3, minutes=7, seconds=59)) == "3 h 07 m"
    assert fmt.fmt_duration(timedelta(days=2, hours=4)) == "2 d 04 h"
    assert fmt.fmt_duration(timedelta(seconds=-5)) == "0 s"
    assert fmt.fmt_minutes(15) == "15 min" and fmt.fmt_minutes(240) == "4 h"
    now = datetime(2026, 2, 10, 12, 0, tzinfo=timezone.utc)
    assert fmt.fmt_until(now + timedelta(hours=1, minutes=5), now) == "in 1 h 05 m"
    assert fmt.fmt_until(now, now) == "due"
    assert fmt.fmt_until(None, now) == fmt.DASH


def test_money_in_a_crypto_currency_keeps_its_satoshis():
    from kraken_monitor.text.numbers import fmt_amount, fmt_money

    # A 0.0034 BTC loss in a BTC-denominated account: cents would print "-0.00 XBT" (a loss that reads as nothing).
    assert fmt_money(Decimal("-0.0034"), "XBT", signed=True) == "-0.00340000 XBT"
    assert fmt_amount(Decimal("1234.5678"), "ETH") == "1,234.56780000"
    # Fiat and stablecoins stay in cents; an unnamed currency too (a header names it).
    assert fmt_money(Decimal("19298.704"), "USD") == "19,298.70 USD"
    assert fmt_money(Decimal("0.125"), "USDT") == "0.12 USDT"  # half-even
    assert fmt_amount(Decimal("0.125"), "") == "0.12"
