"""What the futures WebSocket pushed, laid over the REST reads: Kraken's liquidation thresholds, marks, margin equity.

The one object the futures poller (worker/futures_watch.FuturesPoller) consults: `FuturesFeed.wrap(exchange)`
gives it an exchange whose reads carry the pushed figures, `pushed_book()` a fresh book between REST reads when
something was pushed (demo: `take_push_read()`, a read of the in-process paper venue instead), `tag(book)` says
on the book which feed is live (the futures account bar shows it).

Rules (fail closed; REST stays the source of truth for which positions and which account exist):
- nothing pushed counts unless the stream is live now (data age, worker/price_stream.py) and it arrived in this
  session: a silent or dropped socket falls back to REST at once (the session ends within `silence_s`);
- a position takes Kraken's `liquidation_threshold` (source "exchange") only when the pushed row has the same
  contract, side and size as REST's, and it is under `positions_max_age_s` old; 0 means "not available":
  the estimate stays (domain/futures.book_figures);
- a pushed mark or flex figure replaces REST's only when it arrived after the REST read began;
- between REST reads a pushed book is built only from a complete, successful REST read (a failed read leaves
  nothing to lay pushes over: the failure's stale book stands).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures import FlexAccount, FuturesBook, FuturesPosition, book_figures
from kraken_monitor.domain.futures_liquidation import FuturesContract
from kraken_monitor.domain.futures_protection import with_orders
from kraken_monitor.domain.orders import OpenOrder, OrderSpec
from kraken_monitor.exchange.base import Capabilities, OrderResult
from kraken_monitor.exchange.futures_base import FuturesExchange
from kraken_monitor.text.futures_feed import futures_feed_text
from kraken_monitor.worker.futures_stream import FuturesStreamSource, FuturesStreamThread
from kraken_monitor.worker.price_stream import StreamState

log = logging.getLogger(__name__)

MAX_SILENCE_S = 2.5  # as the spot stream: Kraken heartbeats and marks arrive more often than this
PUSHED_BOOK_GAP_S = 0.25  # pushed books (or demo's push reads) at most 4 a second


class FuturesPushStore:
    """Thread-safe: the stream thread writes (on_*), the poll thread reads (overlay, version)."""

    def __init__(self, private: bool, positions_max_age_s: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.private, self.positions_max_age_s, self._monotonic = private, positions_max_age_s, monotonic
        self._lock = threading.Lock()
        self._state = StreamState(False, "connecting")
        self._marks: dict[str, tuple[Decimal, float]] = {}
        self._positions: tuple[list[Any], float] | None = None  # (PushedPosition rows, arrival)
        self._flex: tuple[dict[str, Decimal], float] | None = None
        self._private_error = ""  # why the private feeds failed in this session
        self.version = 0  # bumps on every push or state change: the poller publishes when it moved
        # Called (stream thread, outside the lock) after every bump: the poller's wake-up, so it sleeps until
        # something moved instead of looking 10 times a second (issue 17.7).
        self.on_change: Callable[[], None] = lambda: None

    # -- stream thread ------------------------------------------------------------------------
    def on_state(self, state: StreamState) -> None:
        with self._lock:
            if not state.live:  # a new session must earn every figure again
                self._marks, self._positions, self._flex, self._private_error = {}, None, None, ""
            self._state = state
            self.version += 1
        self.on_change()

    def on_marks(self, marks: dict[str, Decimal], arrived: float) -> None:
        with self._lock:
            self._marks.update({pair: (mark, arrived) for pair, mark in marks.items()})
            self.version += 1
        self.on_change()

    def on_positions(self, rows: list[Any], arrived: float) -> None:
        with self._lock:
            self._positions = (list(rows), arrived)  # each message is the whole book of positions
            for row in rows:
                if row.mark_price is not None:
                    self._marks[row.pair] = (row.mark_price, arrived)
            self.version += 1
        self.on_change()

    def on_private_error(self, reason: str) -> None:
        with self._lock:
            self._private_error = reason
            self.version += 1
        self.on_change()

    def on_flex(self, fields: dict[str, Decimal], arrived: float) -> None:
        with self._lock:
            self._flex = (dict(fields), arrived)
            self.version += 1
        self.on_change()

    # -- poll thread --------------------------------------------------------------------------
    def live(self) -> bool:
        """Streaming for real: data arrived in this session and, with a key, Kraken's positions feed answered."""
        with self._lock:
            return self._state.live and (not self.private or self._positions is not None)

    def detail(self) -> str:
        with self._lock:
            if self._state.live and self.private and self._positions is None:
                return f"private feeds: {self._private_error}" if self._private_error else \
                    "waiting for Kraken's positions feed"
            return self._state.detail

    def overlay_marks(self, marks: dict[str, Decimal], read_at: float) -> dict[str, Decimal]:
        with self._lock:
            if not self._state.live:
                return dict(marks)
            pushed = {pair: mark for pair, (mark, arrived) in self._marks.items() if arrived >= read_at}
        return {**marks, **pushed}

    def overlay_flex(self, flex: FlexAccount, read_at: float) -> FlexAccount:
        with self._lock:
            pushed = self._flex if self._state.live else None
        if pushed is None or pushed[1] < read_at:
            return flex
        return dataclasses.replace(flex, **pushed[0])

    def overlay_positions(self, positions: list[FuturesPosition]) -> list[FuturesPosition]:
        with self._lock:
            pushed = self._positions if self._state.live else None
        if pushed is None or self._monotonic() - pushed[1] > self.positions_max_age_s:
            return list(positions)
        rows = {(r.pair, r.side): r for r in pushed[0]}
        out = []
        for p in positions:
            row = rows.get((p.pair, p.side))
            if row is not None and row.volume == p.volume:
                p = dataclasses.replace(p, liquidation_threshold=row.liquidation_threshold)
            out.append(p)
        return out


