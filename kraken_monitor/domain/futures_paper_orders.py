"""Protective orders of the paper / demo futures account: placed reduce-only, triggered on the mark, filled with fees.

Issue 16 item 5 for Kraken Futures. Every order is reduce-only on one contract's position (Kraken nets one
per contract). The simulated venue has one price per contract, the mark, so `last` and `index` triggers
read it too (the default trigger is the mark, the price Kraken liquidates on). A market-type order fills
at its trigger and pays the futures taker fee; a -limit type, once triggered, rests at its limit. The
triggers run on every new mark before anything else reads the account, so a stop fills before the
position could reach its liquidation price. An order whose position is gone is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain.futures_paper import PaperFuturesBook
from kraken_monitor.domain.futures_protection import FUTURES_TAKER_FEE_RATE, futures_fee_rate
from kraken_monitor.domain.models import Side
from kraken_monitor.domain.orders import (
    InvalidOrder,
    OpenOrder,
    OrderSide,
    OrderSpec,
    OrderType,
    TriggerSignal,
)
from kraken_monitor.domain.paper_orders import fires, follow


def new_order(order_id: str, book: PaperFuturesBook, spec: OrderSpec, mark: Decimal, now: datetime) -> OpenOrder:
    """Validate `spec` against the contract's position at the mark and build the resting order."""
    p = book.positions.get(spec.pair)
    if p is None:
        raise InvalidOrder(f"No futures position in {spec.pair} to protect.")
    if spec.type is OrderType.TRAILING_STOP_LIMIT:
        raise InvalidOrder("Kraken Futures trailing stops fill at market: there is no trailing-stop-limit.")
    spec.validate(mark, p.size, p.side)
    return OpenOrder(
        id=order_id, pair=spec.pair, type=spec.type, side=spec.side, volume=spec.volume,
        trigger_price=spec.initial_trigger(mark), limit_price=spec.limit_price, trigger=spec.trigger,
        reduce_only=True, trailing_offset=spec.trailing_offset, trailing_percent=spec.trailing_percent,
        position_id=spec.pair, opened_at=now)


def run_orders(book: PaperFuturesBook, orders: tuple[OpenOrder, ...], marks: Mapping[str, Decimal],
               ) -> tuple[tuple[OpenOrder, ...], tuple[tuple[OpenOrder, Decimal, Decimal], ...]]:
    """Follow trailing stops, fill what the marks reached (mutates `book`); (orders left, (order, size, price) filled)."""
    left: list[OpenOrder] = []
    filled: list[tuple[OpenOrder, Decimal, Decimal]] = []
    for order in orders:
        if order.pair not in book.positions:
            continue  # its position closed: a reduce-only order has nothing left to reduce
        price = marks.get(order.pair)
        if price is None:
            left.append(order)
            continue
        order = follow(order, price)
        if not fires(order, price):
            left.append(order)
            continue
        if order.type.has_limit and order.type is not OrderType.LIMIT:
            order = replace(order, type=OrderType.LIMIT, trigger_price=None)
            if not fires(order, price):
                left.append(order)  # triggered: now a resting limit at its limit price
                continue
        fill = order.limit_price if order.type is OrderType.LIMIT else order.trigger_price
        assert fill is not None
        rate = futures_fee_rate(order.type) if order.type is OrderType.LIMIT else FUTURES_TAKER_FEE_RATE
        closed = book.reduce(order.pair, order.volume, fill, rate)
        if closed > 0:
            filled.append((order, closed, fill))
    return tuple(left), tuple(filled)


def demo_orders(book: PaperFuturesBook, marks: Mapping[str, Decimal], now: datetime) -> tuple[OpenOrder, ...]:
    """The demo's one protected position: the BTC long gets a stop-loss 8 % under today's mark, on the mark."""
    btc = book.positions.get("BTC/USD:USD")
    if btc is None or btc.side is not Side.LONG or "BTC/USD:USD" not in marks:
        return ()
    trigger = (marks["BTC/USD:USD"] * Decimal("0.92")).quantize(Decimal(1))
    spec = OrderSpec("BTC/USD:USD", "BTC/USD:USD", OrderType.STOP_LOSS, OrderSide.SELL, btc.size, trigger,
                     trigger=TriggerSignal.MARK)
    return (new_order("demo-fut-stop-1", book, spec, marks["BTC/USD:USD"], now),)
