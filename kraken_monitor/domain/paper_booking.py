"""The paper account's booking arithmetic: money quanta, quote -> account conversion, input checks, position swaps."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.exposure import pair_currency
from kraken_monitor.domain.models import PairRules, Position

MONEY = Decimal("0.0001")  # Kraken keeps USD balances to 4 decimals (Assets: ZUSD decimals 4)
CRYPTO_MONEY = Decimal("0.0000000001")  # and BTC/ETH to 10 (Assets: XXBT decimals 10)
FIAT = frozenset({"USD", "EUR", "GBP", "CAD", "JPY", "CHF", "AUD"})
Prices = Mapping[str, Decimal] | None
Rules = Mapping[str, PairRules] | None


def swap_position(positions: tuple[Position, ...], old: Position, new: Position) -> tuple[Position, ...]:
    """`positions` with `old` replaced by `new` (matched by id), order kept."""
    return tuple(new if q.id == old.id else q for q in positions)


def convert(amount: Decimal, rate: Decimal | None, quantum: Decimal = MONEY) -> Decimal:
    """`amount` at `rate`, rounded to `quantum`; unchanged when no conversion is needed (rate None)."""
    return amount if rate is None else (amount * rate).quantize(quantum)


def quote_currency(pair: str, rules: Rules) -> str:
    """The pair's quote currency from its rules; USD when they do not say."""
    return pair_currency(pair, rules) or "USD"


def positive(value: object, what: str) -> Decimal:
    """`value` when it is a finite positive Decimal, else InvalidAmount naming `what`."""
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise InvalidAmount(f"{what} must be a positive number")
    return value
