"""Kraken Futures margin-mode switch (isolated -> cross) and flex collateral transfer previews, with Kraken's refusals.

Kraken's set_preference / PUT leveragepreferences (docs unified-ws/set_preference; multi-collateral
set-leverage-settings): a change "can be rejected if it exceeds the permitted leverage, leaves insufficient
margin, or would cause liquidation" (REST error 41). Going back to cross is the same PUT without maxLeverage,
so the same rules apply to it: the position's allocated margin returns to the cross pool, the position then
takes its tier's initial margin from the available margin, and the cross pool must still cover every cross
position's maintenance margin. Pure; Decimal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kraken_monitor.domain.futures import FlexAccount, FuturesPosition, allocated_margin, margin_level
from kraken_monitor.domain.futures_liquidation import (
    ZERO,
    CrossLeg,
    FuturesContract,
    Refusal,
    cross_liquidation_price,
)
from kraken_monitor.domain.models import MarginMode


@dataclass(frozen=True)
class CrossPreview:
    """What putting one isolated position back into the cross pool would do, or why Kraken would refuse."""

    pair: str
    released_margin: Decimal  # the isolated allocation that returns to the pool
    cross_initial_margin: Decimal  # notional x the tier's initial rate, taken in cross
    available_before: Decimal
    available_after: Decimal
    cross_pool_after: Decimal  # collateral - remaining isolated allocations + the cross positions' P&L and funding
    cross_maintenance_after: Decimal  # every cross position's maintenance margin, this one included
    liquidation_price: Decimal | None  # the position's estimate as a cross leg, other marks held
    refusal: Refusal | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def _leg(p: FuturesPosition, marks: Mapping[str, Decimal], contracts: Mapping[str, FuturesContract]) -> CrossLeg:
    return CrossLeg(p.side, p.volume, p.entry_price, marks[p.pair], p.unrealized_funding, contracts[p.pair])


def preview_back_to_cross(target: FuturesPosition, positions: Sequence[FuturesPosition],
                          marks: Mapping[str, Decimal], contracts: Mapping[str, FuturesContract],
                          flex: FlexAccount) -> CrossPreview:
    """`target` (isolated, one of `positions`) after PUT leveragepreferences without maxLeverage.

    available after = available + released allocation - notional x initial rate (it now margins as cross)
    cross pool after = collateral - other isolated allocations + P&L + funding of the cross positions (target in)
    Refused: pool <= cross maintenance (would cause liquidation, error 41); available after < 0 (insufficient
    margin). KeyError when a mark or a contract is missing (the caller has no fresh figures).
    """
    released = allocated_margin(target) or ZERO
    notional = target.volume * marks[target.pair]
    contract = contracts[target.pair]
    cross_initial = notional * contract.tier(notional).initial_rate
    others = [p for p in positions if p.id != target.id]
    isolated_left = sum((allocated_margin(p) or ZERO for p in others if p.margin_mode is MarginMode.ISOLATED), ZERO)
    cross_legs = [_leg(p, marks, contracts) for p in others if p.margin_mode is MarginMode.CROSS]
    leg = _leg(target, marks, contracts)
    pool = (flex.collateral_value - isolated_left
            + sum((g.pnl() + g.unrealized_funding for g in [*cross_legs, leg]), ZERO))
    maintenance = sum((g.maintenance() for g in [*cross_legs, leg]), ZERO)
    available_after = flex.available_margin + released - cross_initial
    refusal = None
    if pool <= maintenance:
        refusal = Refusal.WOULD_CAUSE_LIQUIDATION
    elif available_after < 0:
        refusal = Refusal.INSUFFICIENT_MARGIN
    liquidation = cross_liquidation_price(leg, cross_legs, flex.collateral_value, isolated_left)
    return CrossPreview(target.pair, released, cross_initial, flex.available_margin,
                        available_after if refusal is None else flex.available_margin, pool, maintenance,
                        liquidation, refusal)


@dataclass(frozen=True)
class TransferPreview:
    """The flex account after a collateral transfer of `amount` (USD-valued collateral counts one for one)."""

    amount: Decimal
    currency: str
    available_before: Decimal
    available_after: Decimal | None  # None: Kraken values this currency with its haircut and price
    margin_level_before: Decimal | None
    margin_level_after: Decimal | None


# Collateral Kraken values at par in the USD flex account (no haircut, no conversion) for the preview.
PAR_CURRENCIES = frozenset({"USD"})


def preview_transfer(flex: FlexAccount, amount: Decimal, currency: str) -> TransferPreview:
    """Cash wallet -> flex: margin equity and available margin grow by the amount's collateral value.

    margin level after = (margin equity + amount) / maintenance x 100 (None without maintenance margin).
    Other currencies are valued by Kraken with a haircut the monitor does not know: no "after" figures.
    """
    before = margin_level(flex)
    if currency.upper() not in PAR_CURRENCIES:
        return TransferPreview(amount, currency, flex.available_margin, None, before, None)
    after = (flex.margin_equity + amount) / flex.maintenance_margin * 100 if flex.maintenance_margin > 0 else None
    return TransferPreview(amount, currency, flex.available_margin, flex.available_margin + amount, before, after)
