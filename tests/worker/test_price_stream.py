"""The price-stream thread against the Kraken WS v2 test server: arrival stamps, silence, drops, resubscribes, stop."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from kraken_monitor.exchange.kraken_stream import KrakenStream
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.testing.ws_server import KrakenWsTestServer
from kraken_monitor.worker.backoff import Backoff
from kraken_monitor.worker.price_stream import PriceStreamThread

WAIT_S = 10.0


class Collected:
    def __init__(self):
        self.lock = threading.Lock()
        self.ticks: list[tuple[str, Decimal, float]] = []
        self.states = []

    def on_ticks(self, tickers, arrived):
        with self.lock:
            self.ticks += [(t.pair, t.last, arrived) for t in tickers]

    def on_state(self, state):
        with self.lock:
            self.states.append(state)

    def last_state(self):
        with self.lock:
            return self.states[-1] if self.states else None


def wait_until(predicate, timeout=WAIT_S):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def servers():
    with KrakenTestServer() as rest, KrakenWsTestServer(rest.ws_token_valid, heartbeat_s=0.2) as ws:
        ws.set_ticker("BTC/USD", 50000)
        ws.set_ticker("ETH/USD", 3000)
        yield rest, ws


@pytest.fixture
def stream(servers):
    rest, ws = servers
    got = Collected()
    thread = PriceStreamThread(lambda: KrakenStream(rest.url, ws.url, timeout_s=3), ["BTC/USD", "ETH/USD"],
                               got.on_ticks, got.on_state, silence_s=0.8, backoff=Backoff(0.1, 0.3))
    thread.start()
    yield thread, got
    assert thread.stop()
    assert "kraken-monitor-stream" not in {t.name for t in threading.enumerate()}


def test_ticks_arrive_stamped_on_the_monotonic_clock_and_the_feed_goes_live(servers, stream):
    _rest, ws = servers
    thread, got = stream
    wait_until(lambda: got.last_state() is not None and got.last_state().live)
    before = time.monotonic()
    ws.push_ticker("ETH/USD", Decimal("3001.5"))
    wait_until(lambda: any(p == "ETH/USD" and last == Decimal("3001.5") for p, last, _ in got.ticks))
    after = time.monotonic()
    stamp = next(at for p, last, at in got.ticks if last == Decimal("3001.5"))
    assert before <= stamp <= after  # stamped on arrival: ccxt's ticker timestamp is None
    assert [s.detail for s in got.states[:2]] == ["connecting", "live"]


def test_silent_socket_is_torn_down_and_resubscribed(servers, stream):
    _rest, ws = servers
    thread, got = stream
    wait_until(lambda: got.last_state() is not None and got.last_state().live)
    ws.silence()
    # No tick, no heartbeat for silence_s (0.8 s): not live, with the reason, although the socket was open.
    wait_until(lambda: not got.last_state().live)
    assert any("no data for" in s.detail for s in got.states)
    ws.silence(False)
    wait_until(lambda: got.last_state().live and thread.sessions >= 2)
    subscribes = [m for m in ws.received if m.get("method") == "subscribe"]
    assert len(subscribes) >= 2 and all(m["params"]["symbol"] == ["BTC/USD", "ETH/USD"] for m in subscribes)


def test_dropped_connection_reconnects_with_backoff_and_resubscribes(servers, stream):
    _rest, ws = servers
    thread, got = stream
    wait_until(lambda: got.last_state() is not None and got.last_state().live)
    ws.drop_connections()
    wait_until(lambda: any(s.detail.startswith("down:") and "retry in" in s.detail for s in got.states))
    wait_until(lambda: got.last_state().live and ws.connections_made >= 2)
    ws.push_ticker("BTC/USD", Decimal("50500"))
    wait_until(lambda: any(last == Decimal("50500") for _p, last, _ in got.ticks))


def test_new_pairs_end_the_session_and_the_next_subscribes_to_them(servers, stream):
    _rest, ws = servers
    thread, got = stream
    wait_until(lambda: got.last_state() is not None and got.last_state().live)
    ws.set_ticker("SOL/USD", 150)
    thread.set_pairs(["BTC/USD", "SOL/USD"])
    wait_until(lambda: any(p == "SOL/USD" for p, _l, _a in got.ticks))
    assert [m["params"]["symbol"] for m in ws.received if m.get("method") == "subscribe"][-1] == ["BTC/USD", "SOL/USD"]


def test_a_source_that_cannot_start_reports_down_and_keeps_retrying():
    got = Collected()
    attempts = []

    def broken():
        attempts.append(1)
        raise OSError("no route to host")

    thread = PriceStreamThread(broken, ["BTC/USD"], got.on_ticks, got.on_state, backoff=Backoff(0.05, 0.1))
    thread.start()
    try:
        wait_until(lambda: len(attempts) >= 3)
    finally:
        assert thread.stop()
    assert not any(s.live for s in got.states)  # never live without data: fail closed
    assert any("no route to host" in s.detail for s in got.states)


def test_the_watchdog_sleeps_until_the_silence_limit_instead_of_looking_ten_times_a_second():
    """A connected session that delivers nothing ends at the silence limit, found by one look at that moment:
    the watchdog used to read the clock every 0.1 s in each stream thread, idle (issue 17.7)."""
    import asyncio

    looks = []

    def clock():
        looks.append(time.monotonic())
        return looks[-1]

    class Mute:  # connected and subscribed, but never a tick or a heartbeat
        private = False

        async def tickers(self, pairs):
            await asyncio.Event().wait()

        async def heartbeat(self):
            await asyncio.Event().wait()

        async def close(self):
            return None

    got = Collected()
    thread = PriceStreamThread(Mute, ["BTC/USD"], got.on_ticks, got.on_state, silence_s=1.0,
                               backoff=Backoff(5.0, 5.0), monotonic=clock)
    thread.start()
    try:
        wait_until(lambda: got.last_state() is not None and "no data for" in got.last_state().detail)
    finally:
        assert thread.stop()
    assert got.last_state().detail == "stopped"
    silent = next(s for s in got.states if "no data for" in s.detail)
    assert silent.detail.startswith("down: no data for 1.0 s")
    # the session's start, the watchdog's first look, its look just past the limit, the backoff's failure time
    assert len(looks) <= 4, len(looks)
    assert looks[-1] - looks[0] >= 1.0  # not before the limit
