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


def test_pushed_price_reaches_the_snapshot_and_rest_is_not_polled_meanwhile(servers, tmp_path, qtbot):
    rest, ws = servers
    monitor, sink = _monitor(rest, ws, tmp_path)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: bool(sink.feeds) and sink.feeds[-1] == "prices: streaming (WebSocket)", timeout=15_000)
        polls = len(rest.requests_to("Ticker"))
        ws.push_ticker("BTC/USD", Decimal("51234.5"))
        qtbot.waitUntil(lambda: bool(sink.snapshots)
                        and sink.snapshots[-1].tickers.get("BTC/USD") is not None
                        and sink.snapshots[-1].tickers["BTC/USD"].last == Decimal("51234.5"), timeout=5_000)
        assert len(rest.requests_to("Ticker")) == polls  # the price came by push, not by a Ticker poll
    finally:
        assert monitor.stop(timeout_ms=10_000)
    assert "kraken-monitor-stream" not in {t.name for t in threading.enumerate()}


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