class StreamedFuturesExchange(FuturesExchange):
    """The REST exchange with the pushed figures laid over its reads; actions go straight to REST."""

    def __init__(self, inner: FuturesExchange, store: FuturesPushStore,
                 on_pairs: Callable[[list[str]], None], monotonic: Callable[[], float] = time.monotonic) -> None:
        self.inner, self.store, self._on_pairs, self._monotonic = inner, store, on_pairs, monotonic
        self.mode = inner.mode
        self._contracts: dict[str, FuturesContract] = {}
        self._account: tuple[FlexAccount, list[FuturesPosition], float] | None = None  # last REST read
        self._marks: tuple[dict[str, Decimal], float] | None = None
        self._orders: tuple[OpenOrder, ...] | None = None  # last openorders read (issue 16)

    def load_contracts(self) -> dict[str, FuturesContract]:
        self._account = self._marks = None  # a read begins: until it succeeds, nothing to lay pushes over
        self._contracts = self.inner.load_contracts()
        return self._contracts

    def fetch_account(self) -> tuple[FlexAccount, list[FuturesPosition]]:
        self._account = self._orders = None  # a failed read leaves nothing for pushes to be laid over
        read_at = self._monotonic()
        flex, positions = self.inner.fetch_account()
        self._account = (flex, positions, read_at)
        self._on_pairs(sorted({p.pair for p in positions}))  # the contracts held: their marks are streamed
        return self.store.overlay_flex(flex, read_at), self.store.overlay_positions(positions)

    def fetch_marks(self) -> dict[str, Decimal]:
        self._marks = None
        read_at = self._monotonic()
        marks = self.inner.fetch_marks()
        self._marks = (marks, read_at)
        return self.store.overlay_marks(marks, read_at)

    def pushed_book(self, thresholds: AlertThresholds, now: datetime, feed: str) -> FuturesBook | None:
        """The book from the last REST read with every pushed figure laid over; None when there is none."""
        account, marks = self._account, self._marks
        if account is None or marks is None or not self._contracts:
            return None
        flex, positions, read_at = account
        marks_now = self.store.overlay_marks(marks[0], marks[1])
        if any(p.pair not in marks_now or p.pair not in self._contracts for p in positions):
            return None
        figures, rows = book_figures(self.store.overlay_flex(flex, read_at), self.store.overlay_positions(positions),
                                     marks_now, self._contracts, thresholds)
        book = FuturesBook(str(self.mode), now, figures, rows, contracts=self._contracts, feed=feed)
        # The orders of the last REST read (openorders is not streamed): rows keep their protection.
        return with_orders(book, self._orders) if self._orders is not None else book

    # ----- protective orders (issue 16): read and sent through REST -----
    def fetch_open_orders(self) -> tuple[OpenOrder, ...]:
        self._orders = self.inner.fetch_open_orders()
        return self._orders

    def order_capabilities(self) -> Capabilities:
        return self.inner.order_capabilities()

    def place_order(self, spec: OrderSpec) -> OrderResult:
        return self.inner.place_order(spec)

    def cancel_order(self, order_id: str, pair: str) -> OrderResult:
        return self.inner.cancel_order(order_id, pair)

    def modify_order(self, order_id: str, spec: OrderSpec) -> OrderResult:
        return self.inner.modify_order(order_id, spec)

    def leverage_preferences(self) -> dict[str, Decimal]:
        return self.inner.leverage_preferences()

    def set_leverage(self, pair: str, leverage: Decimal | None) -> OrderResult:
        return self.inner.set_leverage(pair, leverage)

    def transfer_to_flex(self, amount: Decimal, currency: str = "USD") -> OrderResult:
        return self.inner.transfer_to_flex(amount, currency)

    def advance(self, seconds: float) -> None:
        self.inner.advance(seconds)

    def close(self) -> None:
        self.inner.close()


