"""Margin costs of a position: rollover terms, opening fee, rollovers charged so far, net P&L, break-even.

"Net P&L" has one meaning everywhere (table, close dialog, journal, JSON): unrealised P&L minus the
trading fee, the margin opening fee and the rollovers charged so far, minus the estimated closing fee
at the taker rate -- what the trader would keep if the position closed at market now.

Source for every formula here: Kraken support article 206161568 ("Margin fees") and the shared reference
section 1 "Fees": a margin opening fee when the position opens, then a rollover fee every 4 hours, both
charged on the full value extended as margin (the position's opening `cost`; collateral is NOT
deducted), at the rate locked in at opening and shown in the position's `terms`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from kraken_monitor.domain.decimals import (
    ONE,
    ZERO,
    engine_context,
    require_finite,
    require_non_negative,
)
from kraken_monitor.domain.errors import InvalidAmount, InvalidTerms
from kraken_monitor.domain.models import Position, Side

ROLLOVER_PERIOD = timedelta(hours=4)
# Kraken Pro's base-tier spot fees (kraken.com/features/fee-schedule, under 10,000 USD of 30-day
# volume): a close at market is estimated at the taker rate; a limit that rests pays the maker rate.
TAKER_FEE_RATE = Decimal("0.0040")
MAKER_FEE_RATE = Decimal("0.0025")
_LONG = Side.LONG  # enum member access is slow on Python 3.11; used per position per cycle

# Kraken's `terms`, e.g. "0.0100% per 4 hours" (OpenPositions, docs.kraken.com get-open-positions).
_TERMS = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*per\s+4\s*(?:hours?|hrs?|h)\s*$", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def parse_terms(terms: str) -> Decimal:
    """Rollover fraction per 4 h: "0.0100% per 4 hours" -> Decimal("0.0001") (support 206161568).

    Only the 4-hour period is accepted: Kraken charges rollover every 4 hours, so a term for another
    period would mean our schedule is wrong, and guessing a conversion could understate the cost.
    """
    if not isinstance(terms, str):
        raise InvalidTerms(f"Rollover terms must be text like '0.0100% per 4 hours' (got {terms!r}).")
    match = _TERMS.match(terms)
    if match is None:
        raise InvalidTerms(f"Cannot read the rollover terms {terms!r}; expected e.g. '0.0100% per 4 hours'.")
    try:
        percent = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        raise InvalidTerms(f"Cannot read the rollover rate in {terms!r}.") from None
    return percent / 100


def rollover_rate(p: Position) -> Decimal:
    """The position's rollover fraction per 4 h; 0 when the venue reports no terms (paper, Futures)."""
    # Empty terms = no rollover charged (ccxt consolidated rows and isolated paper positions carry
    # none). Non-empty but unreadable terms raise: better a visible error than a silently free loan.
    if not p.rollover_terms:
        return ZERO
    return parse_terms(p.rollover_terms)


def rollovers_charged(opened_at: datetime, now: datetime) -> int:
    """Rollovers charged between opening and `now` (support 206161568).

    Reading chosen: the opening fee covers the first 4 h; a rollover is charged AT each mark
    opened_at + k*4h, k >= 1 -- i.e. one per started 4-hour period after the first. So after
    3h59m59s: 0; exactly 4h00m00s: 1; 4h00m01s: 1; 7h59m59s: 1; 8h: 2. A `now` before the opening
    (clock skew) counts 0. Kraken's own `rollovertm` is shown to the trader but not used here, so
    the count stays a pure function of the two times.
    """
    try:
        elapsed = now - opened_at
    except TypeError:
        raise InvalidAmount("Opening time and current time must both carry a time zone.") from None
    if elapsed <= timedelta(0):
        return 0
    return elapsed // ROLLOVER_PERIOD


def next_rollover(p: Position, now: datetime) -> datetime | None:
    """Kraken's `rollovertm` when reported, else the next mark of our schedule; None if no rollover."""
    if p.next_rollover is not None:
        return p.next_rollover
    if rollover_rate(p) == 0:
        return None
    opened_at = p.opened_at
    return opened_at + ROLLOVER_PERIOD * (rollovers_charged(opened_at, now) + 1)


@engine_context
def opening_fee(p: Position) -> Decimal:
    """The margin opening fee: Kraken's reported figure, else rate * cost (support 206161568)."""
    if p.opening_fee is not None:
        return require_non_negative(p.opening_fee, "Opening fee")
    return rollover_rate(p) * p.cost


@engine_context
def accrued_fees(p: Position, now: datetime) -> Decimal:
    """Trading fee + opening fee + rollovers so far * rate * cost (support 206161568).

    `cost` describes the remaining volume (models.Position), so after a partial close earlier
    rollovers are estimated on today's smaller cost -- the exchange does not report the history.
    """
    rate = rollover_rate(p)
    opening = p.opening_fee if p.opening_fee is not None else rate * p.cost
    return p.trading_fee + opening + rollovers_charged(p.opened_at, now) * rate * p.cost


@engine_context
def projected_cost(p: Position, now: datetime, hours: int | Decimal = 24) -> Decimal:
    """Rollover cost of the marks falling in (now, now + hours] at the locked rate (support 206161568)."""
    hours_d = require_non_negative(Decimal(hours), "Projection hours")
    end = now + timedelta(hours=float(hours_d))  # time, not money: float is fine here
    marks = rollovers_charged(p.opened_at, end) - rollovers_charged(p.opened_at, now)
    return marks * rollover_rate(p) * p.cost


