"""Kraken Futures WS v1 through ccxt.pro over a real socket to the test server: challenge auth, Kraken's
liquidation thresholds reaching the book as source "exchange", 0 keeping the estimate, pushed marks between
REST reads, a silent socket falling back to REST, a dropped one reconnecting and resubscribing."""

import asyncio
import base64
import hashlib
import hmac
import queue
import threading
import time
from decimal import Decimal

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures import FuturesBook, FuturesPosition
from kraken_monitor.domain.models import MarginMode, Side
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import AuthFailed, BadResponse
from kraken_monitor.exchange.kraken_futures import KrakenFuturesExchange
from kraken_monitor.exchange.kraken_futures_stream import (
    KrakenFuturesStream,
    PushedPosition,
    futures_stream_opener,
)
from kraken_monitor.testing.futures_server import FuturesTestServer
from kraken_monitor.testing.futures_ws_server import FuturesWsTestServer, sign_challenge
from kraken_monitor.worker.backoff import Backoff
from kraken_monitor.worker.cycle import utc_now
from kraken_monitor.worker.futures_live import FuturesFeed, FuturesPushStore
from kraken_monitor.worker.futures_snapshot import read_futures_book
from kraken_monitor.worker.futures_watch import FuturesPoller
from kraken_monitor.worker.price_stream import StreamState

D = Decimal
BTC, ETH = "BTC/USD:USD", "ETH/USD:USD"


def test_signed_challenge_matches_krakens_documented_vector():
    # docs.kraken.com/exchange/guides/futures/websockets "Sign challenge" example (challenge, secret, output).
    assert sign_challenge(
        "c100b894-1729-464d-ace1-52dbce11db42",
        "7zxMEF5p/Z8l2p2U7Ghv6x14Af+Fx+92tPgUdVQ748FOIrEoT9bgT+bTRfXc5pz8na+hL/QdrCVG7bh9KpT0eMTm",
    ) == "4JEpF3ix66GA2B+ooK128Ift4XQVtc137N9yeg4Kqsn9PI0Kpzbysl9M1IeCEdjg0zl00wkVqcsnG4bmnlMb3A=="


@pytest.fixture
def servers():
    with FuturesTestServer() as rest:
        rest.futures.add_position("PF_XBTUSD", "long", D("0.5"), D(58000))  # cross
        rest.futures.add_position("PF_ETHUSD", "short", D(2), D(3100), leverage=D("2.5"))  # isolated
        with FuturesWsTestServer(rest.futures, {rest.api_key: rest.api_secret}, heartbeat_s=0.1) as ws:
            ws.set_liquidation_threshold("PF_XBTUSD", D("38123.5"))
            # PF_ETHUSD keeps 0: Kraken's "not available"
            yield rest, ws


def _run(coro, timeout=10):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_ccxt_signs_the_challenge_as_kraken_specifies_and_reads_the_raw_threshold(servers):
    rest, ws = servers

    async def read():
        stream = KrakenFuturesStream(rest.url, ws.url, Credentials(rest.api_key, rest.api_secret), timeout_s=3)
        try:
            return await stream.positions(), await stream.flex()
        finally:
            await stream.close()

    rows, flex = _run(read())
    sub = next(m for m in ws.received if m.get("feed") == "open_positions")
    # Independently of the server's helper: SHA-256 of the challenge, HMAC-SHA512 keyed by the decoded secret.
    digest = hashlib.sha256(sub["original_challenge"].encode()).digest()
    expected = base64.b64encode(hmac.new(base64.b64decode(rest.api_secret), digest, hashlib.sha512).digest()).decode()
    assert sub["signed_challenge"] == expected and sub["api_key"] == rest.api_key
    by_pair = {r.pair: r for r in rows}
    assert by_pair[BTC] == PushedPosition(BTC, Side.LONG, D("0.5"), D("38123.5"), D(60000), D(600), D(300))
    # The isolated short: 2 x 3100 / 2.5 = 2480 allocated; maintenance 2 x 3000 x 1 % = 60.
    assert by_pair[ETH].side is Side.SHORT and by_pair[ETH].liquidation_threshold == 0
    assert (by_pair[ETH].initial_margin, by_pair[ETH].maintenance_margin) == (D(2480), D(60))
    # Flex: collateral 10000 + P&L 0.5 x (60000 - 58000) + 2 x (3100 - 3000) = 11200.
    assert flex["margin_equity"] == D(11200)


def test_a_wrong_secret_is_refused_by_the_challenge_check_and_surfaces_typed(servers):
    rest, ws = servers
    wrong = base64.b64encode(b"not the secret" * 4).decode()

    async def read():
        stream = KrakenFuturesStream(rest.url, ws.url, Credentials(rest.api_key, wrong), timeout_s=3)
        try:
            return await stream.positions()
        finally:
            await stream.close()

    with pytest.raises(AuthFailed, match="challenge"):
        _run(read())
    assert ws.subscribed("open_positions") == set()


