"""Demo futures streaming (issue 17, acceptance 4): the embedded market pushes marks through the same FuturesFeed
seam as live. Real parts: the paper venue, its demo market (on a clock the test moves), the futures stream thread
and its watchdog, the poller; nothing mocked. Reads are counted on the paper venue itself."""

import asyncio
import queue
import threading
import time
from decimal import Decimal

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.demo_futures_stream import DemoFuturesStream, demo_futures_stream_opener
from kraken_monitor.exchange.demo_market import DemoMarket
from kraken_monitor.exchange.paper_futures import DemoFuturesMarks, PaperFuturesExchange
from kraken_monitor.text.futures_feed import futures_feed_label
from kraken_monitor.worker.backoff import Backoff
from kraken_monitor.worker.futures_live import FuturesFeed, futures_feed_for
from kraken_monitor.worker.futures_watch import FuturesPoller

D = Decimal
BTC, ETH = "BTC/USD:USD", "ETH/USD:USD"
STREAM = MonitorConfig(mode="demo", prices="stream")


class Clock:
    """The demo market's clock: it steps only when the test moves this (one step per whole second)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class CountingPaper(PaperFuturesExchange):
    """The demo paper venue, counting its own reads (the REST-style reads a pushed mark must not need)."""

    def __init__(self, market: DemoMarket) -> None:
        super().__init__(AccountKind.DEMO, DemoFuturesMarks(market))
        self.mark_reads = self.account_reads = 0

    def fetch_marks(self):
        self.mark_reads += 1
        return super().fetch_marks()

    def fetch_account(self):
        self.account_reads += 1
        return super().fetch_account()


def _market(clock) -> DemoMarket:
    return DemoMarket(("BTC/USD", "ETH/USD"), seed=7, clock=clock)


def _twin_btc(steps: int) -> Decimal:
    """The demo market's BTC price after `steps` simulated seconds, from an independent market of the same seed."""
    twin = _market(lambda: 0.0)
    twin.advance(steps)
    return twin.last_prices()["BTC/USD"]


def _until(poller, predicate, timeout=15.0) -> FuturesBook:
    end, seen = time.monotonic() + timeout, []
    while time.monotonic() < end:
        try:
            item = poller.results.get(timeout=0.1)
        except queue.Empty:
            continue
        if isinstance(item, FuturesBook):
            seen.append(item)
            if not item.stale and predicate(item):
                return item
    raise AssertionError(f"no such book; last: {seen[-1:]}")


def _row(book, pair):
    return next(pf for pf in book.positions if pf.position.pair == pair)


def test_the_demo_stream_pushes_marks_only_when_the_market_steps():
    clock = Clock()
    marks = DemoFuturesMarks(_market(clock))
    stream = DemoFuturesStream(marks, check_every_s=0.01)

    async def run():
        first = await stream.marks([BTC, ETH])
        with pytest.raises(asyncio.TimeoutError):  # the clock did not move: the market cannot step, nothing pushed
            await asyncio.wait_for(stream.marks([BTC]), 0.2)
        clock.t += 1.0
        return first, await asyncio.wait_for(stream.marks([BTC]), 5)

    first, second = asyncio.run(run())
    assert first == {BTC: _twin_btc(0), ETH: first[ETH]} and set(first) == {BTC, ETH}
    assert second == {BTC: _twin_btc(1)} and second[BTC] != first[BTC]  # one simulated second later
    assert marks.market.simulated_seconds == 1


def test_demo_with_stream_gets_the_demo_feed_and_poll_or_live_do_not():
    paper = PaperFuturesExchange.demo(_market(Clock()))
    feed = futures_feed_for(STREAM, 1.0, paper)
    assert feed is not None and feed.demo and not feed.store.private  # marks only: the paper venue is the account
    assert futures_feed_for(MonitorConfig(mode="demo", prices="poll"), 1.0, paper) is None
    assert futures_feed_for(STREAM, 1.0) is None  # no venue given (snapshot): polled alone, as before
    assert demo_futures_stream_opener(MonitorConfig(mode="paper", prices="stream"), paper) is None
    paper_venue = PaperFuturesExchange(AccountKind.DEMO, lambda: {})  # a venue without the embedded market
    assert demo_futures_stream_opener(STREAM, paper_venue) is None


