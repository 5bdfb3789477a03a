"""Protective orders of the paper account: place, cancel, follow (trailing stops) and fill at the trigger with fees.

Issue 16 item 5. Every order is reduce-only on one position. The paper venue has one price per pair, so
`index` and `mark` triggers follow the last price. A market-type order fills at its trigger (the close
pays the account's taker fee); a -limit type, once triggered, rests as a limit at its limit price and fills
when the price reaches it. An order whose position is gone is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.models import PairRules
from kraken_monitor.domain.orders import HUNDRED, InvalidOrder, OpenOrder, OrderSide, OrderSpec, OrderType
from kraken_monitor.domain.paper_account import PaperAccount


class UnknownOrder(DomainError):
    """No resting order with that id (filled, cancelled, or its position closed)."""


def new_order(order_id: str, account: PaperAccount, spec: OrderSpec, price: Decimal, now: datetime) -> OpenOrder:
    """Validate `spec` against its position at `price` and build the resting order."""
    p = account.position(spec.position_id)
    if spec.pair != p.pair:
        raise InvalidOrder(f"Position {p.id} is on {p.pair}, not {spec.pair}.")
    spec.validate(price, p.remaining_volume, p.side)
    return OpenOrder(
        id=order_id, pair=spec.pair, type=spec.type, side=spec.side, volume=spec.volume,
        trigger_price=spec.initial_trigger(price), limit_price=spec.limit_price, trigger=spec.trigger,
        reduce_only=True, reduce_only_inferred=False, trailing_offset=spec.trailing_offset,
        trailing_percent=spec.trailing_percent, position_id=p.id, margin=True, opened_at=now,
    )


def _fires(order: OpenOrder, price: Decimal) -> bool:
    selling = order.side is OrderSide.SELL
    if order.type is OrderType.LIMIT:
        return price >= order.limit_price if selling else price <= order.limit_price  # type: ignore[operator]
    trigger = order.trigger_price
    if trigger is None:
        return False
    if order.type.is_stop:
        return price <= trigger if selling else price >= trigger
    return price >= trigger if selling else price <= trigger


def _follow(order: OpenOrder, price: Decimal) -> OpenOrder:
    """A trailing stop's trigger moves with the price in the position's favour, never back."""
    if not order.type.is_trailing or order.trailing_offset is None:
        return order
    gap = price * order.trailing_offset / HUNDRED if order.trailing_percent else order.trailing_offset
    if order.side is OrderSide.SELL:
        candidate = price - gap
        better = order.trigger_price is None or candidate > order.trigger_price
    else:
        candidate = price + gap
        better = order.trigger_price is None or candidate < order.trigger_price
    return replace(order, trigger_price=candidate) if better else order


def run_orders(account: PaperAccount, orders: tuple[OpenOrder, ...], prices: Mapping[str, Decimal], now: datetime,
               rules: Mapping[str, PairRules] | None) -> tuple[PaperAccount, tuple[OpenOrder, ...]]:
    """Follow trailing stops, then fill every order the price reached; returns the account and the orders left."""
    left: list[OpenOrder] = []
    open_ids = {p.id for p in account.positions}
    for order in orders:
        price = prices.get(order.pair)
        if order.position_id not in open_ids:
            continue  # its position closed: a reduce-only order has nothing left to reduce
        if price is None:
            left.append(order)
            continue
        order = _follow(order, price)
        if not _fires(order, price):
            left.append(order)
            continue
        if order.type.has_limit and order.type is not OrderType.LIMIT:
            limit = order.limit_price
            if order.type is OrderType.TRAILING_STOP_LIMIT and limit is not None and order.trigger_price is not None:
                limit = order.trigger_price - limit if order.side is OrderSide.SELL else order.trigger_price + limit
            order = replace(order, type=OrderType.LIMIT, trigger_price=None, limit_price=limit)
            if not _fires(order, price):
                left.append(order)  # triggered: now a resting limit
                continue
        fill = order.limit_price if order.type is OrderType.LIMIT else order.trigger_price
        p = account.position(order.position_id)  # type: ignore[arg-type]
        volume = min(order.volume, p.remaining_volume)
        account = account.close_position(p.id, volume, fill, now, prices=prices, rules=rules)  # type: ignore[arg-type]
        account = account._log("order_filled", now, f"{order.type.value} {order.id} filled {volume} {p.pair} at {fill}",
                               p, Decimal(0), price=fill, order=order.type.value)
        open_ids = {q.id for q in account.positions}
    return account, tuple(left)


fires = _fires  # shared with the paper futures orders (domain/futures_paper_orders.py)
follow = _follow


def order_to_state(order: OpenOrder) -> dict:
    return {k: (None if v is None else getattr(v, "value", v if isinstance(v, bool) else str(v)))
            for k, v in vars(order).items()}


def order_from_state(row: Mapping) -> OpenOrder:
    decimals = {"volume", "trigger_price", "limit_price", "trailing_offset", "leverage"}
    fields = {k: (Decimal(v) if k in decimals and v is not None else v) for k, v in row.items()}
    if fields.get("opened_at"):
        fields["opened_at"] = datetime.fromisoformat(fields["opened_at"])
    return OpenOrder(**fields)
