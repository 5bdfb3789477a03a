"""Parse what a trader types into a Decimal amount, or raise InvalidAmount with a reason they can read."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QLocale

from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.text import numbers as fmt

# Spaces people (and locales such as fr_FR) use between thousands; apostrophe is the Swiss habit.
_SPACE_GROUPS = (" ", "\u00a0", "\u202f", "'", "\u2019")
_MINUS = ("-", "\u2212")
_MAX_INTEGER_DIGITS = 24  # far beyond any real amount; stops "9" * 10_000 from reaching the engine


def locale_decimal_point(locale: QLocale | None = None) -> str:
    """The decimal point of `locale` (default: the application's), normalised to '.' or ','."""
    point = (locale or QLocale()).decimalPoint()
    return "," if point == "," else "."


def to_input_text(value: Decimal, decimals: int, decimal_point: str | None = None) -> str:
    """Text to put into an amount field that `parse_amount` reads back to the same value."""
    text = fmt.fmt_plain(value, decimals)
    point = decimal_point or locale_decimal_point()
    return text.replace(".", point) if point != "." else text


def parse_amount(
    text: str,
    *,
    decimals: int,
    maximum: Decimal | None,
    allow_zero: bool = False,
    decimal_point: str | None = None,
    unit: str = "",
) -> Decimal:
    """A finite, non-negative Decimal with at most `decimals` places, not above `maximum`.

    The decimal point follows the locale ('.' or ','); the other character, spaces and apostrophes
    are accepted only as thousands separators in groups of three, so "1,500" in an English locale is
    1500 while "1,5" is refused instead of silently becoming 15 or 1.5 (a 1000x mistake on money).
    """
    point = decimal_point or locale_decimal_point()
    other = "," if point == "." else "."
    raw = (text or "").strip()
    if not raw:
        raise InvalidAmount("Enter an amount.")
    negative = raw[0] in _MINUS
    if raw[0] in _MINUS or raw[0] == "+":
        raw = raw[1:].strip()
    lowered = raw.lower()
    if lowered in ("nan", "snan", "qnan"):
        raise InvalidAmount("Not a number: enter an amount such as 100" + point + "50.")
    if lowered in ("inf", "infinity", "\u221e"):
        raise InvalidAmount("The amount must be finite.")
    if raw.count(point) > 1:
        raise InvalidAmount(f"Use '{point}' only once, as the decimal point.")
    integer_part, _, fraction = raw.partition(point)
    integer_digits = _ungroup(integer_part, other, point)
    if fraction and not (fraction.isascii() and fraction.isdigit()):
        raise InvalidAmount(f"Not a number: {text.strip()!r}.")
    if not integer_digits and not fraction:
        raise InvalidAmount(f"Not a number: {text.strip()!r}.")
    if len(integer_digits.lstrip("0")) > _MAX_INTEGER_DIGITS:
        raise InvalidAmount("That amount is too large.")
    fraction = fraction.rstrip("0")  # "1.50" with 1 decimal is fine
    if len(fraction) > max(decimals, 0):
        raise InvalidAmount(
            "Whole numbers only here." if decimals <= 0 else f"At most {decimals} decimal places here."
        )
    try:
        value = Decimal((integer_digits or "0") + ("." + fraction if fraction else ""))
    except InvalidOperation as err:  # defensive: the checks above should make this unreachable
        raise InvalidAmount(f"Not a number: {text.strip()!r}.") from err
    if value == 0:
        if not allow_zero:
            raise InvalidAmount("The amount must be greater than zero.")
        return Decimal(0)  # never hand "-0" on
    if negative:
        raise InvalidAmount("The amount must be positive.")
    if maximum is not None and value > maximum:
        shown = fmt.with_unit(fmt.fmt_decimal(maximum, decimals), unit)
        raise InvalidAmount(f"More than available: at most {shown}.")
    return value


def _ungroup(integer_part: str, other: str, point: str) -> str:
    """Digits of the integer part with valid thousands separators removed; anything else refused."""
    separators = re.escape(other) + "".join(re.escape(s) for s in _SPACE_GROUPS)
    groups = re.split(f"[{separators}]", integer_part)
    if any(not (g.isascii() and g.isdigit()) for g in groups if g) or (len(groups) > 1 and "" in groups):
        raise InvalidAmount(f"Not a number: {integer_part!r}.")
    if len(groups) > 1 and (len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:])):
        # "1,5" in an English locale: refuse rather than guess between 1.5 and 15.
        raise InvalidAmount(
            f"Use '{point}' as the decimal point (for example 1{point}5) and group thousands by three."
        )
    return "".join(groups)