def _twin_prices(steps: int) -> dict[str, Decimal]:
    twin = _market(lambda: 0.0)
    twin.advance(steps)
    return twin.last_prices()


def test_a_pushed_demo_step_is_read_through_the_paper_venue_once_so_equity_moves_with_the_marks():
    """The demo venue is in-process and is the account: a push makes one read of it, so the account's equity,
    the rows' marks and the triggers are of the same market step, and the step gives one book, not two (a
    pushed one on the last read's equity, then the read: issue 17.7). With a 60 s interval every read here is
    a push's."""
    clock = Clock()
    paper = CountingPaper(_market(clock))
    feed = futures_feed_for(STREAM, 60.0, paper)
    poller = FuturesPoller(STREAM, 60.0, factory=lambda: paper, feed=feed).start()
    try:
        first = _until(poller, lambda b: b.feed == "futures: streaming (demo market)")
        # the first read, and the read for the first push unless that push came during the first read
        reads = paper.mark_reads
        assert reads in (1, 2) and paper.account_reads == reads
        assert _row(first, BTC).mark_price == _twin_btc(0)
        clock.t += 1.0  # the market steps once: the stream pushes, the poller reads the venue for it
        book = _until(poller, lambda b: _row(b, BTC).mark_price == _twin_btc(1))
        assert (paper.mark_reads, paper.account_reads) == (reads + 1, reads + 1)
        step0, step1 = _twin_prices(0), _twin_prices(1)
        # demo book: BTC long 0.1, ETH short 2; equity = collateral + P&L + funding, so one step moves it by
        # 0.1 x (BTC1 - BTC0) - 2 x (ETH1 - ETH0): the equity is of the pushed step, not of the read before
        moved = D("0.1") * (step1["BTC/USD"] - step0["BTC/USD"]) - 2 * (step1["ETH/USD"] - step0["ETH/USD"])
        assert moved != 0
        assert book.account.flex.margin_equity - first.account.flex.margin_equity == moved
        assert _row(book, ETH).mark_price == step1["ETH/USD"]
        assert book.feed == "futures: streaming (demo market)"
        assert futures_feed_label(book.feed) == "futures: streaming (demo market)"  # the bar says which source
        time.sleep(0.6)  # no step: nothing pushed, so nothing read (the interval is 60 s) and no second book
        assert (paper.mark_reads, paper.account_reads) == (reads + 1, reads + 1)
        assert all(not isinstance(item, FuturesBook) for item in _drain(poller))
    finally:
        poller.stop()
    assert "kraken-monitor-futures-stream" not in {t.name for t in threading.enumerate()}


def _drain(poller) -> list:
    items = []
    while not poller.results.empty():
        items.append(poller.results.get_nowait())
    return items


class FallsSilent(DemoFuturesStream):
    """The demo source, until the test silences it: then neither marks nor heartbeats (a stuck feed)."""

    silent = threading.Event()

    async def marks(self, pairs):
        while self.silent.is_set():
            await asyncio.sleep(0.02)
        return await super().marks(pairs)

    async def heartbeat(self):
        while self.silent.is_set():
            await asyncio.sleep(0.02)
        await super().heartbeat()