def test_plain_ws_to_another_machine_is_refused_before_any_connection():
    config = MonitorConfig(mode="paper", prices="stream", futures_ws_url="ws://192.0.2.1/ws/v1")
    with pytest.raises(BadResponse, match="plain ws"):
        futures_stream_opener(config)
    assert futures_stream_opener(MonitorConfig(mode="paper", prices="poll")) is None
    # REST to a test server or proxy, no futures WS URL: never Kraken's own socket (another account's thresholds)
    assert futures_stream_opener(MonitorConfig(mode="paper", prices="stream", api_url="http://127.0.0.1:1")) is None
    opener, private = futures_stream_opener(MonitorConfig(mode="paper", prices="stream", api_url="http://127.0.0.1:1",
                                                           futures_ws_url="ws://127.0.0.1:2/ws/v1"))
    assert callable(opener) and private is False  # paper: public marks only


def _poller(rest, ws, interval_s=30.0, silence_s=0.6, secret=None):
    creds = Credentials(rest.api_key, secret or rest.api_secret)
    feed = FuturesFeed(lambda: KrakenFuturesStream(rest.url, ws.url, creds, timeout_s=3), True, interval_s,
                       silence_s=silence_s, backoff=Backoff(0.05, 0.2))
    config = MonitorConfig(mode="live")
    rest_creds = Credentials(rest.api_key, rest.api_secret)
    poller = FuturesPoller(config, interval_s, factory=lambda: KrakenFuturesExchange(rest.url, rest_creds), feed=feed)
    return poller.start(), feed


def _until(poller, predicate, timeout=15.0) -> FuturesBook:
    end = time.monotonic() + timeout
    seen = []
    while time.monotonic() < end:
        try:
            item = poller.results.get(timeout=0.2)
        except queue.Empty:
            continue
        if isinstance(item, FuturesBook):
            seen.append(item)
            if not item.stale and predicate(item):
                return item
    raise AssertionError(f"no such book; last: {seen[-1:]}")


def _row(book, pair):
    return next(pf for pf in book.positions if pf.position.pair == pair)


def test_krakens_threshold_becomes_the_liquidation_price_and_zero_keeps_the_estimate(servers):
    rest, ws = servers
    creds = Credentials(rest.api_key, rest.api_secret)
    rest_only = read_futures_book(KrakenFuturesExchange(rest.url, creds), MonitorConfig().thresholds, utc_now())
    assert _row(rest_only, BTC).liquidation_price_source == "estimate"
    poller, _feed = _poller(rest, ws)
    try:
        book = _until(poller, lambda b: _row(b, BTC).liquidation_price_source == "exchange")
        assert _row(book, BTC).liquidation_price == D("38123.5")
        # distance = (60000 - 38123.5) / 60000 x 100 = 36.46083... %
        assert _row(book, BTC).distance_to_liquidation_pct.quantize(D("0.0001")) == D("36.4608")
        eth = _row(book, ETH)
        assert eth.liquidation_price_source == "estimate"  # Kraken said 0: not available
        assert eth.liquidation_price == _row(rest_only, ETH).liquidation_price is not None
        assert book.feed.startswith("futures: streaming")
    finally:
        poller.stop()


def test_pushed_marks_update_the_rows_between_rest_reads(servers):
    rest, ws = servers
    poller, _feed = _poller(rest, ws, interval_s=60.0)  # one REST read in this test
    try:
        _until(poller, lambda b: _row(b, BTC).liquidation_price_source == "exchange")
        reads = len(rest.requests_to("GET openpositions"))
        rest.futures.set_mark("PF_XBTUSD", D(61000))
        ws.push_ticker("PF_XBTUSD")
        book = _until(poller, lambda b: _row(b, BTC).mark_price == D(61000))
        # 0.5 x (61000 - 58000) = 1500, from the pushed mark and REST's entry
        assert _row(book, BTC).unrealized_pnl == D(1500)
        ws.push_balances()  # Kraken's margin equity, pushed: 10000 + 0.5 x (61000 - 58000) + 2 x (3100 - 3000)
        book = _until(poller, lambda b: b.account.flex.margin_equity == D(11700))
        # margin level = 11700 / maintenance (0.5 x 61000 x 1 % + 2 x 3000 x 1 % = 365) x 100 = 3205.479... %
        assert book.account.margin_level.quantize(D("0.001")) == D("3205.479")
        assert len(rest.requests_to("GET openpositions")) == reads  # no REST read made it
    finally:
        poller.stop()