class FuturesFeed:
    """The futures WebSocket for one poller: its stream thread, the pushes it keeps, the exchange wrapper.

    Owner: the poller (start/stop from any one thread; `wrap`, `pushed_book` and `tag` from the poll thread).
    """

    def __init__(self, open_source: Callable[[], FuturesStreamSource], private: bool, polling_every_s: float,
                 silence_s: float = MAX_SILENCE_S, positions_max_age_s: float | None = None,
                 monotonic: Callable[[], float] = time.monotonic, demo: bool = False, **thread_options: Any) -> None:
        self.polling_every_s, self.demo = polling_every_s, demo  # demo: the embedded market pushes the marks
        self.store = FuturesPushStore(private, positions_max_age_s or max(30.0, 3 * polling_every_s), monotonic)
        self.thread = FuturesStreamThread(open_source, (), self.store.on_marks, self.store.on_positions,
                                          self.store.on_flex, self.store.on_state, self.store.on_private_error,
                                          silence_s=silence_s,
                                          monotonic=monotonic, **thread_options)
        self._monotonic, self._silence_s = monotonic, silence_s
        self._exchange: StreamedFuturesExchange | None = None
        self._published = -1
        self._published_at = float("-inf")

    def wrap(self, exchange: FuturesExchange) -> StreamedFuturesExchange:
        self._exchange = StreamedFuturesExchange(exchange, self.store, self.thread.set_pairs, self._monotonic)
        self.thread.start()
        return self._exchange

    def wake_on_push(self, wake: Callable[[], None]) -> None:
        """`wake` (the poller's) is called from the stream thread after every push or state change."""
        self.store.on_change = wake

    def reads_on_push(self) -> bool:
        """Demo, live: the paper venue is in-process and is the account, so a pushed market step is read through
        it at once (marks, equity and triggers of one step, one book per step) instead of laid over the last
        read and read again a moment later (two books a second for one step, issue 17.7)."""
        return self.demo and self.store.live()

    def read_every_s(self) -> float:
        """REST's cadence: the polling interval; while the demo market's pushes drive the reads, the silence
        window (a feed that stays silent that long is down, and the interval is back)."""
        return max(2 * self.polling_every_s, self._silence_s) if self.reads_on_push() else self.polling_every_s

    def due_in_s(self) -> float | None:
        """Something was pushed since the last book: the seconds until it may be published (0: now); None when
        nothing was (at most one pushed book every PUSHED_BOOK_GAP_S)."""
        if self.store.version == self._published:
            return None
        return max(0.0, self._published_at + PUSHED_BOOK_GAP_S - self._monotonic())

    def take_push_read(self) -> bool:
        """True when a push is due and the demo venue should be read for it now (see reads_on_push); the push
        then counts as published, so a read that fails does not ask again until the next push."""
        if not self.reads_on_push() or self.due_in_s() != 0:
            return False
        self._published, self._published_at = self.store.version, self._monotonic()
        return True

    def text(self) -> str:
        return futures_feed_text(self.store.live(), self.store.detail(), self.polling_every_s, self.demo)

    def tag(self, book: FuturesBook) -> FuturesBook:
        """A REST book, marked with the feed its figures came from; pushes up to now are in it."""
        self._published = self.store.version
        return dataclasses.replace(book, feed=self.text())

    def pushed_book(self, thresholds: AlertThresholds, now: datetime) -> FuturesBook | None:
        """A new book when something was pushed (or the feed changed state) since the last one published."""
        version, mono = self.store.version, self._monotonic()
        if self._exchange is None or version == self._published or mono - self._published_at < PUSHED_BOOK_GAP_S:
            return None
        self._published, self._published_at = version, mono
        return self._exchange.pushed_book(thresholds, now, self.text())

    def settled_book(self, book: FuturesBook, thresholds: AlertThresholds, wait_s: float) -> FuturesBook:
        """One-shot reads (`snapshot`): after a REST read, wait up to `wait_s` for the feed to go live and lay
        what it pushed over that read; the REST book as it was (estimates) when it does not."""
        end = self._monotonic() + wait_s
        while not book.stale and self._exchange is not None and self._monotonic() < end:
            if self.store.live():
                return self._exchange.pushed_book(thresholds, book.as_of, self.text()) or book
            time.sleep(0.05)
        return self.tag(book)

    def stop(self) -> bool:
        return self.thread.stop()


def futures_feed_for(config: Any, polling_every_s: float, exchange: FuturesExchange | None = None) -> FuturesFeed | None:
    """The feed a config asks for (`--prices stream`: live or paper, or demo given its paper venue `exchange`,
    whose embedded market then pushes the marks), or None: futures are then polled alone."""
    from kraken_monitor.exchange.demo_futures_stream import demo_futures_stream_opener
    from kraken_monitor.exchange.errors import ExchangeError
    from kraken_monitor.exchange.kraken_futures_stream import futures_stream_opener

    silence_s = min(MAX_SILENCE_S, config.price_stale_after_s())
    demo = demo_futures_stream_opener(config, exchange) if exchange is not None else None
    if demo is not None:  # the same feed, store and liveness rules; only the source differs
        return FuturesFeed(demo[0], demo[1], polling_every_s, silence_s=silence_s, demo=True)
    try:
        opened = futures_stream_opener(config)
    except ExchangeError as exc:
        log.warning("futures stream off: %s", exc)
        return None
    if opened is None:
        return None
    opener, private = opened
    return FuturesFeed(opener, private, polling_every_s, silence_s=silence_s)