def test_a_silent_demo_feed_goes_stale_and_the_paper_venue_is_polled_again():
    clock = Clock()
    paper = CountingPaper(_market(clock))
    FallsSilent.silent.clear()
    feed = FuturesFeed(lambda: FallsSilent(paper.demo_marks), False, 0.5, silence_s=0.5, demo=True,
                       backoff=Backoff(0.05, 0.2))
    poller = FuturesPoller(STREAM, 0.5, factory=lambda: paper, feed=feed).start()
    try:
        _until(poller, lambda b: b.feed == "futures: streaming (demo market)")
        FallsSilent.silent.set()  # nothing for 0.5 s: the watchdog ends the session
        book = _until(poller, lambda b: "no data for" in b.feed)
        assert book.feed.startswith("futures: polling every 0.5 s (stream down: no data for")
        assert futures_feed_label(book.feed) == "futures: polling every 0.5 s"
        reads = paper.mark_reads
        clock.t += 3.0  # the market steps 3 s; only the paper venue's own reads can show it now
        book = _until(poller, lambda b: _row(b, BTC).mark_price == _twin_btc(3))
        assert paper.mark_reads > reads and book.feed.startswith("futures: polling")
        FallsSilent.silent.clear()  # the feed answers again: the next session is live
        _until(poller, lambda b: b.feed == "futures: streaming (demo market)")
    finally:
        FallsSilent.silent.clear()
        poller.stop()


def test_a_stopped_demo_feed_says_the_futures_are_polled():
    clock = Clock()
    paper = CountingPaper(_market(clock))
    feed = futures_feed_for(STREAM, 0.5, paper)
    poller = FuturesPoller(STREAM, 0.5, factory=lambda: paper, feed=feed).start()
    try:
        _until(poller, lambda b: b.feed == "futures: streaming (demo market)")
        assert feed.stop()
        book = _until(poller, lambda b: b.feed.startswith("futures: polling"))
        assert book.feed == "futures: polling every 0.5 s (stream stopped)"
    finally:
        poller.stop()


def test_the_real_demo_poller_streams_with_stream_and_not_with_poll():
    streaming = FuturesPoller(STREAM, 60.0).start()  # the real factory: its own seeded demo market
    try:
        assert _until(streaming, lambda b: b.feed.startswith("futures: streaming")).feed == (
            "futures: streaming (demo market)")
    finally:
        streaming.stop()
    polled = FuturesPoller(MonitorConfig(mode="demo", prices="poll"), 60.0).start()
    try:
        assert _until(polled, lambda b: True).feed == ""  # no feed: nothing says streaming
    finally:
        polled.stop()


def test_the_futures_bar_names_the_demo_market_and_the_polling_fallback(qtbot):
    from kraken_monitor.ui.futures_account_bar import FuturesAccountBar

    clock = Clock()
    paper = CountingPaper(_market(clock))
    feed = futures_feed_for(STREAM, 0.5, paper)
    poller = FuturesPoller(STREAM, 0.5, factory=lambda: paper, feed=feed).start()
    bar = FuturesAccountBar(AccountKind.DEMO)
    qtbot.addWidget(bar)
    try:
        bar.set_book(_until(poller, lambda b: b.feed.startswith("futures: streaming")))
        assert bar.feed_label.text() == "futures: streaming (demo market)"
        assert bar.feed_label.toolTip() == "futures: streaming (demo market)"
        feed.stop()
        bar.set_book(_until(poller, lambda b: b.feed.startswith("futures: polling")))
        assert bar.feed_label.text() == "futures: polling every 0.5 s"  # the why in the tooltip
        assert bar.feed_label.toolTip() == "futures: polling every 0.5 s (stream stopped)"
    finally:
        poller.stop()


def test_the_demo_futures_stream_sleeps_until_the_next_market_step():
    """Each look quotes the market: between steps (speed 1: one a second) the stream waits for the step instead
    of looking every 50 ms (~0.75 % of a core idle, issue 17.7)."""
    clock = Clock()
    market = _market(clock)
    stream = DemoFuturesStream(DemoFuturesMarks(market))
    asyncio.run(stream.marks([BTC]))  # the first push: the market as it stands
    clock.t += 0.25
    # the step at 1001.0 is 0.75 s away; the look waits for it (+5 ms margin), never less than 50 ms
    assert stream.next_look_s() == pytest.approx(0.755, abs=1e-6)
    clock.t += 0.75
    assert stream.next_look_s() == pytest.approx(0.05)  # due now: the floor
