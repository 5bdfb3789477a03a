"""Per-cycle margin figures (`margin.compute`) and the margin kernels it shares with margin.py.

Sources: shared reference "Kraken margin" sections 1 and 2 (support 360030886332, 203325693, 203053156,
203325763; Kraken Futures 360022835671) and costs.py (support 206161568).

Why caches: a poll cycle usually moves a few prices of an account that did not change, yet every
record must be rebuilt (the account equity moves every cross trigger price). What depends only on
the positions is computed once per positions tuple (a "book"); what depends on a position and its
pair's price, or on the 4-hour rollover count, is kept until that price object or that count
changes. Every cached value is computed by the same expressions, in the same order, as a cold
computation, so results are identical (same Decimal digits and exponents), not merely close.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.domain import costs
from kraken_monitor.domain.decimals import (
    HUNDRED,
    ZERO,
    check_position,
    engine_context,
    require_finite,
    require_positive,
)
from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.models import (
    AccountFigures,
    AccountState,
    Balance,
    MarginMode,
    PairRules,
    Position,
    PositionFigures,
    Risk,
    Side,
)

# Kraken's usual thresholds (support 203325763), used ONLY when no held pair has AssetPairs rules:
# the per-pair `margin_call` / `margin_stop` are the truth whenever they are known.
DEFAULT_MARGIN_CALL_LEVEL = Decimal(80)
DEFAULT_LIQUIDATION_LEVEL = Decimal(40)
# Enum member access is slow on Python 3.11 (a property per lookup); the hot loops use these.
_LONG, _SHORT, _CROSS, _OK = Side.LONG, Side.SHORT, MarginMode.CROSS, Risk.OK
DEFAULT_MAINTENANCE_RATE = PairRules("", "", "", ZERO, ZERO).maintenance_rate
_LEVERAGE_SNAP = Decimal("1e-6")


# -- kernels (callers validate their inputs and run inside the engine context) -----------------


def _leverage(cost: Decimal, margin: Decimal) -> Decimal:
    # Kraken opens at a whole leverage (AssetPairs leverage_buy/sell) but rounds `margin` in its
    # payloads, so cost / margin comes out as 5.0000000009: report the leverage the trader chose.
    ratio = cost / margin
    whole = ratio.to_integral_value()
    return whole if abs(ratio - whole) <= _LEVERAGE_SNAP * ratio else ratio


def _price(price: Decimal, pair: str) -> Decimal:
    if price is None:
        raise InvalidAmount(f"No price is known for {pair}.")
    return require_positive(price, f"Price of {pair}")


def allocated_margin(p: Position) -> Decimal:
    """Collateral backing an isolated position (reference section 2)."""
    # An isolated position the venue reported without an allocation holds exactly its opening margin.
    return p.allocated_margin if p.allocated_margin is not None else p.margin


def _short_slope(p: Position) -> Decimal:
    """d(used margin)/d(price) of a short = V / L = margin * V / cost (support 203053156)."""
    return p.margin * p.remaining_volume / p.cost


def _solve(equity: Decimal, used: Decimal, a: Decimal, b: Decimal, price: Decimal, level: Decimal):
    """Price where (equity + a*dP) / (used + b*dP) = level/100 (reference section 1, several positions).

    Equity and used margin are both linear in one pair's price, so the solve is exact from any
    starting price. None when the level does not depend on the price (a - x*b == 0) or P <= 0.
    """
    x = level / HUNDRED
    den = a - x * b
    if den == 0:
        return None
    result = price + (x * used - equity) / den
    return result if result > 0 else None


def _isolated_level(p: Position, price: Decimal) -> Decimal:
    value = price * p.remaining_volume
    if p.side is _LONG:
        return (allocated_margin(p) + value - p.cost) / p.margin * HUNDRED
    return (allocated_margin(p) + p.cost - value) / (p.margin * value / p.cost) * HUNDRED


def _isolated_trigger(p: Position, level: Decimal) -> Decimal | None:
    entry = p.cost / p.remaining_volume
    # At the entry price upnl is 0 and a short's used margin equals its opening margin.
    if p.side is _LONG:
        return _solve(allocated_margin(p), p.margin, p.remaining_volume, ZERO, entry, level)
    return _solve(allocated_margin(p), p.margin, -p.remaining_volume, _short_slope(p), entry, level)


def _isolated_liquidation(p: Position, rate: Decimal) -> Decimal | None:
    volume = p.remaining_volume
    allocated = allocated_margin(p)
    if p.side is _LONG:
        den = volume * (1 - rate)
        if den <= 0:
            return None
        result = (p.cost - allocated) / den
        return result if result > 0 else None
    return (allocated + p.cost) / (volume * (1 + rate))


def _cross(positions: Iterable[Position]) -> list[Position]:
    return [p for p in positions if p.margin_mode is _CROSS]


def liquidation_order(positions: Iterable[Position]) -> dict[str, int]:
    """Kraken liquidates the oldest position first, regardless of pair or profit (support 203325763)."""
    ordered = sorted(_cross(positions), key=lambda p: (p.opened_at, p.id))
    return {p.id: rank for rank, p in enumerate(ordered, start=1)}


def _levels(cross_pairs: set[str], rules: Mapping[str, PairRules]) -> tuple[Decimal, Decimal]:
    known = [rules[pair] for pair in cross_pairs if pair in rules]
    if not known:
        return DEFAULT_MARGIN_CALL_LEVEL, DEFAULT_LIQUIDATION_LEVEL
    return max(r.margin_call_level for r in known), max(r.margin_stop_level for r in known)


def account_levels(positions: Iterable[Position], rules: Mapping[str, PairRules]) -> tuple[Decimal, Decimal]:
    """(margin-call, liquidation) levels of the cross account: the strictest (highest) of the pairs held.

    Kraken publishes them per pair (AssetPairs margin_call / margin_stop, support 203325763); the
    account has one level, so the highest threshold among held pairs is the one reached first.
    80/40 only when no held pair has known rules (nothing better is known).
    """
    return _levels({p.pair for p in _cross(positions)}, rules)


def account_record(balance: Balance, equity, used, levels, exchange_ml=None) -> AccountFigures:
    """AccountFigures from the cross sums: e = tb + n, mf = e - m, ml = e / m * 100 (support 203325693)."""
    call_level, stop_level = levels
    return AccountFigures(
        currency=balance.currency,
        trade_balance=balance.trade_balance,
        equity=equity,
        used_margin=used,
        free_margin=equity - used,
        margin_level=equity / used * HUNDRED if used else None,
        margin_level_exchange=exchange_ml if exchange_ml is not None else balance.exchange_margin_level,
        margin_call_level=call_level,
        liquidation_level=stop_level,
    )


# -- caches ------------------------------------------------------------------------------------

# Per thread (the worker computes cycles, the GUI thread what-if previews): rows are updated in
# place, so a book is never shared between threads. Keyed by id(positions tuple); the book holds
# the tuple, so the id cannot be reused while the book is cached.
_local = threading.local()
_MAX_BOOKS = 4  # per thread: the current account and the last few what-if states
# A window no aware `now` falls in: forces a recount when the rollover count cannot be windowed.
_NEVER = datetime(2000, 1, 1, tzinfo=timezone.utc)
_PERIOD = costs.ROLLOVER_PERIOD
_NO_TIME = timedelta(0)


def _books() -> dict[int, _Book]:
    books = getattr(_local, "books", None)
    if books is None:
        books = _local.books = {}
    return books


def clear_cache() -> None:
    """Forget this thread's cached books (tests; memory is bounded without it)."""
    _books().clear()


