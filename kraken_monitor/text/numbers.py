"""The one number format for every UI and CLI text: Decimal -> display string, never via float.

Money carries its currency, prices and volumes the pair's precision, thresholds read the same
everywhere (a margin call at 82.5 % is "82.5" on the gauge, in the tooltip, the popup and the table).
JSON is not made here: `worker/serialize.py` writes machine-readable decimal strings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from kraken_monitor.domain.models import PairRules

DASH = "\u2013"  # shown for "no value" (None), never "0", so a missing figure cannot look safe

MONEY_DECIMALS = 2  # fiat and stablecoin amounts (balances, P&L, fees)
CRYPTO_MONEY_DECIMALS = 8  # an amount in BTC, ETH ...: 2 places would show a 0.0034 BTC loss as "0.00"
# Currencies whose amounts read in cents; any other named currency is a crypto asset (Kraken's XBT, ETH ...).
CENT_CURRENCIES = frozenset({"USD", "EUR", "GBP", "CAD", "CHF", "AUD", "JPY", "USDT", "USDC", "DAI", "PYUSD"})
PCT_DECIMALS = 2  # percentages: distances, P&L %, an exchange-reported margin level
LEVEL_DECIMALS = 1  # a live margin level, e.g. "107.3 %"
DEFAULT_PRICE_DECIMALS = 2  # a pair whose AssetPairs rules are not (yet) known
DEFAULT_VOLUME_DECIMALS = 8


def fmt_decimal(value: Decimal | None, places: int, *, signed: bool = False) -> str:
    """Round half-even to `places` and group thousands: Decimal('12345.678'), 2 -> '12,345.68'."""
    if value is None or not value.is_finite():
        return DASH
    places = max(0, int(places))
    try:
        # quantize first so the format below never depends on the context precision
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        pass  # too many digits for the context: the format spec still rounds correctly
    if value == 0:
        value = abs(value)  # "-0.00" reads like a loss
    text = format(value, f",.{places}f")
    if signed and value > 0:
        text = "+" + text
    return text


def fmt_plain(value: Decimal, places: int) -> str:
    """Fixed places without grouping, for an input field that reads the text back: 1234.5, 2 -> '1234.50'."""
    places = max(0, int(places))
    try:
        # Explicit half-even: format() would round with the thread's context, which ccxt sets to half-up.
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        pass
    return format(value, f".{places}f")


def with_unit(text: str, unit: str) -> str:
    """'1,234.56' + 'USD' -> '1,234.56 USD'; the dash for a missing value stays bare."""
    return text if text == DASH or not unit else f"{text} {unit}"


def money_decimals(currency: str) -> int:
    """2 places for fiat and stablecoins (and an unnamed currency), 8 for a crypto asset: 'XBT' -> 8."""
    return MONEY_DECIMALS if not currency or currency.upper() in CENT_CURRENCIES else CRYPTO_MONEY_DECIMALS


def fmt_amount(value: Decimal | None, currency: str, *, signed: bool = False) -> str:
    """An amount in `currency`'s precision without the unit, for a column whose header names it."""
    return fmt_decimal(value, money_decimals(currency), signed=signed)


def fmt_money(value: Decimal | None, currency: str = "", *, signed: bool = False) -> str:
    """An amount in its currency's precision with its currency when given: '19,298.70 USD', '0.00340000 XBT'."""
    return with_unit(fmt_amount(value, currency, signed=signed), currency)


def price_decimals(rules: PairRules | None) -> int:
    return rules.price_decimals if rules is not None else DEFAULT_PRICE_DECIMALS


def volume_decimals(rules: PairRules | None) -> int:
    return rules.volume_decimals if rules is not None else DEFAULT_VOLUME_DECIMALS


def fmt_price(value: Decimal | None, rules: PairRules | None) -> str:
    """A price in the pair's own precision (AssetPairs `pair_decimals`)."""
    return fmt_decimal(value, price_decimals(rules))


def fmt_volume(value: Decimal | None, rules: PairRules | None) -> str:
    """A base-currency volume in the pair's lot precision (AssetPairs `lot_decimals`)."""
    return fmt_decimal(value, volume_decimals(rules))


def fmt_pct(value: Decimal | None, *, signed: bool = False, places: int = PCT_DECIMALS) -> str:
    """'43.58 %'; the dash when unknown."""
    return with_unit(fmt_decimal(value, places, signed=signed), "%")


def fmt_level(value: Decimal | None, *, none: str = DASH) -> str:
    """A margin level, one place: '107.3 %'; `none` where no margin is used (level undefined)."""
    return none if value is None else fmt_pct(value, places=LEVEL_DECIMALS)


def fmt_threshold(value: Decimal | None) -> str:
    """A configured level without noise but never rounded away: 80 -> '80', 82.5 -> '82.5', 82.25 -> '82.25'."""
    if value is None or not value.is_finite():
        return DASH
    if value == value.to_integral_value():
        return fmt_decimal(value, 0)
    exponent = value.normalize().as_tuple().exponent
    return fmt_decimal(value, -exponent if isinstance(exponent, int) else 2)


def fmt_leverage(value: Decimal | None) -> str:
    """'3.00x'."""
    text = fmt_decimal(value, 2)
    return text if value is None else text + "x"


def fmt_duration(delta: timedelta) -> str:
    """Compact duration: '45 s', '12 m 05 s', '3 h 07 m', '2 d 04 h'."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} m {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} m"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours:02d} h"


def fmt_minutes(minutes: int) -> str:
    """A snooze length: 15 -> '15 min', 60 -> '1 h', 240 -> '4 h'."""
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"


def fmt_time(value: datetime | None) -> str:
    """Local wall-clock time of an aware UTC datetime, e.g. '14:03:07'."""
    if value is None:
        return DASH
    return value.astimezone().strftime("%H:%M:%S")


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return DASH
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_until(target: datetime | None, now: datetime) -> str:
    """'in 1 h 05 m' relative to `now` (the snapshot time, so the table is deterministic)."""
    if target is None:
        return DASH
    delta = target - now
    if delta.total_seconds() <= 0:
        return "due"
    return "in " + fmt_duration(delta)