def _check_close_fee(close_fee_rate: Decimal) -> Decimal:
    require_finite(close_fee_rate, "Closing fee rate")
    if not ZERO <= close_fee_rate < ONE:
        raise InvalidAmount(f"Closing fee rate must be between 0 and 1 (got {close_fee_rate}).")
    return close_fee_rate


@engine_context
def net_pnl(p: Position, price: Decimal, now: datetime, close_fee_rate: Decimal = TAKER_FEE_RATE) -> Decimal:
    """Unrealised P&L minus fees so far and the closing fee at `close_fee_rate` (the taker rate unless given).

    Reference section 1: Kraken's `net`/`n` exclude every fee, so the monitor shows both.
    """
    _check_close_fee(close_fee_rate)
    value = price * p.remaining_volume
    upnl = value - p.cost if p.side is _LONG else p.cost - value
    return upnl - accrued_fees(p, now) - close_fee_rate * value


@engine_context
def break_even_price(p: Position, now: datetime, close_fee_rate: Decimal = TAKER_FEE_RATE) -> Decimal:
    """Price at which net P&L (fees so far + closing fee) is zero.

    long:  V*(P - E) - F - c*V*P = 0  ->  P = (cost + F) / (V * (1 - c))
    short: V*(E - P) - F - c*V*P = 0  ->  P = (cost - F) / (V * (1 + c))
    A short whose fees exceed its whole opening cost cannot break even at any positive price: 0.
    """
    return _break_even(p, accrued_fees(p, now), _check_close_fee(close_fee_rate))


def _break_even(p: Position, fees: Decimal, c: Decimal) -> Decimal:
    if p.side is _LONG:
        return (p.cost + fees) / (p.remaining_volume * (ONE - c))
    price = (p.cost - fees) / (p.remaining_volume * (ONE + c))
    return price if price > 0 else ZERO


_DAY_MARKS = timedelta(hours=24) // ROLLOVER_PERIOD
_NO_TIME = timedelta(0)


def cycle_costs(
    p: Position, now: datetime, rate: Decimal
) -> tuple[Decimal, Decimal, Decimal, datetime | None]:
    """(fees so far, break-even price, rollover cost of the next 24 h, next rollover) in one pass.

    The per-cycle fast path of `margin.compute`: the same formulas as the public functions above
    (`accrued_fees`, `break_even_price`, `projected_cost`, `next_rollover`) without their repeated
    parsing and validation. Caller is inside the engine context, has validated `p` and passes its
    `rollover_rate(p)`.
    """
    cost = p.cost
    opened = p.opened_at
    try:
        elapsed = now - opened
    except TypeError:
        raise InvalidAmount("Opening time and current time must both carry a time zone.") from None
    if elapsed >= _NO_TIME:
        charged = elapsed // ROLLOVER_PERIOD
        day_marks = _DAY_MARKS  # any 24 h window after opening holds exactly six 4-hour marks
    else:
        charged = 0
        day_marks = rollovers_charged(opened, now + timedelta(hours=24))
    per_mark = rate * cost
    opening = per_mark if p.opening_fee is None else p.opening_fee
    fees = p.trading_fee + opening + charged * per_mark
    if p.next_rollover is not None:
        upcoming = p.next_rollover
    elif rate:
        upcoming = opened + ROLLOVER_PERIOD * (charged + 1)
    else:
        upcoming = None
    return fees, _break_even(p, fees, TAKER_FEE_RATE), day_marks * per_mark, upcoming


@dataclass(frozen=True)
class PnlBreakdown:
    """Net P&L of a position (or of the `share` of it being closed) and every fee in it, in `currency`.

    net = unrealized - trading_fee - opening_fee - rollovers - closing_fee.
    """

    currency: str
    unrealized: Decimal
    trading_fee: Decimal  # the trade fee paid when the position opened (Kraken's `fee`)
    opening_fee: Decimal  # the margin opening fee
    rollovers: Decimal  # rollover_count marks charged so far
    rollover_count: int
    closing_fee: Decimal  # estimated, at closing_fee_rate of the value closed
    closing_fee_rate: Decimal
    net: Decimal


@engine_context
def pnl_breakdown(
    p: Position,
    price: Decimal,
    now: datetime,
    fx_rate: Decimal = ONE,
    currency: str = "",
    close_fee_rate: Decimal = TAKER_FEE_RATE,
    share: Decimal = ONE,
) -> PnlBreakdown:
    """`net_pnl` term by term, converted at `fx_rate` (quote -> `currency`); `share` (0, 1] of the position.

    A partial close of `share` takes that share of the fees charged so far with it (they were charged
    on the whole position's cost) and pays the closing fee on the volume it closes.
    """
    _check_close_fee(close_fee_rate)
    if not ZERO < share <= ONE:
        raise InvalidAmount(f"Share of the position must be in (0, 1] (got {share}).")
    value = price * p.remaining_volume * share
    cost = p.cost * share
    upnl = value - cost if p.side is _LONG else cost - value
    rate = rollover_rate(p)
    count = rollovers_charged(p.opened_at, now)
    terms = (
        upnl,
        p.trading_fee * share,
        opening_fee(p) * share,
        count * rate * p.cost * share,
        close_fee_rate * value,
    )
    upnl, trading, opening, rollovers, closing = (term * fx_rate for term in terms)
    net = upnl - trading - opening - rollovers - closing
    return PnlBreakdown(currency, upnl, trading, opening, rollovers, count, closing, close_fee_rate, net)