class _Row:
    """One position of a book: its fixed figures, then the last price- and rollover-dependent ones."""

    __slots__ = ("p", "pair", "long", "cross", "volume", "cost", "margin", "rate", "entry", "leverage", "order",
                 "iso", "cur", "fee", "rec")

    def __init__(self, p: Position, order: int | None, rate: Decimal):
        self.p = p
        self.pair = p.pair
        self.long = p.side is _LONG
        self.cross = p.margin_mode is _CROSS
        self.volume = volume = p.remaining_volume
        self.cost = cost = p.cost
        self.margin = margin = p.margin
        self.rate = rate
        self.entry = cost / volume
        self.leverage = _leverage(cost, margin)
        self.order = order
        self.iso = None  # isolated: (rules object, margin-call price, liquidation price)
        self.cur = (None,)  # (price, value, upnl, used margin)
        self.fee = (_NEVER, _NEVER)  # (window start, window end, fees, break-even, 24 h cost, next rollover)
        self.rec = (None,)  # (price, fee tuple, iso, record fields without the pair's trigger fields)

    def terms(self, price: Decimal) -> tuple:
        value = price * self.volume
        if self.long:
            cur = (price, value, value - self.cost, self.margin)
        else:
            cur = (price, value, self.cost - value, self.margin * value / self.cost)
        self.cur = cur
        return cur

    def isolated(self, rules: PairRules | None) -> tuple:
        if rules is None:  # no AssetPairs/Futures rules known: Kraken's usual figures (see the defaults)
            call_level, rate = DEFAULT_MARGIN_CALL_LEVEL, DEFAULT_MAINTENANCE_RATE
        else:
            call_level, rate = rules.margin_call_level, rules.maintenance_rate
        self.iso = iso = (rules, _isolated_trigger(self.p, call_level), _isolated_liquidation(self.p, rate))
        return iso

    def fees(self, now: datetime, windowed: bool) -> tuple:
        p = self.p
        fees, break_even, day_cost, upcoming = costs.cycle_costs(p, now, self.rate)
        start = end = _NEVER
        if windowed:
            # The count (now - opened) // 4h stays the same while start <= now < end; exact because
            # both times have fixed UTC offsets (wall-clock and absolute arithmetic agree).
            elapsed = now - p.opened_at
            if elapsed >= _NO_TIME:
                try:
                    start = p.opened_at + _PERIOD * (elapsed // _PERIOD)
                    end = start + _PERIOD
                except OverflowError:  # a window past year 9999: recount every cycle
                    start = end = _NEVER
        fee = self.fee = (start, end, fees, break_even, day_cost, upcoming)
        return fee

    def record(self, price: Decimal, now: datetime, windowed: bool) -> tuple:
        fee = self.fee
        if not (windowed and fee[0] <= now < fee[1]):
            fee = self.fees(now, windowed and type(self.p.opened_at.tzinfo) is timezone)
        cur = self.cur
        if cur[0] is not price:
            cur = self.terms(price)
        _, value, upnl, used = cur
        fees = fee[2]
        fields = {
            "position": self.p,
            "price": price,
            "entry_price": self.entry,
            "remaining_volume": self.volume,
            "leverage": self.leverage,
            "valuation": value,
            "unrealized_pnl": upnl,
            "pnl_pct": upnl / self.margin * HUNDRED,
            "used_margin": used,
            "fees": fees,
            "net_pnl": upnl - fees,
            "break_even_price": fee[3],
            "margin_level": None,  # the cross account holds the level (AccountFigures)
            "next_rollover": fee[5],
            "projected_cost_24h": fee[4],
            "risk": _OK,  # the alert engine sets it
            "liquidation_order": self.order,
        }
        iso = self.iso
        if iso is not None:
            _, call_price, liq_price = iso
            sign = HUNDRED / price if self.long else -HUNDRED / price
            fields["margin_level"] = _isolated_level(self.p, price)
            fields["margin_call_price"] = call_price
            fields["liquidation_price"] = liq_price
            fields["distance_to_margin_call_pct"] = None if call_price is None else (price - call_price) * sign
            fields["distance_to_liquidation_pct"] = None if liq_price is None else (price - liq_price) * sign
        rec = self.rec = (price, fee, iso, fields)
        return rec


class _Book:
    """What depends only on one positions tuple: validated rows, pairs, per-pair slopes, FIFO ranks."""

    __slots__ = ("positions", "rows", "cross_rows", "iso_rows", "pairs", "cross_pairs", "slopes")

    def __init__(self, positions: tuple[Position, ...], prices: Mapping[str, Decimal]):
        checked: dict[str, Decimal] = {}
        for p in positions:
            # Validation order as a plain pass (position, then its pair's price): same first error.
            check_position(p)
            if p.pair not in checked:
                checked[p.pair] = _price(prices.get(p.pair), p.pair)
        order = liquidation_order(positions)
        rates: dict[str, Decimal] = {}  # terms -> rate: a few distinct strings across all positions
        rows = []
        for p in positions:
            terms = p.rollover_terms
            rate = rates.get(terms)
            if rate is None:
                rate = rates[terms] = costs.rollover_rate(p)
            rows.append(_Row(p, order.get(p.id), rate))
        slopes: dict[str, tuple[Decimal, Decimal]] = {}  # pair -> (a, b), summed in position order
        for r in rows:
            if r.cross:
                a, b = slopes.get(r.pair, (ZERO, ZERO))
                if r.long:
                    slopes[r.pair] = (a + r.volume, b)
                else:
                    slopes[r.pair] = (a - r.volume, b + r.margin * r.volume / r.cost)
        self.positions = positions
        self.rows = rows
        self.cross_rows = [r for r in rows if r.cross]
        self.iso_rows = [r for r in rows if not r.cross]
        self.pairs = list(checked)
        self.cross_pairs = {p.pair for p in _cross(positions)}
        self.slopes = slopes


def _book(positions: tuple[Position, ...], prices: Mapping[str, Decimal]) -> _Book:
    books = _books()
    book = books.get(id(positions))
    if book is not None and book.positions is positions:
        for pair in book.pairs:  # positions were validated when the book was built; prices are new
            _price(prices.get(pair), pair)
        return book
    book = _Book(positions, prices)
    while len(books) >= _MAX_BOOKS:
        del books[next(iter(books))]  # the oldest
    books[id(positions)] = book
    return book


# -- the per-cycle call ------------------------------------------------------------------------

_new = object.__new__
_set = object.__setattr__


@engine_context
def compute(
    state: AccountState,
    prices: Mapping[str, Decimal],
    rules: Mapping[str, PairRules],
    now: datetime,
    exchange_balance: Balance | None = None,
) -> tuple[AccountFigures, tuple[PositionFigures, ...]]:
    """Account and per-position figures for one poll cycle; risk left at OK (the alert engine sets it).

    Same contract as `margin.compute` (which is this function). Per cycle: one pass summing the
    cross equity and used margin, one solve per pair, one pass building the records.
    """
    balance = state.balance
    equity = require_finite(balance.trade_balance, "Trade balance")
    positions = state.positions
    if type(positions) is not tuple:
        positions = tuple(positions)
    book = _book(positions, prices)
    px = {pair: prices[pair] for pair in book.pairs}

    used = ZERO
    for r in book.cross_rows:
        price = px[r.pair]
        cur = r.cur
        if cur[0] is not price:
            cur = r.terms(price)
        equity += cur[2]
        used += cur[3]

    levels = _levels(book.cross_pairs, rules)
    exchange_ml = exchange_balance.exchange_margin_level if exchange_balance is not None else None
    account = account_record(balance, equity, used, levels, exchange_ml)
    call_level, stop_level = levels

    # A cross position's trigger prices and distances are the same for every position on its pair.
    pair_fields: dict[str, dict] = {}
    for pair, (a, b) in book.slopes.items():
        price = px[pair]
        call_price = _solve(equity, used, a, b, price, call_level)
        liq_price = _solve(equity, used, a, b, price, stop_level)
        # The losing side: d(e/m)/dP has the sign of a*m - b*e (quotient rule; both linear in P).
        sign = -HUNDRED / price if a * used - b * equity < 0 else HUNDRED / price
        pair_fields[pair] = {
            "margin_call_price": call_price,
            "liquidation_price": liq_price,
            "distance_to_margin_call_pct": None if call_price is None else (price - call_price) * sign,
            "distance_to_liquidation_pct": None if liq_price is None else (price - liq_price) * sign,
        }

    for r in book.iso_rows:
        rule = rules.get(r.pair)
        iso = r.iso
        if iso is None or iso[0] is not rule:
            r.isolated(rule)

    windowed = type(now.tzinfo) is timezone
    out = []
    append = out.append
    for r in book.rows:
        price = px[r.pair]
        rec = r.rec
        if rec[0] is not price or rec[2] is not r.iso or not (windowed and rec[1][0] <= now < rec[1][1]):
            rec = r.record(price, now, windowed)
        pf = _new(PositionFigures)
        _set(pf, "__dict__", rec[3] | pair_fields[r.pair] if r.cross else rec[3].copy())
        append(pf)
    return account, tuple(out)
