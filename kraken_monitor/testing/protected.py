"""Builders for the UI scenario with resting orders attached through the real protection engine (issue 16)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from kraken_monitor.domain import protection
from kraken_monitor.domain.models import Snapshot
from kraken_monitor.domain.orders import OpenOrder, OrderSide, OrderType, TriggerSignal
from kraken_monitor.testing import builders

D = Decimal


def order(oid: str, pair: str = builders.BTC, kind: OrderType | str = OrderType.STOP_LOSS,
          side: OrderSide | str = OrderSide.SELL, volume: str = "0.5", trigger: str | None = "58000.0",
          limit: str | None = None, signal: TriggerSignal | str = TriggerSignal.LAST, reduce_only: bool = True,
          known: bool = True, offset: str | None = None, percent: bool = False, position_id: str | None = None,
          margin: bool = True) -> OpenOrder:
    """A resting order as a venue lists it; by default a reduce-only sell stop of the scenario's BTC long."""
    return OpenOrder(oid, pair, OrderType(kind), OrderSide(side), D(volume), None if trigger is None else D(trigger),
                     None if limit is None else D(limit), TriggerSignal(signal), reduce_only, False,
                     None if offset is None else D(offset), percent, position_id, margin=margin,
                     reduce_only_known=known)


def with_orders(snapshot: Snapshot, *orders: OpenOrder) -> Snapshot:
    """`snapshot` with `orders` attached to its positions as the worker does (domain/protection.attach)."""
    figures, loose = protection.attach(orders, snapshot.positions, snapshot.as_of)
    account = replace(snapshot.account, orders=loose) if snapshot.account is not None else None
    return replace(snapshot, positions=figures, account=account)


def protected_snapshot(**kwargs) -> Snapshot:
    """The UI scenario (builders.snapshot) with a BTC stop-loss and take-profit, an ETH trailing stop whose
    reduce_only Kraken omitted (inferred), nothing on XRP (unprotected) and one loose order on another pair.

    BTC long 0.5 @ 60,000.0 at 64,250.3; ETH short 4 @ 3,000.00 at 3,120.45; XRP long 12,000 @ 0.58.
    """
    return with_orders(
        builders.snapshot(**kwargs),
        order("OSL-1", trigger="58000.0"),
        order("OTP-1", kind=OrderType.TAKE_PROFIT, trigger="70000.0"),
        order("OTS-2", pair=builders.ETH, kind=OrderType.TRAILING_STOP, side=OrderSide.BUY, volume="4",
              trigger="3200.00", offset="2", percent=True, reduce_only=False, known=False),
        order("OLO-9", pair="SOL/USD", kind=OrderType.LIMIT, side=OrderSide.BUY, volume="10", trigger=None,
              limit="120.00", reduce_only=False, margin=False),
    )
