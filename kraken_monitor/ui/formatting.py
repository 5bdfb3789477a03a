"""Decimal -> display text for the UI: pair precision, thousands separators, never via float."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from kraken_monitor.domain.models import PairRules

DASH = "\u2013"  # shown for "no value" (None), never "0", so a missing figure cannot look safe


def fmt_decimal(value: Decimal | None, places: int, *, signed: bool = False) -> str:
    """Round half-even to `places` and group thousands: Decimal('12345.678'), 2 -> '12,345.68'."""
    if value is None:
        return DASH
    if not value.is_finite():
        return DASH
    places = max(0, int(places))
    try:
        # quantize first so the format below never depends on the context precision
        quantum = Decimal(1).scaleb(-places)
        value = value.quantize(quantum, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        pass  # too many digits for the context: the format spec still rounds correctly
    if value == 0:
        value = abs(value)  # "-0.00" reads like a loss
    text = format(value, f",.{places}f")
    if signed and value > 0:
        text = "+" + text
    return text


def fmt_price(value: Decimal | None, rules: PairRules | None) -> str:
    return fmt_decimal(value, rules.price_decimals if rules else 2)


def fmt_volume(value: Decimal | None, rules: PairRules | None) -> str:
    return fmt_decimal(value, rules.volume_decimals if rules else 8)


def fmt_money(value: Decimal | None, *, signed: bool = False) -> str:
    return fmt_decimal(value, 2, signed=signed)


def fmt_pct(value: Decimal | None, *, signed: bool = False) -> str:
    text = fmt_decimal(value, 2, signed=signed)
    return text if value is None else text + " %"


def fmt_leverage(value: Decimal | None) -> str:
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
