"""Position events: a position that appears, shrinks or disappears between two account reads is an Alert (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain.history import close_facts
from kraken_monitor.domain.models import EVENT_REASON_PREFIX, Alert, Position, Risk

OPENED, CLOSED, PARTIALLY_CLOSED, SETTLED, LIQUIDATED = "opened", "closed", "partially_closed", "settled", "liquidated"
KINDS = (OPENED, CLOSED, PARTIALLY_CLOSED, SETTLED, LIQUIDATED)
# A liquidation is the loss a trader must hear about at once (popup, tray); the others go to the log.
_LEVELS = {LIQUIDATED: Risk.LIQUIDATION}


@dataclass(frozen=True)
class CloseInfo:
    """What the venue says about how a position ended (Kraken ClosedOrders, or the paper account itself)."""

    kind: str  # closed | settled | liquidated
    price: Decimal | None = None
    pnl: Decimal | None = None
    source: str = "exchange"  # "exchange" (Kraken said so) | "paper" (the paper account did it)
    fee: Decimal | None = None  # the closing trade's fee in the quote currency (None: not reported)
    order: str = ""  # the resting order that closed it (stop-loss, take-profit, ...); "" a close by hand or unknown


def event_key(position_id: str) -> str:
    return f"event:{position_id}"


def position_event(
    kind: str,
    p: Position,
    now: datetime,
    volume: Decimal | None,
    price: Decimal | None,
    pnl: Decimal | None,
    currency: str = "",
    source: str = "",
    price_places: int | None = None,
    extra: tuple[tuple[str, object], ...] = (),
) -> Alert:
    """One event record; `None` where the figure is not known (never a guess)."""
    if kind not in KINDS:
        raise ValueError(f"unknown position event {kind!r}")
    return Alert(
        key=event_key(p.id),
        level=_LEVELS.get(kind, Risk.OK),
        position_id=p.id,
        pair=p.pair,
        margin_level=None,
        distance_to_liquidation_pct=None,
        reason=EVENT_REASON_PREFIX + kind,
        fired_at=now,
        facts=(("side", p.side.value), ("volume", volume), ("price", price), ("pnl", pnl),
               ("currency", currency), ("source", source), ("price_places", price_places), *extra),
    )


def position_events(
    before: Sequence[Position] | None,
    after: Sequence[Position],
    now: datetime,
    prices: Mapping[str, Decimal],
    closes: Mapping[str, CloseInfo] | None = None,
    currency: str = "",
    price_places: Mapping[str, int] | None = None,
    fx_rates: Mapping[str, Decimal | None] | None = None,
) -> tuple[Alert, ...]:
    """Events between two reads of the same account. `before` None (first read) gives none: what is
    open at start-up was not opened now. A position that disappears without a `closes` entry is
    "closed" (its price is the last one seen, its P&L unknown). A position that ended carries
    `history.close_facts` (entry, fee split, realised P&L); `fx_rates` maps a pair to its quote ->
    account currency rate (missing: the money is unknown)."""
    rates = fx_rates or {}
    if before is None:
        return ()
    closes = closes or {}
    places = price_places or {}
    old = {p.id: p for p in before}
    new = {p.id: p for p in after}
    events = []
    for p in after:
        if p.id not in old:
            price = p.cost / p.remaining_volume if p.remaining_volume else None
            events.append(position_event(OPENED, p, now, p.remaining_volume, price, None, currency,
                                         price_places=places.get(p.pair)))
        elif p.remaining_volume < old[p.id].remaining_volume:
            info = closes.get(p.id)
            shrink = old[p.id].remaining_volume - p.remaining_volume
            events.append(position_event(PARTIALLY_CLOSED, p, now, shrink,
                                         info.price if info and info.price is not None else prices.get(p.pair),
                                         info.pnl if info else None, currency, info.source if info else "",
                                         places.get(p.pair)))
    for p in before:
        if p.id in new:
            continue
        info = closes.get(p.id) or CloseInfo(CLOSED, source="")
        price = info.price if info.price is not None else prices.get(p.pair)
        extra = close_facts(p, now, info.kind, price, rates.get(p.pair), info.fee, info.pnl)
        if info.order:
            extra += (("closed_by", info.order),)
        events.append(position_event(info.kind, p, now, p.remaining_volume, price, info.pnl, currency,
                                     info.source, places.get(p.pair), extra))
    return tuple(events)
