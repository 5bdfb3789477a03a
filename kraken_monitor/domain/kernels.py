"""Margin kernels shared by the per-cycle engine and margin.py: leverage, isolated triggers, levels.

Sources: shared reference "Kraken margin" sections 1 and 2 (support 203325693, 203053156, 203325763;
Kraken Futures 360022835671). Callers validate their inputs and run inside the engine context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from kraken_monitor.domain.decimals import HUNDRED, ZERO, require_positive
from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.models import (
    AccountFigures,
    Balance,
    MarginMode,
    PairRules,
    Position,
    Risk,
    Side,
)

# Kraken's usual thresholds (support 203325763), used ONLY when no held pair has AssetPairs rules:
# the per-pair `margin_call` / `margin_stop` are the truth whenever they are known.
DEFAULT_MARGIN_CALL_LEVEL = Decimal(80)
DEFAULT_LIQUIDATION_LEVEL = Decimal(40)
# Enum member access is slow on Python 3.11 (a property per lookup); the hot loops use these.
_LONG, _SHORT, _CROSS, _OK = Side.LONG, Side.SHORT, MarginMode.CROSS, Risk.OK
DEFAULT_MAINTENANCE_RATE = PairRules("", "", "", ZERO, ZERO).maintenance_rate
_LEVERAGE_SNAP = Decimal("1e-6")


# -- kernels (callers validate their inputs and run inside the engine context) -----------------


def _leverage(cost: Decimal, margin: Decimal) -> Decimal:
    # Kraken opens at a whole leverage (AssetPairs leverage_buy/sell) but rounds `margin` in its
    # payloads, so cost / margin comes out as 5.0000000009: report the leverage the trader chose.
    ratio = cost / margin
    whole = ratio.to_integral_value()
    return whole if abs(ratio - whole) <= _LEVERAGE_SNAP * ratio else ratio


def _price(price: Decimal, pair: str) -> Decimal:
    if price is None:
        raise InvalidAmount(f"No price is known for {pair}.")
    return require_positive(price, f"Price of {pair}")


def allocated_margin(p: Position) -> Decimal:
    """Collateral backing an isolated position (reference section 2)."""
    # An isolated position the venue reported without an allocation holds exactly its opening margin.
    return p.allocated_margin if p.allocated_margin is not None else p.margin


def _short_slope(p: Position) -> Decimal:
    """d(used margin)/d(price) of a short = V / L = margin * V / cost (support 203053156)."""
    return p.margin * p.remaining_volume / p.cost


def _solve(equity: Decimal, used: Decimal, a: Decimal, b: Decimal, price: Decimal, level: Decimal):
    """Price where (equity + a*dP) / (used + b*dP) = level/100 (reference section 1, several positions).

    Equity and used margin are both linear in one pair's price, so the solve is exact from any
    starting price. None when the level does not depend on the price (a - x*b == 0) or P <= 0.
    """
    x = level / HUNDRED
    den = a - x * b
    if den == 0:
        return None
    result = price + (x * used - equity) / den
    return result if result > 0 else None


def _isolated_level(p: Position, price: Decimal) -> Decimal:
    value = price * p.remaining_volume
    if p.side is _LONG:
        return (allocated_margin(p) + value - p.cost) / p.margin * HUNDRED
    return (allocated_margin(p) + p.cost - value) / (p.margin * value / p.cost) * HUNDRED


def _isolated_trigger(p: Position, level: Decimal) -> Decimal | None:
    entry = p.cost / p.remaining_volume
    # At the entry price upnl is 0 and a short's used margin equals its opening margin.
    if p.side is _LONG:
        return _solve(allocated_margin(p), p.margin, p.remaining_volume, ZERO, entry, level)
    return _solve(allocated_margin(p), p.margin, -p.remaining_volume, _short_slope(p), entry, level)


def _isolated_liquidation(p: Position, rate: Decimal) -> Decimal | None:
    volume = p.remaining_volume
    allocated = allocated_margin(p)
    if p.side is _LONG:
        den = volume * (1 - rate)
        if den <= 0:
            return None
        result = (p.cost - allocated) / den
        return result if result > 0 else None
    return (allocated + p.cost) / (volume * (1 + rate))


def _cross(positions: Iterable[Position]) -> list[Position]:
    return [p for p in positions if p.margin_mode is _CROSS]


def liquidation_order(positions: Iterable[Position]) -> dict[str, int]:
    """Kraken liquidates the oldest position first, regardless of pair or profit (support 203325763)."""
    ordered = sorted(_cross(positions), key=lambda p: (p.opened_at, p.id))
    return {p.id: rank for rank, p in enumerate(ordered, start=1)}


def _levels(cross_pairs: set[str], rules: Mapping[str, PairRules]) -> tuple[Decimal, Decimal]:
    known = [rules[pair] for pair in cross_pairs if pair in rules]
    if not known:
        return DEFAULT_MARGIN_CALL_LEVEL, DEFAULT_LIQUIDATION_LEVEL
    return max(r.margin_call_level for r in known), max(r.margin_stop_level for r in known)


def account_levels(positions: Iterable[Position], rules: Mapping[str, PairRules]) -> tuple[Decimal, Decimal]:
    """(margin-call, liquidation) levels of the cross account: the strictest (highest) of the pairs held.

    Kraken publishes them per pair (AssetPairs margin_call / margin_stop, support 203325763); the
    account has one level, so the highest threshold among held pairs is the one reached first.
    80/40 only when no held pair has known rules (nothing better is known).
    """
    return _levels({p.pair for p in _cross(positions)}, rules)


def account_record(balance: Balance, equity, used, levels, exchange_ml=None) -> AccountFigures:
    """AccountFigures from the cross sums: e = tb + n, mf = e - m, ml = e / m * 100 (support 203325693)."""
    call_level, stop_level = levels
    return AccountFigures(
        currency=balance.currency,
        trade_balance=balance.trade_balance,
        equity=equity,
        used_margin=used,
        free_margin=equity - used,
        margin_level=equity / used * HUNDRED if used else None,
        margin_level_exchange=exchange_ml if exchange_ml is not None else balance.exchange_margin_level,
        margin_call_level=call_level,
        liquidation_level=stop_level,
    )


def unknown_account(balance: Balance, levels, reason: str, exchange_ml=None) -> AccountFigures:
    """The cross account when a figure it needs is missing: tb as reported, the rest None, `reason` why."""
    call_level, stop_level = levels
    return AccountFigures(
        currency=balance.currency,
        trade_balance=balance.trade_balance,
        equity=None,
        used_margin=None,
        free_margin=None,
        margin_level=None,
        margin_level_exchange=exchange_ml if exchange_ml is not None else balance.exchange_margin_level,
        margin_call_level=call_level,
        liquidation_level=stop_level,
        unknown_reason=reason,
    )