def test_a_silent_socket_falls_back_to_the_estimate_and_a_drop_reconnects_and_resubscribes(servers):
    rest, ws = servers
    poller, _feed = _poller(rest, ws)
    try:
        _until(poller, lambda b: _row(b, BTC).liquidation_price_source == "exchange")
        ws.silence()  # open, answering pings, sending nothing: the watchdog ends the session after 0.6 s
        book = _until(poller, lambda b: _row(b, BTC).liquidation_price_source == "estimate")
        assert book.feed.startswith("futures: polling")
        ws.silence(False)
        _until(poller, lambda b: _row(b, BTC).liquidation_price_source == "exchange")
        made = ws.connections_made
        ws.drop_connections()
        _until(poller, lambda b: _row(b, BTC).liquidation_price_source == "estimate")
        book = _until(poller, lambda b: _row(b, BTC).liquidation_price_source == "exchange")
        assert ws.connections_made > made
        assert ws.subscribed("open_positions") == {"open_positions"} and "PF_XBTUSD" in ws.subscribed("ticker")
        assert _row(book, BTC).liquidation_price == D("38123.5")
    finally:
        poller.stop()
    assert "kraken-monitor-futures-stream" not in {t.name for t in threading.enumerate()}  # its socket closed


def test_a_refused_challenge_keeps_the_estimates_and_says_why(servers):
    rest, ws = servers
    poller, _feed = _poller(rest, ws, secret=base64.b64encode(b"not the secret" * 4).decode())
    try:
        book = _until(poller, lambda b: "refused the WebSocket challenge" in b.feed)
        assert book.feed.startswith("futures: polling")  # marks stream; positions and thresholds do not
        assert _row(book, BTC).liquidation_price_source == "estimate"
    finally:
        poller.stop()


def _position(volume):
    return FuturesPosition("PF_XBTUSD", BTC, Side.LONG, D(volume), D(58000), MarginMode.CROSS)


def test_a_pushed_row_of_another_size_or_an_old_one_is_not_laid_over_rest():
    now = [100.0]
    store = FuturesPushStore(private=True, positions_max_age_s=30, monotonic=lambda: now[0])
    store.on_state(StreamState(True, "live"))
    store.on_positions([PushedPosition(BTC, Side.LONG, D("0.5"), D(40000), D(60000), None, None)], 100.0)
    assert store.overlay_positions([_position("0.5")])[0].liquidation_threshold == D(40000)
    assert store.overlay_positions([_position("0.7")])[0].liquidation_threshold is None  # size changed since
    now[0] = 131.0  # 31 s old > 30 s
    assert store.overlay_positions([_position("0.5")])[0].liquidation_threshold is None
    now[0] = 101.0
    store.on_state(StreamState(False, "no data for 2.6 s"))  # the session ended: nothing pushed counts
    assert store.overlay_positions([_position("0.5")])[0].liquidation_threshold is None
    assert not store.live()


def _cli(args, home, env):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    full = dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
                PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", **env)
    result = subprocess.run([sys.executable, "-m", "kraken_monitor", *args], capture_output=True, text=True,
                            timeout=60, env=full, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("prices, btc_source", [("stream", "exchange"), ("poll", "estimate")])
def test_snapshot_futures_json_names_krakens_threshold_as_exchange_only_when_streaming(servers, tmp_path, prices,
                                                                                       btc_source):
    rest, ws = servers
    env = {"KRAKEN_FUTURES_API_KEY": rest.api_key, "KRAKEN_FUTURES_API_SECRET": rest.api_secret}
    out = _cli(["snapshot", "--venue", "futures", "--mode", "live", "--api-url", rest.url, "--futures-ws-url",
                ws.url, "--prices", prices, "--json"], tmp_path, env)
    rows = {p["pair"]: p for p in out["positions"]}
    assert out["stale"] is False and rows[BTC]["liquidation_price_source"] == btc_source
    if btc_source == "exchange":
        assert rows[BTC]["liquidation_price"] == "38123.5"
    assert rows[ETH]["liquidation_price_source"] == "estimate"  # Kraken's 0 = not available
    assert not [path for path, _ in rest.requests if not path.startswith("GET ")]  # snapshot only reads


@pytest.mark.parametrize("prices", ["stream", "poll"])
def test_watch_futures_streams_only_with_prices_stream(servers, tmp_path, prices):
    import os
    import subprocess
    import sys
    from pathlib import Path

    rest, ws = servers
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", KRAKEN_FUTURES_API_KEY=rest.api_key,
               KRAKEN_FUTURES_API_SECRET=rest.api_secret)
    result = subprocess.run(
        [sys.executable, "-m", "kraken_monitor", "watch", "--venue", "futures", "--mode", "live", "--api-url",
         rest.url, "--futures-ws-url", ws.url, "--prices", prices, "--json", "--duration", "3", "--interval", "1"],
        capture_output=True, text=True, timeout=60, env=env, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    subscribed = {m.get("feed") for m in ws.received if m.get("event") == "subscribe"}
    if prices == "stream":
        assert {"open_positions", "balances", "ticker", "heartbeat"} <= subscribed
    else:
        assert ws.connections_made == 0 and not subscribed
    assert result.stdout.strip()  # futures lines either way: REST keeps polling
