"""StreamingPollWorker in its QThread: pushed prices reach snapshots without REST polls; silence falls back; fails closed."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from PySide6.QtCore import QObject, Slot

from kraken_monitor.config import MonitorConfig
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.testing.ws_server import KrakenWsTestServer
from kraken_monitor.worker.runner import MonitorThread
from kraken_monitor.worker.stream_worker import EVENT_REFRESH_GAP_S, StreamingPollWorker


class Sink(QObject):
    def __init__(self):
        super().__init__()
        self.snapshots, self.feeds = [], []

    @Slot(object)
    def on_snapshot(self, snap):
        self.snapshots.append(snap)

    @Slot(str)
    def on_feed(self, text):
        self.feeds.append(text)


@pytest.fixture
def servers():
    with KrakenTestServer() as rest, KrakenWsTestServer(rest.ws_token_valid, heartbeat_s=0.2) as ws:
        rest.set_prices({"BTC/USD": Decimal("50000")})
        ws.set_ticker("BTC/USD", 50000)
        yield rest, ws


def _monitor(rest, ws, tmp_path):
    config = MonitorConfig(mode="paper", api_url=rest.url, ws_url=ws.url, prices="stream",
                           db_path=tmp_path / "j.sqlite3", price_interval_s=0.5, account_interval_s=0.5,
                           watch_pairs=("BTC/USD",), backoff_cap_s=0.5)
    monitor = MonitorThread(config)
    assert isinstance(monitor.worker, StreamingPollWorker)
    sink = Sink()
    monitor.worker.snapshot_ready.connect(sink.on_snapshot)
    monitor.worker.price_feed_changed.connect(sink.on_feed)
    return monitor, sink


# The paper book's pairs (positions plus the EUR/USD conversion): what the worker subscribes and would poll.
PAPER_PAIRS = {"BTC/USD": 50000, "ETH/USD": 2900, "ETH/BTC": "0.0333", "SOL/USD": 140, "ETH/EUR": 2690,
               "XRP/USD": "2.3", "EUR/USD": "1.08"}


class Pusher:
    """Pushes every paper pair 10 times a second, as a busy market does: no pair is ever quiet."""

    def __init__(self, ws, calm: str | None = None):  # `calm`: a pair never pushed
        self.ws, self._stop = ws, threading.Event()
        self.prices = {pair: price for pair, price in PAPER_PAIRS.items() if pair != calm}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.1):
            for pair, price in list(self.prices.items()):
                self.ws.push_ticker(pair, Decimal(str(price)))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(2)


def _wait_streaming(sink, qtbot) -> None:
    qtbot.waitUntil(lambda: bool(sink.feeds) and sink.feeds[-1] == "prices: streaming (WebSocket)", timeout=15_000)


def _ticker_polls_for(rest, pair_id: str) -> int:
    return sum(pair_id in params.get("pair", "").split(",") for params in rest.requests_to("Ticker"))


def test_pushed_price_reaches_the_snapshot_and_rest_is_not_polled_meanwhile(servers, tmp_path, qtbot):
    rest, ws = servers
    monitor, sink = _monitor(rest, ws, tmp_path)
    monitor.start()
    try:
        with Pusher(ws) as pusher:
            _wait_streaming(sink, qtbot)
            qtbot.wait(1500)  # a quiet-pair read asked before the first pushes has come back
            polls = len(rest.requests_to("Ticker"))
            pusher.prices["BTC/USD"] = "51234.5"
            qtbot.waitUntil(lambda: bool(sink.snapshots)
                            and sink.snapshots[-1].tickers.get("BTC/USD") is not None
                            and sink.snapshots[-1].tickers["BTC/USD"].last == Decimal("51234.5"), timeout=5_000)
            qtbot.wait(1000)  # two price intervals with every pair pushed: no pair is quiet, nothing to read
            assert len(rest.requests_to("Ticker")) == polls  # the price came by push, not by a Ticker poll
    finally:
        assert monitor.stop(timeout_ms=10_000)
    assert "kraken-monitor-stream" not in {t.name for t in threading.enumerate()}


def test_a_quiet_pair_on_a_live_socket_is_read_by_rest_and_stays_fresh(servers, tmp_path, qtbot):
    # Kraken's bbo ticker pushes only on a change: a calm pair sends nothing while the socket heartbeats.
    # Without a REST read of that pair, its price would age past the 1.5 s window and the whole account
    # would read "risk unknown" on a perfectly live feed.
    rest, ws = servers
    monitor, sink = _monitor(rest, ws, tmp_path)
    monitor.start()
    try:
        with Pusher(ws, calm="SOL/USD"):  # SOL/USD: subscribed, never pushed
            _wait_streaming(sink, qtbot)
            qtbot.wait(1500)  # reads asked before the pushes began have come back
            sol_before, btc_before = _ticker_polls_for(rest, "SOLUSD"), _ticker_polls_for(rest, "XXBTZUSD")
            qtbot.wait(3000)  # two stale windows
            sol_reads = _ticker_polls_for(rest, "SOLUSD") - sol_before
            # 0.75 s without a push (1.5 intervals), read on the 0.5 s timer: about every 1 s; never more
            # often than polling (every 0.5 s: 6 in 3 s), at least once per stale window.
            assert 2 <= sol_reads <= 6
            assert _ticker_polls_for(rest, "XXBTZUSD") == btc_before  # a pushed pair is never polled
            last = sink.snapshots[-1]
            assert not last.stale, last.stale_reason
            assert sink.feeds[-1] == "prices: streaming (WebSocket)"
    finally:
        assert monitor.stop(timeout_ms=10_000)


def test_a_quiet_pair_goes_stale_when_rest_cannot_price_it_either(servers, tmp_path, qtbot):
    rest, ws = servers
    monitor, sink = _monitor(rest, ws, tmp_path)
    monitor.start()
    try:
        with Pusher(ws, calm="SOL/USD"):
            _wait_streaming(sink, qtbot)
            rest.inject_fault("Ticker", "http500", count=None)
            # The socket stays live (other pairs push): SOL/USD alone has no fresh price -> risk unknown.
            qtbot.waitUntil(lambda: bool(sink.snapshots) and sink.snapshots[-1].stale, timeout=10_000)
            assert "no fresh price for SOL/USD" in sink.snapshots[-1].stale_reason
            assert sink.feeds[-1] == "prices: streaming (WebSocket)"
    finally:
        assert monitor.stop(timeout_ms=10_000)


def test_silent_socket_falls_back_to_polling_and_goes_stale_when_rest_fails_too(servers, tmp_path, qtbot):
    rest, ws = servers
    monitor, sink = _monitor(rest, ws, tmp_path)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: bool(sink.feeds) and "streaming" in sink.feeds[-1], timeout=15_000)
        rest.inject_fault("Ticker", "http500", count=None)  # the fallback fails too: nothing may look fresh
        ws.silence()
        qtbot.waitUntil(lambda: "polling" in sink.feeds[-1] and "no data for" in sink.feeds[-1], timeout=10_000)
        # Stale window 1.5 s (3 x 0.5 s) after the last pushed tick: risk unknown, with the pair's age as reason.
        qtbot.waitUntil(lambda: bool(sink.snapshots) and sink.snapshots[-1].stale, timeout=10_000)
        assert "prices are" in sink.snapshots[-1].stale_reason or "BTC/USD" in sink.snapshots[-1].stale_reason
    finally:
        assert monitor.stop(timeout_ms=10_000)


def test_a_private_fill_in_live_mode_reads_the_account_at_once(servers, tmp_path, qtbot, monkeypatch):
    # Live: the account is polled every 30 s on its own schedule, so without the private channel a fill made on
    # Kraken's own screen would show here up to 30 s late. An `executions` push must trigger one account read now.
    rest, ws = servers
    monkeypatch.setenv("KRAKEN_API_KEY", rest.api_key)
    monkeypatch.setenv("KRAKEN_API_SECRET", rest.api_secret)
    config = MonitorConfig(mode="live", api_url=rest.url, ws_url=ws.url, prices="stream",
                           db_path=tmp_path / "j.sqlite3", price_interval_s=1.0, account_interval_s=30.0,
                           watch_pairs=("BTC/USD",), backoff_cap_s=0.5)
    monitor = MonitorThread(config)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: ws.subscribed("executions") == {"yes"}, timeout=15_000)
        qtbot.waitUntil(lambda: len(rest.requests_to("TradeBalance")) >= 1, timeout=10_000)  # the start-up read
        # A (re)subscription's balances snapshot also asks for one read (at most one per EVENT_REFRESH_GAP_S):
        # let it pass, so the read counted below can only come from the fill.
        qtbot.wait(int(EVENT_REFRESH_GAP_S * 1000) + 1000)
        before = len(rest.requests_to("TradeBalance"))
        ws.push_execution("BTC/USD")
        qtbot.waitUntil(lambda: len(rest.requests_to("TradeBalance")) > before, timeout=5_000)  # not 30 s later
        assert monitor.worker.account_events >= 1
    finally:
        assert monitor.stop(timeout_ms=10_000)


def test_the_price_timer_adds_no_snapshot_while_the_pushed_one_is_current_but_fails_closed(tmp_path, qtbot):
    # Demo pushes once a second and the price timer ticks once a second: without the check every pushed
    # figure was published twice (the GUI's idle work doubled). The timer snapshot may be left out only
    # while the pushed one went out within the interval AND no age crossed its stale window since.
    import time

    from kraken_monitor.worker.price_stream import StreamState

    config = MonitorConfig(mode="demo", prices="stream", db_path=tmp_path / "j.sqlite3", price_interval_s=1.0,
                           account_interval_s=3.0)
    worker = StreamingPollWorker(config, stream_opener=lambda _config, _exchange: None)  # no stream thread:
    snaps = []  # the test drives the pushes itself, in this thread
    worker.snapshot_ready.connect(snaps.append)
    worker.start()
    try:
        assert snaps and not snaps[-1].stale
        worker.stream_state = StreamState(True, "live")
        tickers = list(worker.poller.tickers.values())
        worker._on_stream_ticks(tickers, time.monotonic())
        worker._publish_pushed()
        pushed = len(snaps)
        assert worker.poller.needed_pairs()  # the demo portfolio's pairs: their ages are judged
        worker._on_price_tick()
        assert len(snaps) == pushed  # the pushed snapshot (just now) still says it all

        # The account read (3 s window x 3 = 9 s) turns stale a hair after the pushed publish: the verdict
        # changed since, so the timer publishes at once, stale, with the reason.
        fresh = worker.poller.freshness
        fresh.account_mono = worker._last_push_publish - config.account_stale_after_s() + 1e-6
        worker._on_price_tick()
        assert len(snaps) == pushed + 1
        assert snaps[-1].stale and "account data is" in snaps[-1].stale_reason

        # Pushes stopped (a socket that only heartbeats): from the first tick after the interval, timer snapshots.
        fresh.account_mono = time.monotonic()
        worker._last_push_publish = time.monotonic() - config.price_interval_s
        worker._on_price_tick()
        assert len(snaps) == pushed + 2
    finally:
        worker.stop()


def test_an_account_read_that_brought_nothing_new_adds_no_snapshot_while_the_pushed_one_is_current(tmp_path, qtbot):
    # Demo's account timer (3 s) read the unchanged paper account and published the same figures between two
    # pushes: a third more snapshots idle (issue 17.7). A read that changed anything is published at once.
    import time

    from kraken_monitor.worker.price_stream import StreamState

    config = MonitorConfig(mode="demo", prices="stream", db_path=tmp_path / "j.sqlite3", price_interval_s=1.0,
                           account_interval_s=3.0)
    worker = StreamingPollWorker(config, stream_opener=lambda _config, _exchange: None)  # the test pushes
    snaps = []
    worker.snapshot_ready.connect(snaps.append)
    worker.start()
    try:
        worker.stream_state = StreamState(True, "live")
        worker._on_stream_ticks(list(worker.poller.tickers.values()), time.monotonic())
        worker._publish_pushed()
        pushed, balance = len(snaps), snaps[-1].account.trade_balance
        read_before = worker.poller.freshness.account_mono
        worker._on_account_tick()
        assert worker.poller.freshness.account_mono > read_before  # it read the account...
        assert len(snaps) == pushed  # ...which said nothing new: no snapshot of its own

        worker.poller.exchange.add_collateral(Decimal(100))  # the account moved: published at once
        worker._on_account_tick()
        assert len(snaps) == pushed + 1
        assert snaps[-1].account.trade_balance - balance == Decimal(100)

        # Pushes stopped: an account read is published again (the timer's rule), changed or not.
        worker._last_push_publish = time.monotonic() - config.price_interval_s
        worker._on_account_tick()
        assert len(snaps) == pushed + 2
    finally:
        worker.stop()
