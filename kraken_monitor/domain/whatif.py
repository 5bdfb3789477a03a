"""What-if previews: price shock, deposit, add isolated margin, partial close, settle, and what it takes.

Every function returns new figures computed by `margin.compute` on a modified copy of the inputs;
the inputs are frozen records and are never mutated. Remedies follow Kraken support 203325763 (deposit
collateral, close part of a position, settle) and reference section 2 (add margin: isolated only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from kraken_monitor.domain import costs, margin
from kraken_monitor.domain.decimals import (
    HUNDRED,
    ONE,
    ZERO,
    engine_context,
    require_finite,
    require_positive,
)
from kraken_monitor.domain.errors import InvalidAmount, NotSupported, UnknownRate
from kraken_monitor.domain.exposure import currency_rates, missing_reason, pair_currency
from kraken_monitor.domain.fx import common_currency
from kraken_monitor.domain.models import (
    AccountFigures,
    AccountState,
    MarginMode,
    PairRules,
    Position,
    PositionFigures,
)

Prices = Mapping[str, Decimal]
Rules = Mapping[str, PairRules]
_MAX_CYCLES = 6 * 366 * 100  # 100 years of 4-hour marks


@dataclass(frozen=True)
class WhatIfClose:
    """Outcome of closing part of a position at the current price."""

    realized_pnl: Decimal  # share of unrealised P&L realised, before the closing fee
    fees: Decimal  # closing trading fee (opening fee and rollovers are already paid)
    net_realized: Decimal  # realized_pnl - fees, credited to the trade balance
    account: AccountFigures
    position_after: PositionFigures | None  # None when the whole position is closed
    # Net P&L of the part closed, in the table's meaning: its share of the fees charged so far too
    # (closing everything at market: exactly the table's Net P&L).
    pnl: costs.PnlBreakdown | None = None


def _find(state: AccountState, position_id: str) -> Position:
    for p in state.positions:
        if p.id == position_id:
            return p
    raise NotSupported(f"Position {position_id} is not open any more.")


def _without(state: AccountState, position_id: str, *replacement: Position) -> tuple[Position, ...]:
    result: list[Position] = []
    for p in state.positions:
        result.extend(replacement if p.id == position_id else (p,))
    return tuple(result)


def _rate(state: AccountState, p: Position, prices: Prices, rules: Rules) -> Decimal:
    """Account-currency units per unit of the position's quote currency (exposure.py), or UnknownRate."""
    account = common_currency(state.balance.currency)
    ccy = pair_currency(p.pair, rules) or account
    rates, _, missing = currency_rates((ccy,), account, prices, rules)
    rate = rates[ccy]
    if rate is None:
        raise UnknownRate(f"Cannot convert {p.pair} into {account}: {missing_reason(missing, account)}.")
    return rate


def _known(account: AccountFigures) -> AccountFigures:
    """The account figures, or UnknownRate when they cannot be known (a preview must not guess)."""
    if account.unknown_reason:
        raise UnknownRate(f"The account's figures are unknown: {account.unknown_reason}.")
    return account


def _x(level: Decimal) -> Decimal:
    return require_positive(level, "Target margin level") / HUNDRED


@engine_context
def price_shock(state: AccountState, prices: Prices, rules: Rules, pair: str, pct: Decimal) -> AccountFigures:
    """Account figures if `pair` moved by `pct` percent (-10 = a 10% drop), every other pair held.

    Recomputed with the section 1 definitions (support 203325693), shorts' used margin revalued.
    """
    require_finite(pct, "Price change")
    if pct <= -HUNDRED:
        raise InvalidAmount(f"A price cannot fall by {-pct}% or more (it would be zero or negative).")
    if pair not in prices:
        raise InvalidAmount(f"No price is known for {pair}.")
    shocked = dict(prices)
    shocked[pair] = prices[pair] * (ONE + pct / HUNDRED)
    return margin.account_figures(state.balance, state.positions, shocked, rules)


@engine_context
def deposit(state: AccountState, prices: Prices, rules: Rules, amount: Decimal) -> AccountFigures:
    """Account figures after depositing `amount` of collateral (account currency) (support 203325763)."""
    require_positive(amount, "Deposit amount")
    balance = replace(state.balance, trade_balance=state.balance.trade_balance + amount)
    return margin.account_figures(balance, state.positions, prices, rules)


