"""Closed positions: what a position that ended cost and earned, from its closing event's facts (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain import costs
from kraken_monitor.domain.models import EVENT_REASON_PREFIX, Alert, Position, Side

REASONS = ("closed", "settled", "liquidated")
_ENDINGS = {EVENT_REASON_PREFIX + r: r for r in REASONS}


@dataclass(frozen=True)
class FeeSplit:
    """Fees of one position in the account currency; None where unknown (a missing FX rate, an old row)."""

    trading: Decimal | None  # opening trade + closing trade
    opening: Decimal | None  # margin opening fee
    rollovers: Decimal | None

    @property
    def total(self) -> Decimal | None:
        parts = (self.trading, self.opening, self.rollovers)
        return None if any(v is None for v in parts) else sum(parts, Decimal(0))


@dataclass(frozen=True)
class ClosedPosition:
    """One row of the history: a position closed, settled or liquidated. Prices in the pair's quote
    currency; realised P&L (after every fee) and fees in `currency`, the account currency."""

    id: str
    pair: str
    side: str
    volume: Decimal | None
    opened_at: datetime | None
    closed_at: datetime
    entry_price: Decimal | None
    exit_price: Decimal | None
    realized_pnl: Decimal | None
    fees: FeeSplit
    reason: str
    currency: str = ""
    price_places: int | None = None


def _times(value: Decimal | None, rate: Decimal | None) -> Decimal | None:
    return None if value is None or rate is None else value * rate


def close_facts(
    p: Position,
    now: datetime,
    kind: str,
    exit_price: Decimal | None,
    fx_rate: Decimal | None,
    close_fee: Decimal | None,
    venue_pnl: Decimal | None,
) -> tuple[tuple[str, object], ...]:
    """Facts a closing event carries so the history needs nothing else: opening time, entry, fee split
    and realised P&L. `close_fee` is the closing trade's fee in the quote currency (0 for a settle,
    None unknown); `venue_pnl` the venue's own P&L after that fee (paper account), in the account currency;
    `fx_rate` converts the quote currency into the account currency (None unknown)."""
    volume = p.remaining_volume
    entry = p.cost / volume if volume else None
    if kind == "settled":
        close_fee = Decimal(0)  # a settle is no trade: no trading fee
    rollovers = costs.rollovers_charged(p.opened_at, now) * costs.rollover_rate(p) * p.cost
    trading_q = None if close_fee is None else p.trading_fee + close_fee
    fees = FeeSplit(_times(trading_q, fx_rate), _times(costs.opening_fee(p), fx_rate), _times(rollovers, fx_rate))
    if venue_pnl is not None:
        # The venue already took the closing fee off; take what was paid earlier too (one meaning of net).
        before = _times(p.trading_fee + costs.opening_fee(p) + rollovers, fx_rate)
        realized = None if before is None else venue_pnl - before
    elif exit_price is not None and entry is not None and fees.total is not None:
        gross = (exit_price - entry) * volume if p.side is Side.LONG else (entry - exit_price) * volume
        realized = gross * fx_rate - fees.total
    else:
        realized = None
    return (("opened_at", p.opened_at.isoformat()), ("entry", entry), ("fee_trading", fees.trading),
            ("fee_opening", fees.opening), ("fee_rollovers", fees.rollovers), ("realized_pnl", realized))


def _decimal(alert: Alert, name: str) -> Decimal | None:
    value = alert.fact(name)
    return value if isinstance(value, Decimal) else None


def closed_position(alert: Alert) -> ClosedPosition | None:
    """The history row of a journalled closing event; None for any other alert (open, partial close, risk).
    Events journalled before they carried `close_facts` give None where the figure is unknown."""
    reason = _ENDINGS.get(alert.reason)
    if reason is None or not alert.position_id:
        return None
    opened = alert.fact("opened_at")
    places = alert.fact("price_places")
    return ClosedPosition(
        id=alert.position_id,
        pair=alert.pair or "",
        side=str(alert.fact("side", "")),
        volume=_decimal(alert, "volume"),
        opened_at=datetime.fromisoformat(opened) if isinstance(opened, str) and opened else None,
        closed_at=alert.fired_at,
        entry_price=_decimal(alert, "entry"),
        exit_price=_decimal(alert, "price"),
        realized_pnl=_decimal(alert, "realized_pnl"),
        fees=FeeSplit(_decimal(alert, "fee_trading"), _decimal(alert, "fee_opening"), _decimal(alert, "fee_rollovers")),
        reason=reason,
        currency=str(alert.fact("currency", "") or ""),
        price_places=places if isinstance(places, int) else None,
    )


def history(
    events: Iterable[Alert],
    pair: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ClosedPosition]:
    """Closed positions from journalled events, newest first, filtered as `select` does."""
    return select([row for row in map(closed_position, events) if row is not None], pair, since, until)


def select(
    rows: Iterable[ClosedPosition],
    pair: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ClosedPosition]:
    """Rows of one pair (None: all) closed within [since, until), newest first."""
    kept = [r for r in rows if (pair is None or r.pair == pair) and (since is None or r.closed_at >= since)
            and (until is None or r.closed_at < until)]
    return sorted(kept, key=lambda r: r.closed_at, reverse=True)


def merged(journal_rows: Iterable[ClosedPosition], venue_rows: Iterable[ClosedPosition]) -> list[ClosedPosition]:
    """The venue's rows are the record for every position they cover (one per closing trade: partial closes
    too); the journal keeps the rest (ended before the venue's window, or in another mode). Newest first."""
    venue = list(venue_rows)
    covered = {r.id for r in venue}
    return select([*(r for r in journal_rows if r.id not in covered), *venue])


@dataclass(frozen=True)
class VenueHistory:
    """The venue's own closed positions for the history dock; `error` (why none could be read) or rows."""

    rows: tuple[ClosedPosition, ...] = ()
    error: str = ""
