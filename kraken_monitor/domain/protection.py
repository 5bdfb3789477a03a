"""Which resting orders protect which position, what they would do if they fired, and the warnings about them.

Issue 16 items 1, 2, 3 and 6. An order protects a position when it trades the same pair the other way
and can only reduce it (reduce-only, a margin order, or a conditional close). P&L at the trigger is the
table's net P&L (domain/costs.py: after the trading, opening, rollover and closing fees) at the price the
order fills at: the trigger for a market-type order, its limit for a -limit one; the closing fee at the
taker rate (a triggered order takes liquidity), a plain limit close at the maker rate.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from kraken_monitor.domain import costs
from kraken_monitor.domain.decimals import ONE, ZERO, engine_context
from kraken_monitor.domain.models import PositionFigures, Side
from kraken_monitor.domain.orders import HUNDRED, OpenOrder, OrderSide, OrderSpec, OrderType


class OrderWarning(str, enum.Enum):
    """Warning codes on a position (issue 16 item 2); the words are made in kraken_monitor/text."""

    STOP_BEYOND_LIQUIDATION = "stop_beyond_liquidation"  # the stop fires only past liquidation: never protects
    UNPROTECTED = "unprotected"  # no stop-loss
    ORDER_EXCEEDS_POSITION = "order_exceeds_position"  # protective / conditional orders > remaining volume


class Relation(str, enum.Enum):
    """Where a stop's trigger sits against the position's margin-call and liquidation prices."""

    BEFORE_MARGIN_CALL = "before_margin_call"  # fires before the margin call: the intended place
    PAST_MARGIN_CALL = "past_margin_call"  # between the margin call and liquidation
    BEYOND_LIQUIDATION = "beyond_liquidation"  # Kraken liquidates first: the stop never protects
    PROFIT_SIDE = "profit_side"  # a take-profit / limit close: on the winning side of the price
    UNKNOWN = "unknown"  # no margin-call / liquidation price known


@dataclass(frozen=True)
class ProtectionPreview:
    """What an order would do (the Protect dialog's preview); money in `currency`, prices in the quote currency."""

    trigger_price: Decimal | None  # None: a trailing stop whose price is not known
    fill_price: Decimal | None
    trigger_distance_pct: Decimal | None  # % of the price now; positive = not reached yet
    pnl_at_trigger: Decimal | None  # net P&L of the volume closed, after fees; None: FX or price unknown
    breakdown: costs.PnlBreakdown | None
    currency: str
    vs_margin_call: Decimal | None  # trigger - margin-call price, quote currency (sign: see relation)
    vs_liquidation: Decimal | None
    relation: Relation
    warnings: tuple[str, ...]


def fee_rate(kind: OrderType) -> Decimal:
    """The closing fee rate of an order that fills: a resting limit is a maker, a triggered order a taker."""
    return costs.MAKER_FEE_RATE if kind is OrderType.LIMIT else costs.TAKER_FEE_RATE


def trigger_of(order: OpenOrder | OrderSpec, price: Decimal) -> Decimal | None:
    """The order's trigger (a limit close: its limit); a trailing stop without a reported one: price - offset."""
    if order.type is OrderType.LIMIT:
        return order.limit_price
    if order.trigger_price is not None:
        return order.trigger_price
    if order.type.is_trailing and order.trailing_offset is not None:
        offset = price * order.trailing_offset / HUNDRED if order.trailing_percent else order.trailing_offset
        return price - offset if order.side is OrderSide.SELL else price + offset
    return None


def fill_price(order: OpenOrder | OrderSpec, trigger: Decimal | None) -> Decimal | None:
    """The price it fills at: the trigger at market; a -limit type its limit (a trailing-stop-limit: offset from the trigger)."""
    if trigger is None:
        return None
    if order.type is OrderType.TRAILING_STOP_LIMIT and order.limit_price is not None:
        return trigger - order.limit_price if order.side is OrderSide.SELL else trigger + order.limit_price
    if order.type.has_limit and order.limit_price is not None:
        return order.limit_price
    return trigger


def distance_pct(order: OpenOrder | OrderSpec, trigger: Decimal | None, price: Decimal) -> Decimal | None:
    """% of the price the market must move to fire it; positive = not reached yet."""
    if trigger is None or price <= 0:
        return None
    # A sell stop fires when the price falls to it, a sell take-profit / limit when it rises; buys the other way.
    falls_to_it = (order.side is OrderSide.SELL) == order.type.is_stop
    move = price - trigger if falls_to_it else trigger - price
    return move * HUNDRED / price


def relation(pf: PositionFigures, trigger: Decimal | None, kind: OrderType) -> Relation:
    if not kind.is_stop:
        return Relation.PROFIT_SIDE
    if trigger is None:
        return Relation.UNKNOWN
    # Toward the loss: lower for a long, higher for a short; compare on that axis.
    sign = ONE if pf.position.side is Side.LONG else -ONE
    liq, call = pf.liquidation_price, pf.margin_call_price
    if liq is not None and trigger * sign <= liq * sign:
        return Relation.BEYOND_LIQUIDATION
    if call is not None and trigger * sign <= call * sign:
        return Relation.PAST_MARGIN_CALL
    if call is None and liq is None:
        return Relation.UNKNOWN
    return Relation.BEFORE_MARGIN_CALL


@engine_context
def pnl_if_filled(pf: PositionFigures, price: Decimal | None, volume: Decimal, rate: Decimal,
                  now: datetime) -> costs.PnlBreakdown | None:
    """Net P&L (costs.pnl_breakdown) of closing `volume` at `price`, in the account currency; None if unknown."""
    remaining = pf.remaining_volume
    if price is None or price <= 0 or remaining <= 0 or pf.unknown or volume <= 0:
        return None
    fx = pf.fx_rate if pf.fx_rate is not None else ONE
    share = min(volume / remaining, ONE)  # an order larger than the position closes it all (and warns)
    return costs.pnl_breakdown(pf.position, price, now, fx, pf.account_currency, rate, share)


def preview(pf: Any, spec: OrderSpec, now: datetime, price: Decimal | None = None,
            others: Iterable[OpenOrder] = (), pnl: PnlIfFilled | None = None,
            rate: Callable[[OrderType], Decimal] = fee_rate) -> ProtectionPreview:
    """The Protect dialog's preview of `spec` on the position of `pf`, at `price` (default: the position's price).

    `others`: the position's other resting orders (minus the one being modified), for the warnings.
    Does not validate: call `spec.validate(...)` for the message that disables OK. `pnl` / `rate`: another
    venue's P&L-if-filled and fee rate (Kraken Futures); its preview has no spot cost breakdown.
    """
    price = pf.price if price is None else price
    trigger = trigger_of(spec, price)
    fill = fill_price(spec, trigger)
    breakdown = pnl_if_filled(pf, fill, spec.volume, rate(spec.type), now) if pnl is None else None
    net = breakdown.net if breakdown is not None else (
        pnl(pf, fill, spec.volume, rate(spec.type), now) if pnl is not None else None)
    as_order = OpenOrder("(new)", spec.pair, spec.type, spec.side, spec.volume, trigger, spec.limit_price,
                         spec.trigger, True, False, spec.trailing_offset, spec.trailing_percent, pf.position.id)
    warnings = position_warnings(pf, (*others, as_order), pf.remaining_volume)
    return ProtectionPreview(
        trigger_price=trigger,
        fill_price=fill,
        trigger_distance_pct=distance_pct(spec, trigger, price),
        pnl_at_trigger=net,
        breakdown=breakdown,
        currency=pf.account_currency or pf.quote_currency,
        vs_margin_call=None if trigger is None or pf.margin_call_price is None else trigger - pf.margin_call_price,
        vs_liquidation=None if trigger is None or pf.liquidation_price is None else trigger - pf.liquidation_price,
        relation=relation(pf, trigger, spec.type),
        warnings=warnings,
    )


def nearest(orders: Iterable[OpenOrder], pf: PositionFigures, stops: bool) -> tuple[OpenOrder, Decimal] | None:
    """The stop (or take-profit) that fires first from the price now, with its trigger."""
    best: tuple[OpenOrder, Decimal] | None = None
    best_distance: Decimal | None = None
    for order in orders:
        if (order.type.is_stop if stops else order.type.is_take_profit):
            trigger = trigger_of(order, pf.price)
            distance = distance_pct(order, trigger, pf.price)
            if trigger is not None and distance is not None and (best_distance is None or distance < best_distance):
                best, best_distance = (order, trigger), distance
    return best


def position_warnings(pf: PositionFigures, orders: Iterable[OpenOrder], covered_volume: Decimal) -> tuple[str, ...]:
    """Warning codes for a position with these attached orders; `covered_volume`: the volume they may reduce."""
    orders = tuple(orders)
    warnings: list[str] = []
    stop = nearest(orders, pf, stops=True)
    if stop is None:
        warnings.append(OrderWarning.UNPROTECTED.value)
    elif relation(pf, stop[1], stop[0].type) is Relation.BEYOND_LIQUIDATION:
        warnings.append(OrderWarning.STOP_BEYOND_LIQUIDATION.value)
    # A stop and a take-profit for the whole volume are the usual pair (one fires, the other is cancelled);
    # two stops, or two take-profits, together larger than the position could open a new position.
    for group in (lambda o: o.type.is_stop, lambda o: o.type.is_take_profit, lambda o: o.type is OrderType.LIMIT):
        if sum((o.volume for o in orders if group(o)), ZERO) > covered_volume:
            warnings.append(OrderWarning.ORDER_EXCEEDS_POSITION.value)
            break
    return tuple(warnings)


def infer_reduce_only(order: OpenOrder, side: Side, volume: Decimal) -> OpenOrder:
    """Kraken's OpenOrders may omit reduce_only: a margin order on the closing side no larger than the position is
    taken as reduce-only, marked inferred (issue 16 item 6)."""
    if order.reduce_only_known or order.reduce_only:
        return order
    inferred = (order.margin or order.conditional) and order.closes(side) and order.volume <= volume
    return replace(order, reduce_only=inferred, reduce_only_inferred=inferred)


def _protects(order: OpenOrder, pf: PositionFigures) -> bool:
    p = pf.position
    return (order.pair == p.pair and order.closes(p.side)
            and (order.reduce_only or order.margin or order.conditional))


# P&L of closing (figures, fill price, volume, fee rate, now) -> net money, None if unknown. Spot's is
# costs.pnl_breakdown's net (below); Kraken Futures' lives in domain/futures_protection.py.
PnlIfFilled = Callable[[Any, Decimal | None, Decimal, Decimal, datetime], Decimal | None]


def spot_pnl(pf: PositionFigures, price: Decimal | None, volume: Decimal, rate: Decimal,
             now: datetime) -> Decimal | None:
    result = pnl_if_filled(pf, price, volume, rate, now)
    return None if result is None else result.net


def _opened_key(pf: Any) -> tuple[bool, float]:
    # Kraken Futures nets one position per contract and openpositions gives no reliable opening time here.
    opened = getattr(pf.position, "opened_at", None)
    return (opened is not None, opened.timestamp() if opened is not None else 0.0)


@engine_context
def attach(orders: Iterable[OpenOrder], positions: tuple[Any, ...], now: datetime,
           pnl: PnlIfFilled = spot_pnl, rate: Callable[[OrderType], Decimal] = fee_rate,
           ) -> tuple[tuple[Any, ...], tuple[OpenOrder, ...]]:
    """Each position's figures with its orders, nearest stop / take-profit, P&L if they fire, warnings; plus the
    orders attached to no position. An order naming its position goes there; else to the oldest position of
    its pair that it closes. Positions of one pair and side share their orders' volume check.

    `positions`: spot PositionFigures, or any figures with the same names (position.id/pair/side, price,
    remaining_volume, liquidation_price, margin_call_price and the order fields): Kraken Futures' pass their
    own `pnl` and fee `rate`."""
    by_id = {pf.position.id: pf for pf in positions}
    groups: dict[tuple[str, Side], Decimal] = {}
    for pf in positions:
        key = (pf.position.pair, pf.position.side)
        groups[key] = groups.get(key, ZERO) + pf.remaining_volume
    oldest = sorted(positions, key=_opened_key)
    attached: dict[str, list[OpenOrder]] = {}
    loose: list[OpenOrder] = []
    for order in orders:
        target = by_id.get(order.position_id) if order.position_id else None
        if target is None:
            target = next((pf for pf in oldest if _protects(order, pf)), None)
        if target is None:
            loose.append(order)
            continue
        p = target.position
        order = infer_reduce_only(order, p.side, groups[(p.pair, p.side)])
        if order.position_id != p.id:
            order = replace(order, position_id=p.id)
        attached.setdefault(p.id, []).append(order)
    out = tuple(_with_orders(pf, tuple(attached.get(pf.position.id, ())), groups, now, pnl, rate)
                for pf in positions)
    return out, tuple(loose)


def _with_orders(pf: Any, orders: tuple[OpenOrder, ...], groups: dict[tuple[str, Side], Decimal],
                 now: datetime, pnl: PnlIfFilled, rate: Callable[[OrderType], Decimal]) -> Any:
    p = pf.position
    stop = nearest(orders, pf, stops=True)
    take = nearest(orders, pf, stops=False)
    fields: dict = {"orders": orders, "warnings": position_warnings(pf, orders, groups[(p.pair, p.side)])}
    for name, found in (("stop_loss", stop), ("take_profit", take)):
        if found is None:
            continue
        order, trigger = found
        fields[f"{name}_price"] = trigger
        fields[f"{name}_distance_pct"] = distance_pct(order, trigger, pf.price)
        fields[f"{name}_pnl"] = pnl(pf, fill_price(order, trigger), order.volume, rate(order.type), now)
    return _replaced(pf, fields)


def _replaced(figures: Any, fields: dict) -> Any:
    """dataclasses.replace for figures without __post_init__: a copy of the instance dict with `fields` over it.

    replace() re-runs __init__ over all ~40 fields of PositionFigures, ~20 positions per price tick in the
    worker's path to the screen; nothing is validated there (no __post_init__), so the copy is the same value.
    """
    cls = type(figures)
    if hasattr(cls, "__post_init__") or not hasattr(figures, "__dict__") or not fields.keys() <= cls.__dataclass_fields__.keys():
        return replace(figures, **fields)
    copy = object.__new__(cls)
    copy.__dict__.update(figures.__dict__)
    copy.__dict__.update(fields)
    return copy