@engine_context
def add_isolated_margin(
    state: AccountState,
    prices: Prices,
    rules: Rules,
    position_id: str,
    amount: Decimal,
    now: datetime | None = None,
) -> PositionFigures:
    """The isolated position's figures after allocating `amount` more margin (reference section 2).

    Kraken spot is cross-only (ccxt `kraken.has['addMargin'] = False`): a cross position raises
    NotSupported, with the remedies that do exist in the message. `amount` is in the position's
    quote currency (an isolated position's collateral is held there, like its cost).
    """
    require_positive(amount, "Margin to add")
    p = _find(state, position_id)
    if p.margin_mode is not MarginMode.ISOLATED:
        raise NotSupported(
            "Kraken spot margin is account-wide (cross): margin cannot be added to one position. "
            "Deposit collateral or close part of a position instead."
        )
    funded = replace(p, allocated_margin=margin.allocated_margin(p) + amount)
    alone = AccountState(state.balance, (funded,), state.as_of)
    return margin.compute(alone, prices, rules, now or state.as_of)[1][0]


@engine_context
def cross_after_allocation(state: AccountState, prices: Prices, rules: Rules, amount: Decimal) -> AccountFigures:
    """The cross account after `amount` leaves its trade balance for an isolated position (reference section 2).

    The allocation is collateral taken from the cross balance, so every cross position's margin
    level and margin-call / liquidation prices move with it.
    """
    require_positive(amount, "Margin to add")
    balance = replace(state.balance, trade_balance=state.balance.trade_balance - amount)
    return margin.account_figures(balance, state.positions, prices, rules)  # counts cross positions only


def _scaled(p: Position, keep: Decimal, closed: Decimal) -> Position:
    """The part of `p` left after closing `closed` volume: entry price kept, cost/margin/fees scaled."""
    return replace(
        p,
        volume_closed=p.volume_closed + closed,
        cost=p.cost * keep,
        margin=p.margin * keep,
        trading_fee=p.trading_fee * keep,
        opening_fee=None if p.opening_fee is None else p.opening_fee * keep,
        allocated_margin=None if p.allocated_margin is None else p.allocated_margin * keep,
        exchange_value=None,  # the exchange's figures describe the position before the close
        exchange_net=None,
    )


@engine_context
def partial_close(
    state: AccountState,
    prices: Prices,
    rules: Rules,
    position_id: str,
    volume: Decimal,
    fee_rate: Decimal,
    now: datetime | None = None,
) -> WhatIfClose:
    """Close `volume` at the current price paying `fee_rate` of its value (support 203325763, 206161568).

    The realised share of P&L minus the closing fee goes to the trade balance; for an isolated
    position the freed share of its allocation returns there too. Money is in the quote currency
    until it is credited: realized_pnl, fees and net_realized are converted into the account
    currency at the current FX rate (section 1b).
    """
    p = _find(state, position_id)
    margin.check_position(p)
    require_positive(volume, "Volume to close")
    require_finite(fee_rate, "Fee rate")
    if not ZERO <= fee_rate < ONE:
        raise InvalidAmount(f"Fee rate must be between 0 and 1 (got {fee_rate}).")
    remaining = p.remaining_volume
    if volume > remaining:
        raise InvalidAmount(f"Cannot close {volume}: only {remaining} of position {p.id} is open.")
    price = margin._price(prices.get(p.pair), p.pair)
    rate = _rate(state, p, prices, rules)
    share = volume / remaining
    when = now or state.as_of
    pnl = costs.pnl_breakdown(p, price, when, rate, common_currency(state.balance.currency), fee_rate, share)
    realized, fees = pnl.unrealized, pnl.closing_fee
    net = realized - fees
    credit = net
    if p.margin_mode is MarginMode.ISOLATED:
        credit += margin.allocated_margin(p) * share * rate
    keep = ONE - share
    after = (_scaled(p, keep, volume),) if keep > 0 else ()
    balance = replace(state.balance, trade_balance=state.balance.trade_balance + credit)
    new_state = AccountState(balance, _without(state, p.id, *after), state.as_of)
    account, figures = margin.compute(new_state, prices, rules, when)
    position_after = next((pf for pf in figures if pf.position.id == p.id), None)
    return WhatIfClose(realized, fees, net, account, position_after, pnl)


@engine_context
def settle(state: AccountState, prices: Prices, rules: Rules, position_id: str) -> AccountFigures:
    """Account after settling a cross position: no trading fee, the asset stays as collateral.

    Settling a long pays its cost and keeps the base asset; a short delivers the base asset and
    receives its cost (support 203325763). Valued at the current price the trade balance changes by
    exactly the position's unrealised P&L, so equity is unchanged and its used margin is freed.
    Collateral haircuts are ignored (not published per asset in the API).
    """
    p = _find(state, position_id)
    if p.margin_mode is not MarginMode.CROSS:
        raise NotSupported("Only Kraken spot (cross) positions can be settled; close this one instead.")
    upnl = margin.unrealized_pnl(p, prices.get(p.pair)) * _rate(state, p, prices, rules)
    balance = replace(state.balance, trade_balance=state.balance.trade_balance + upnl)
    return margin.account_figures(balance, _without(state, p.id), prices, rules)


