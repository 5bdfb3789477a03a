"""Kraken Futures (flex, linear) liquidation estimates and the isolated leverage-change preview (pure, Decimal).

Kraken judges liquidation on the mark price. A position's maintenance margin is size x mark x the
maintenance rate of the tier its notional falls in; the tier can change between today's mark and the
liquidation price, so every solve is repeated with the tier at the answer until it is consistent.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kraken_monitor.domain.models import Side

ZERO = Decimal(0)


@dataclass(frozen=True)
class MarginTier:
    """One row of an instrument's marginLevels: from this notional (USD) on, these rates apply."""

    from_notional: Decimal
    initial_rate: Decimal
    maintenance_rate: Decimal


@dataclass(frozen=True)
class FuturesContract:
    """A flex perpetual: unified symbol (BTC/USD:USD), Kraken id (PF_XBTUSD), margin schedule, tick size."""

    symbol: str
    exchange_id: str
    tiers: tuple[MarginTier, ...]
    tick_size: Decimal = Decimal("0.1")

    def tier(self, notional: Decimal) -> MarginTier:
        rows = sorted(self.tiers, key=lambda t: t.from_notional)
        chosen = rows[0]
        for row in rows:
            if abs(notional) >= row.from_notional:
                chosen = row
        return chosen

    def max_leverage(self, notional: Decimal) -> Decimal:
        return 1 / self.tier(notional).initial_rate


def _sign(side: Side) -> int:
    return 1 if side is Side.LONG else -1


def pnl_at(side: Side, size: Decimal, entry: Decimal, mark: Decimal) -> Decimal:
    """Linear contract (contract size 1, USD-margined): size x (mark - entry), negated for a short."""
    return _sign(side) * size * (mark - entry)


def _solve_with_tiers(contract: FuturesContract, size: Decimal, mark: Decimal,
                      solve: Callable[[Decimal], Decimal | None]) -> Decimal | None:
    """solve(maintenance_rate) -> price; repeated with the tier at the answer until the tier stops changing."""
    rate = contract.tier(size * mark).maintenance_rate
    price = None
    for _ in range(len(contract.tiers) + 1):
        price = solve(rate)
        if price is None:
            return None
        new_rate = contract.tier(size * price).maintenance_rate
        if new_rate == rate:
            return price
        rate = new_rate
    return price


def isolated_liquidation_price(side: Side, size: Decimal, entry: Decimal, allocated: Decimal, mark: Decimal,
                               contract: FuturesContract) -> Decimal | None:
    """Mark L where allocated + P&L(L) = size x L x m (the position is ring-fenced: nothing else counts).

    long:  A + s(L - E) = s L m  ->  L = (s E - A) / (s (1 - m))
    short: A - s(L - E) = s L m  ->  L = (s E + A) / (s (1 + m))
    None when no positive mark liquidates it (a long with margin >= its entry value).
    """
    if size <= 0:
        return None

    def solve(m: Decimal) -> Decimal | None:
        if side is Side.LONG:
            price = (size * entry - allocated) / (size * (1 - m))
        else:
            price = (size * entry + allocated) / (size * (1 + m))
        return price if price > 0 else None

    return _solve_with_tiers(contract, size, mark, solve)


@dataclass(frozen=True)
class CrossLeg:
    """One cross position at today's mark, as the cross liquidation solve needs it."""

    side: Side
    size: Decimal
    entry: Decimal
    mark: Decimal
    unrealized_funding: Decimal
    contract: FuturesContract

    def pnl(self) -> Decimal:
        return pnl_at(self.side, self.size, self.entry, self.mark)

    def maintenance(self) -> Decimal:
        notional = self.size * self.mark
        return notional * self.contract.tier(notional).maintenance_rate


