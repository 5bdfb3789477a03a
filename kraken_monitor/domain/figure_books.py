"""Per-thread caches behind `figures.compute`: a book per positions tuple, rows per position, price and rollover count.

Every cached value is computed by the same expressions, in the same order, as a cold computation
(see figures.py, "Why caches"), so results are identical, not merely close.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.domain import costs
from kraken_monitor.domain.decimals import HUNDRED, ZERO, check_position
from kraken_monitor.domain.exposure import pair_currency
from kraken_monitor.domain.kernels import (
    _CROSS,
    _LONG,
    _OK,
    DEFAULT_MAINTENANCE_RATE,
    DEFAULT_MARGIN_CALL_LEVEL,
    _cross,
    _isolated_level,
    _isolated_liquidation,
    _isolated_trigger,
    _leverage,
    _price,
    liquidation_order,
)
from kraken_monitor.domain.models import PairRules, Position

# Per thread (the worker computes cycles, the GUI thread what-if previews): rows are updated in
# place, so a book is never shared between threads. Keyed by id(positions tuple); the book holds
# the tuple, so the id cannot be reused while the book is cached.
_local = threading.local()
MAX_BOOKS = 4  # per thread: the current account and the last few what-if states
# A window no aware `now` falls in: forces a recount when the rollover count cannot be windowed.
_NEVER = datetime(2000, 1, 1, tzinfo=timezone.utc)
_PERIOD = costs.ROLLOVER_PERIOD
_TAKER = costs.TAKER_FEE_RATE  # Net P&L is after the estimated closing fee (costs module docstring)
_NO_TIME = timedelta(0)


def thread_books() -> dict[int, _Book]:
    """This thread's cached books by id(positions tuple), oldest first."""
    books = getattr(_local, "books", None)
    if books is None:
        books = _local.books = {}
    return books


def clear_cache() -> None:
    """Forget this thread's cached books (tests; memory is bounded without it)."""
    thread_books().clear()


class _Row:
    """One position of a book: its fixed figures, then the last price- and rollover-dependent ones."""

    __slots__ = ("p", "pair", "long", "cross", "volume", "cost", "margin", "rate", "entry", "leverage", "order",
                 "iso", "cur", "fee", "rec", "conv")

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
        self.conv = (None, None, {})  # (rec, FX rate, its money fields in the account currency)

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
        closing = value * _TAKER
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
            "closing_fee": closing,
            "net_pnl": upnl - fees - closing,
            "break_even_price": fee[3],
            "margin_level": None,  # the cross account holds the level (AccountFigures)
            "next_rollover": fee[5],
            "projected_cost_24h": fee[4],
            "risk": _OK,  # the alert engine sets it
            "liquidation_order": self.order,
            "cost": self.cost,  # quote currency here; converted with the other money in `compute`
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

    __slots__ = ("positions", "rows", "cross_rows", "iso_rows", "pairs", "cross_pairs", "slopes", "ccy", "fx")

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
        self.ccy = (None, -1, {}, frozenset())  # (rules mapping, its size, pair -> quote, quotes)
        self.fx: dict[tuple[str, str], tuple[tuple, Decimal | None]] = {}  # (ccy, account) -> (prices, rate)

    def stable_rates(self, rates: dict, paths: Mapping, account: str, prices: Mapping[str, Decimal]) -> None:
        """Keep last cycle's rate objects while their path prices are the same objects (row caches key on them)."""
        for ccy, path in paths.items():
            key = tuple(prices.get(symbol) for symbol, _ in path)
            last = self.fx.get((ccy, account))
            if last is not None and len(last[0]) == len(key) and all(a is b for a, b in zip(last[0], key, strict=True)):
                rates[ccy] = last[1]
            else:
                self.fx[(ccy, account)] = (key, rates[ccy])

    def currencies(self, rules: Mapping[str, PairRules]) -> tuple[dict[str, str], frozenset[str]]:
        """(pair -> quote currency (common code), the set of them); cached while the mapping is the same."""
        cached = self.ccy
        if cached[0] is not rules or cached[1] != len(rules):
            pair_ccy = {pair: pair_currency(pair, rules) for pair in self.pairs}
            cached = self.ccy = (rules, len(rules), pair_ccy, frozenset(pair_ccy.values()) - {""})
        return cached[2], cached[3]


def book_for(positions: tuple[Position, ...], prices: Mapping[str, Decimal]) -> _Book:
    """This thread's book for these positions (built, or reused with the new prices checked); oldest evicted."""
    books = thread_books()
    book = books.get(id(positions))
    if book is not None and book.positions is positions:
        for pair in book.pairs:  # positions were validated when the book was built; prices are new
            _price(prices.get(pair), pair)
        return book
    book = _Book(positions, prices)
    while len(books) >= MAX_BOOKS:
        del books[next(iter(books))]  # the oldest
    books[id(positions)] = book
    return book