@engine_context
def required_deposit(state: AccountState, prices: Prices, rules: Rules, target_level: Decimal) -> Decimal:
    """Collateral to deposit so the cross level reaches `target_level`: (e + D)/m = x -> D = x*m - e.

    0 when the level is already there or no margin is used (support 203325693 definitions).
    """
    x = _x(target_level)
    account = _known(margin.account_figures(state.balance, state.positions, prices, rules))
    if account.used_margin == 0:
        return ZERO
    return max(ZERO, x * account.used_margin - account.equity)


@engine_context
def required_close_volume(
    state: AccountState,
    prices: Prices,
    rules: Rules,
    position_id: str,
    target_level: Decimal,
    fee_rate: Decimal = ZERO,
) -> Decimal | None:
    """Volume of the position to close so the cross level reaches `target_level` (0 if already there).

    Closing v at price P moves its P&L share into the trade balance (equity unchanged) less the fee
    c*v*P, and frees u*v of used margin (u = its used margin per unit): (e - c*v*P) / (m - u*v) = x
    -> v = (x*m - e) / (x*u - c*P*r) (r: quote -> account FX; support 203325693 definitions, 203325763 remedies). None when closing this position cannot get there. An isolated
    position's own level does not change with a partial close (everything scales): 0 or None.
    """
    x = _x(target_level)
    require_finite(fee_rate, "Fee rate")
    p = _find(state, position_id)
    price = margin._price(prices.get(p.pair), p.pair)
    if p.margin_mode is MarginMode.ISOLATED:
        return ZERO if margin.isolated_margin_level(p, price) >= target_level else None
    account = _known(margin.account_figures(state.balance, state.positions, prices, rules))
    m, e = account.used_margin, account.equity
    if m == 0 or e >= x * m:
        return ZERO
    volume = p.remaining_volume
    rate = _rate(state, p, prices, rules)  # u and the fee in the account currency, like m and e
    per_unit = margin.used_margin(p, price) / volume * rate
    den = x * per_unit - fee_rate * price * rate
    if den <= 0:
        return None
    needed = (x * m - e) / den
    if needed <= volume:
        return needed
    # Closing everything leaves no used margin at all when this was the only position using it.
    if m - per_unit * volume <= 0 and e - fee_rate * price * rate * volume > 0:
        return volume
    return None


@engine_context
def time_to_margin_call(state: AccountState, prices: Prices, rules: Rules, now: datetime) -> timedelta | None:
    """Time until rollover fees alone (flat prices) bring the cross level to the margin call.

    Each cross position is charged rate * cost at every 4-hour mark after opening (support
    206161568, costs.rollovers_charged); those charges come out of the trade balance, used margin
    is unchanged at flat prices. None when it never happens (no rollover, no margin used) or the
    level is already at/below the call.
    """
    account = _known(margin.account_figures(state.balance, state.positions, prices, rules))
    if account.used_margin == 0:
        return None
    room = account.equity - account.margin_call_level / HUNDRED * account.used_margin
    if room <= 0:
        return None
    charges: list[tuple[timedelta, Decimal]] = []
    for p in state.positions:
        if p.margin_mode is not MarginMode.CROSS:
            continue
        amount = costs.rollover_rate(p) * p.cost
        if amount > 0:
            amount *= _rate(state, p, prices, rules)  # charged in the quote currency
            mark = p.opened_at + costs.ROLLOVER_PERIOD * (costs.rollovers_charged(p.opened_at, now) + 1)
            charges.append((mark - now, amount))
    if not charges:
        return None
    charges.sort(key=lambda item: item[0])
    per_cycle = sum((amount for _, amount in charges), ZERO)
    # Skip whole 4-hour cycles: after q cycles q*C has been charged, still short of `room`.
    cycles = int((room / per_cycle).to_integral_value(rounding=ROUND_CEILING)) - 1
    if cycles > _MAX_CYCLES:
        return None  # centuries away: for a trader that is "never"
    charged = per_cycle * cycles
    for offset, amount in charges:
        charged += amount
        if charged >= room:
            return offset + costs.ROLLOVER_PERIOD * cycles
    raise AssertionError("unreachable: one cycle covers the remaining room")  # pragma: no cover