def cross_liquidation_price(leg: CrossLeg, others: Sequence[CrossLeg], collateral_value: Decimal,
                            isolated_allocated: Decimal) -> Decimal | None:
    """Mark L of `leg`'s contract where the cross pool equals the cross maintenance margin, other marks held.

    pool(L) = collateral - isolated allocated + funding + P&L(others) + P&L(leg at L)   (C' = all but the last)
    long:  C' + s(L - E) = MMo + s L m  ->  L = (MMo - C' + s E) / (s (1 - m))
    short: C' - s(L - E) = MMo + s L m  ->  L = (C' + s E - MMo) / (s (1 + m))
    Unrealized funding of the cross positions is in the pool because Kraken counts it in margin equity.
    """
    if leg.size <= 0:
        return None
    base = (collateral_value - isolated_allocated + leg.unrealized_funding
            + sum((o.pnl() + o.unrealized_funding for o in others), ZERO))
    others_mm = sum((o.maintenance() for o in others), ZERO)
    s, e = leg.size, leg.entry

    def solve(m: Decimal) -> Decimal | None:
        if leg.side is Side.LONG:
            price = (others_mm - base + s * e) / (s * (1 - m))
        else:
            price = (base + s * e - others_mm) / (s * (1 + m))
        return price if price > 0 else None

    return _solve_with_tiers(leg.contract, s, leg.mark, solve)


def distance_pct(mark: Decimal, liquidation: Decimal | None, side: Side) -> Decimal | None:
    """How far (in % of the mark) the mark may move against the position before liquidation; 0 if past it."""
    if liquidation is None or mark <= 0:
        return None
    away = (mark - liquidation) if side is Side.LONG else (liquidation - mark)
    return max(ZERO, away / mark * 100)


class Refusal(str, enum.Enum):
    """Why Kraken refuses a leverage change (the text layer words it)."""

    NOT_POSITIVE = "not_positive"
    ABOVE_MAXIMUM = "above_maximum"
    WOULD_CAUSE_LIQUIDATION = "would_cause_liquidation"  # Kraken error 41
    INSUFFICIENT_MARGIN = "insufficient_margin"


@dataclass(frozen=True)
class LeveragePreview:
    """What setting an isolated position's leverage to `leverage` would do, or why Kraken would refuse it."""

    leverage: Decimal
    allocated_margin: Decimal  # size x entry / leverage
    margin_change: Decimal  # > 0 moves margin into the position (lower leverage), < 0 releases it
    liquidation_price: Decimal | None
    available_margin: Decimal  # the account's available margin afterwards
    maximum_leverage: Decimal
    refusal: Refusal | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def preview_leverage_change(side: Side, size: Decimal, entry: Decimal, mark: Decimal, current_allocated: Decimal,
                            new_leverage: Decimal, available_margin: Decimal,
                            contract: FuturesContract) -> LeveragePreview:
    """The isolated position after `new_leverage`, judged as Kraken does: refused when its new margin plus P&L
    is at or below its maintenance margin (would cause liquidation), when the extra margin exceeds the
    account's available margin, or beyond the tier's maximum leverage. `current_allocated` = 0 for cross."""
    notional = size * mark
    maximum = contract.max_leverage(notional)
    if new_leverage <= 0:
        return LeveragePreview(new_leverage, ZERO, ZERO, None, available_margin, maximum, Refusal.NOT_POSITIVE)
    allocated = size * entry / new_leverage
    change = allocated - current_allocated
    liquidation = isolated_liquidation_price(side, size, entry, allocated, mark, contract)
    maintenance = notional * contract.tier(notional).maintenance_rate
    refusal = None
    if new_leverage > maximum:
        refusal = Refusal.ABOVE_MAXIMUM
    elif allocated + pnl_at(side, size, entry, mark) <= maintenance:
        refusal = Refusal.WOULD_CAUSE_LIQUIDATION
    elif change > available_margin:
        refusal = Refusal.INSUFFICIENT_MARGIN
    after = available_margin if refusal is not None else available_margin - change
    return LeveragePreview(new_leverage, allocated, change, liquidation, after, maximum, refusal)
