"""The Kraken WS v2 test server through ccxt.pro (exchange/kraken_stream.py) over a real socket on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import aiohttp
import pytest

from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import BadResponse, ExchangeError
from kraken_monitor.exchange.kraken_stream import KrakenStream, ticker_from_ws
from kraken_monitor.exchange.urls import InvalidApiUrl, validate_ws_url
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.testing.ws_server import KrakenWsTestServer

WAIT_S = 5.0  # generous: a loaded 2-core machine; every wait below ends as soon as its message arrives


@pytest.fixture
def servers():
    with KrakenTestServer() as rest, KrakenWsTestServer(rest.ws_token_valid, heartbeat_s=0.2) as ws:
        yield rest, ws


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def _closing(stream: KrakenStream, body):
    try:
        return await body(stream)
    finally:
        await stream.close()


def test_subscribe_snapshot_then_only_the_updated_pair(servers):
    rest, ws = servers
    ws.set_ticker("BTC/USD", Decimal("50000.1"), bid=Decimal("50000.0"), ask=Decimal("50000.2"))

    async def body(stream):
        first = await asyncio.wait_for(stream.tickers(["BTC/USD", "ETH/USD"]), WAIT_S)
        ws.push_ticker("ETH/USD", Decimal("3000.55"))
        second = await asyncio.wait_for(stream.tickers(["BTC/USD", "ETH/USD"]), WAIT_S)
        return first, second

    first, second = _run(_closing(KrakenStream(rest.url, ws.url), body))
    # The snapshot on subscribing: BTC/USD only (ETH/USD had no ticker yet); JSON numbers parsed exactly.
    assert [(t.pair, t.bid, t.ask, t.last) for t in first] == [
        ("BTC/USD", Decimal("50000.0"), Decimal("50000.2"), Decimal("50000.1"))]
    # ccxt returns only the symbol that just updated.
    assert [(t.pair, t.last) for t in second] == [("ETH/USD", Decimal("3000.55"))]
    subscribes = [m for m in ws.received if m.get("method") == "subscribe"]
    assert subscribes[0]["params"]["channel"] == "ticker"
    assert subscribes[0]["params"]["symbol"] == ["BTC/USD", "ETH/USD"]
    assert subscribes[0]["params"]["event_trigger"] == "bbo"  # every top-of-book change, not only trades


def test_a_burst_of_updates_to_several_pairs_reaches_the_client_in_full_and_once(servers):
    # ccxt.pro's watch_tickers hands back one symbol per call; updates of the other pairs that arrive before the
    # next call used to be lost until each pair updated again (exchange/ticker_catch_up.py takes them from
    # ccxt's cache). Without it the second wait below times out: nothing more is pushed.
    rest, ws = servers
    pairs = ["BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD", "ETH/EUR"]
    for pair in pairs:
        ws.set_ticker(pair, 1)

    async def body(stream):
        seen = set()
        while seen != set(pairs):  # the subscription's snapshots
            seen.update(t.pair for t in await asyncio.wait_for(stream.tickers(pairs), WAIT_S))
        for i, pair in enumerate(pairs):
            ws.push_ticker(pair, Decimal(100 + i))  # one burst, then nothing
        await asyncio.sleep(0.5)  # the burst arrives while nobody waits on watch_tickers
        got = {}
        while len(got) < len(pairs):
            got.update((t.pair, t.last) for t in await asyncio.wait_for(stream.tickers(pairs), WAIT_S))
        ws.push_ticker("ETH/USD", Decimal("200"))
        after = await asyncio.wait_for(stream.tickers(pairs), WAIT_S)
        return got, after

    got, after = _run(_closing(KrakenStream(rest.url, ws.url), body))
    assert got == {pair: Decimal(100 + i) for i, pair in enumerate(pairs)}
    assert [(t.pair, t.last) for t in after] == [("ETH/USD", Decimal("200"))]  # the caught-up ones not again


def test_heartbeats_reach_the_client(servers):
    rest, ws = servers
    ws.set_ticker("BTC/USD", 50000)

    async def body(stream):
        await asyncio.wait_for(stream.tickers(["BTC/USD"]), WAIT_S)
        await asyncio.wait_for(stream.heartbeat(), WAIT_S)  # raises TimeoutError if ccxt drops heartbeats
        return True

    assert _run(_closing(KrakenStream(rest.url, ws.url), body))


def test_private_events_with_a_token_from_get_websockets_token(servers):
    rest, ws = servers
    ws.set_ticker("BTC/USD", 50000)
    credentials = Credentials(rest.api_key, rest.api_secret)

    async def body(stream):
        # The subscription's balance snapshot is the first event (what happened while disconnected).
        snapshot = await asyncio.wait_for(stream.account_event(), WAIT_S)
        ws.push_execution(symbol="BTC/USD", exec_type="trade")
        fill = await asyncio.wait_for(stream.account_event(), WAIT_S)
        ws.push_balance(ledger_type="rollover")
        ledger = await asyncio.wait_for(stream.account_event(), WAIT_S)
        return snapshot, fill, ledger

    assert _run(_closing(KrakenStream(rest.url, ws.url, credentials), body)) == (
        "balances", "executions", "balances")
    assert len(rest.requests_to("GetWebSocketsToken")) == 1  # one token for both private channels
    private = [m["params"] for m in ws.received if m.get("params", {}).get("channel") in ("executions", "balances")]
    assert {p["channel"] for p in private} == {"executions", "balances"}
    assert all(rest.ws_token_valid(p["token"]) for p in private)


def test_a_private_subscription_without_a_valid_token_is_refused(servers):
    _rest, ws = servers

    async def body():
        async with aiohttp.ClientSession() as session, session.ws_connect(ws.url) as sock:
            status = json.loads((await sock.receive(timeout=WAIT_S)).data)
            await sock.send_str(json.dumps({"method": "subscribe", "req_id": 7,
                                            "params": {"channel": "executions", "token": "made-up"}}))
            answer = json.loads((await sock.receive(timeout=WAIT_S)).data)
            return status, answer

    status, answer = _run(body())
    assert status["channel"] == "status" and status["data"][0]["system"] == "online"
    assert answer["success"] is False and answer["req_id"] == 7 and "Invalid permissions" in answer["error"]
    assert ws.subscribed("executions") == set()


def test_dropped_connection_fails_the_pending_watch_with_a_typed_error(servers):
    rest, ws = servers
    ws.set_ticker("BTC/USD", 50000)

    async def body(stream):
        await asyncio.wait_for(stream.tickers(["BTC/USD"]), WAIT_S)
        ws.drop_connections()
        with pytest.raises(ExchangeError):
            await asyncio.wait_for(stream.tickers(["BTC/USD"]), WAIT_S)
        return True

    assert _run(_closing(KrakenStream(rest.url, ws.url), body))


def test_silent_socket_stays_open_and_answers_pings_but_delivers_nothing(servers):
    rest, ws = servers
    ws.set_ticker("BTC/USD", 50000)

    async def body(stream):
        await asyncio.wait_for(stream.tickers(["BTC/USD"]), WAIT_S)
        ws.silence()
        ws.push_ticker("BTC/USD", 49000)
        with pytest.raises(asyncio.TimeoutError):  # ccxt sees a healthy socket: only data age can tell
            await asyncio.wait_for(stream.tickers(["BTC/USD"]), 1.0)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stream.heartbeat(), 1.0)
        return ws.open_connections()

    assert _run(_closing(KrakenStream(rest.url, ws.url), body)) == 1


def test_withheld_pair_is_acknowledged_but_gets_no_data(servers):
    rest, ws = servers
    ws.set_ticker("BTC/USD", 50000)
    ws.set_ticker("ETH/USD", 3000)
    ws.withhold("ETH/USD")

    async def body(stream):
        seen = []
        first = await asyncio.wait_for(stream.tickers(["BTC/USD", "ETH/USD"]), WAIT_S)
        seen += [t.pair for t in first]
        ws.push_ticker("ETH/USD", 3100)
        ws.push_ticker("BTC/USD", 50100)
        second = await asyncio.wait_for(stream.tickers(["BTC/USD", "ETH/USD"]), WAIT_S)
        seen += [t.pair for t in second]
        return seen

    assert _run(_closing(KrakenStream(rest.url, ws.url), body)) == ["BTC/USD", "BTC/USD"]
    acks = [m for m in ws.received if m.get("method") == "subscribe"]
    assert "ETH/USD" in acks[0]["params"]["symbol"]


def test_ticker_row_without_prices_is_a_bad_response():
    with pytest.raises(BadResponse, match="no 'bid'"):
        ticker_from_ws({"symbol": "BTC/USD", "ask": 1.0, "last": 1.0}, now=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["wss://ws.kraken.com/v2", "ws://127.0.0.1:8080/v2", "ws://localhost/v2",
                                 "ws://[::1]:9/v2"])
def test_ws_url_accepted(url):
    assert validate_ws_url(url) == url


@pytest.mark.parametrize(("url", "why"), [
    ("ws://example.com/v2", "plain ws to another machine"),
    ("https://ws.kraken.com/v2", r"not a ws\(s\) URL"),
    ("wss://user:pw@ws.kraken.com/v2", "user name or password"),
    ("wss://ws.kraken.com/v2?token=x", "query or fragment"),
])
def test_ws_url_refused(url, why):
    with pytest.raises(InvalidApiUrl, match=why):
        validate_ws_url(url)
