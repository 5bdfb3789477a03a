"""Kraken Futures WebSocket v1 protocol server on 127.0.0.1 for tests: challenge auth, ticker, open_positions, balances.

Speaks what wss://futures.kraken.com/ws/v1 sends (docs.kraken.com/exchange/guides/futures/websockets and
api-reference/futures-websocket/*): `{"event": "info", "version": 1}` on connect; `{"event": "challenge",
"api_key": K}` answered with `{"event": "challenge", "message": <uuid>}` (an unknown key or a request without
one: `{"event": "error", "message": "Json Error"}`); `subscribe` answered with `{"event": "subscribed", ...}`,
then the feed's snapshot and updates. Private feeds (`open_positions`, `balances`) need `original_challenge`
(the one this socket was given) and `signed_challenge` = base64(HMAC-SHA512(base64decode(secret),
SHA256(challenge))); a wrong one is answered `{"event": "alert", "message": "Failed to subscribe to
authenticated feed"}` (Kraken's text, as ccxt pro krakenfutures `handle_error_message` quotes it).
`heartbeat` sends `{"feed": "heartbeat", "time": ms}` every `heartbeat_s`.

Driven by a FuturesSim (testing/futures_sim.py), the REST server's own, so REST and WS agree on positions,
marks and the flex account. Kraken's `liquidation_threshold` is scripted per contract
(`set_liquidation_threshold`; 0 = "not available", Kraken's value for a tiny cross position in ccxt's sample).
Numbers go out as JSON numbers, as Kraken sends them. Faults: `silence()` (the socket stays open, ws pings
are answered, nothing else is sent: ccxt#29709's healthy-but-dead socket), `drop_connections()`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from kraken_monitor.testing.futures_sim import FuturesSim
from kraken_monitor.testing.ws_loopback import LoopbackWsServer

PRIVATE_FEEDS = ("open_positions", "balances")
AUTH_ALERT = "Failed to subscribe to authenticated feed"
ACCOUNT_ID = "3b111acc-4fcc-45be-a622-57e611fe9f7f"


def sign_challenge(challenge: str, secret_b64: str) -> str:
    """Kraken's signed_challenge: base64(HMAC-SHA512(base64decode(api_secret), SHA256(challenge)))."""
    digest = hashlib.sha256(challenge.encode()).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), digest, hashlib.sha512).digest()).decode()


def _ms() -> int:
    return int(time.time() * 1000)


def _f(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass
class _Conn:
    ws: web.WebSocketResponse
    challenge: str | None = None
    tickers: set[str] = field(default_factory=set)
    feeds: set[str] = field(default_factory=set)  # heartbeat, open_positions, balances


class FuturesWsTestServer(LoopbackWsServer):
    """ws://127.0.0.1:<free port>/ws/v1; use as a context manager. `secrets` maps API key -> base64 secret."""

    PATH = "/ws/v1"
    THREAD_NAME = "futures-ws-test-server"
    WHAT = "the futures WebSocket test server"

    def __init__(self, sim: FuturesSim, secrets: dict[str, str], heartbeat_s: float = 1.0) -> None:
        super().__init__()
        self.sim, self.secrets, self.heartbeat_s = sim, dict(secrets), heartbeat_s
        self.received: list[dict[str, Any]] = []  # every JSON message clients sent, in order
        self.connections_made = 0
        self.thresholds: dict[str, Decimal] = {}  # PF_XBTUSD -> liquidation_threshold (absent: 0)
        self._seq = itertools.count()

    # ----- scenario API (any thread) -----
    def set_liquidation_threshold(self, symbol: str, value: Decimal) -> None:
        with self._lock:
            self.thresholds[symbol.upper()] = Decimal(value)

    def push_ticker(self, symbol: str) -> None:
        """Send the contract's ticker (the sim's mark) to every socket subscribed to it."""
        self._call(self._broadcast_ticker, symbol.upper())

    def push_positions(self) -> None:
        """Send an open_positions update (the sim's positions at its marks) to every subscribed socket."""
        self._call(self._broadcast_feed, "open_positions")

    def push_balances(self) -> None:
        """Send a balances update (the sim's flex account) to every subscribed socket."""
        self._call(self._broadcast_feed, "balances")

    def subscribed(self, feed: str) -> set[str]:
        """Product ids (ticker) or {feed} (other feeds) that some open socket is subscribed to now."""
        with self._lock:
            conns = list(self._conns)
        if feed == "ticker":
            return set().union(*(c.tickers for c in conns)) if conns else set()
        return {feed} if any(feed in c.feeds for c in conns) else set()

    # ----- payloads (the sim's state, WS field names) -----
    def ticker_message(self, symbol: str) -> dict[str, Any]:
        mark = self.sim.marks[symbol]
        return {"time": _ms(), "product_id": symbol, "feed": "ticker", "bid": _f(mark - 1), "ask": _f(mark + 1),
                "bid_size": 1.5, "ask_size": 2.5, "volume": 1234, "dtm": 0, "leverage": "50x", "index": _f(mark),
                "premium": 0, "last": _f(mark), "change": 0, "suspended": False, "tag": "perpetual",
                "pair": symbol[3:6] + ":USD", "openInterest": 1000, "markPrice": _f(mark), "maturityTime": 0,
                "post_only": False, "volumeQuote": 1234, "funding_rate": 0.0001}

    def positions_message(self) -> dict[str, Any]:
        sim = self.sim
        rows = []
        with sim._lock:  # noqa: SLF001 - the sim's own lock: one consistent view of positions and marks
            flex = sim.flex()
            for p in sim.positions:
                mark = sim.marks[p.symbol]
                notional = p.size * mark
                tier = sim.tier(p.symbol, notional)
                initial = sim.allocated(p) if p.symbol in sim.leverage else notional * tier.initial_rate
                pnl = p.pnl(mark)
                with self._lock:
                    threshold = self.thresholds.get(p.symbol, Decimal(0))
                rows.append({
                    "instrument": p.symbol, "balance": _f(p.size if p.side == "long" else -p.size),
                    "pnl": _f(pnl), "entry_price": _f(p.price), "mark_price": _f(mark), "index_price": _f(mark),
                    "liquidation_threshold": _f(threshold),
                    "effective_leverage": _f(notional / flex["portfolioValue"]) if flex["portfolioValue"] else 0,
                    "return_on_equity": _f(pnl / initial) if initial else 0,
                    "unrealized_funding": _f(p.unrealized_funding), "initial_margin": _f(initial),
                    "initial_margin_with_orders": _f(initial),
                    "maintenance_margin": _f(notional * tier.maintenance_rate), "pnl_currency": "USD"})
        return {"feed": "open_positions", "account": ACCOUNT_ID, "positions": rows, "seq": next(self._seq),
                "timestamp": _ms()}

    def balances_message(self, snapshot: bool) -> dict[str, Any]:
        sim = self.sim
        flex = sim.flex()
        snake = {"balance_value": "balanceValue", "portfolio_value": "portfolioValue",
                 "collateral_value": "collateralValue", "initial_margin": "initialMargin",
                 "initial_margin_without_orders": "initialMargin", "maintenance_margin": "maintenanceMargin",
                 "pnl": "pnl", "unrealized_funding": "unrealizedFunding", "total_unrealized": "totalUnrealized",
                 "total_unrealized_as_margin": "totalUnrealizedAsMargin", "margin_equity": "marginEquity",
                 "available_margin": "availableMargin"}
        flex_futures: dict[str, Any] = {k: _f(flex[v]) for k, v in snake.items()}
        flex_futures["currencies"] = {c: {"quantity": _f(q), "value": _f(q), "collateral_value": _f(q),
                                          "available": _f(q), "haircut": 0, "conversion_spread": 0}
                                      for c, q in sim.collateral.items()}
        flex_futures["isolated"], flex_futures["cross"] = {}, {}
        message: dict[str, Any] = {"feed": "balances_snapshot" if snapshot else "balances", "account": ACCOUNT_ID,
                                   "flex_futures": flex_futures, "timestamp": _ms(), "seq": next(self._seq)}
        if snapshot:
            message["holding"], message["futures"] = {}, {}
        return message

    # ----- protocol (server loop) -----
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Conn(ws)
        with self._lock:
            self._conns.append(conn)
            self.connections_made += 1
        await self._send(conn, {"event": "info", "version": 1})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    message = json.loads(msg.data)
                except ValueError:
                    await self._send(conn, {"event": "error", "message": "Json Error"}, always=True)
                    continue
                with self._lock:
                    self.received.append(message)
                await self._on_message(conn, message if isinstance(message, dict) else {})
        finally:
            with self._lock:
                if conn in self._conns:
                    self._conns.remove(conn)
        return ws

    async def _on_message(self, conn: _Conn, message: dict[str, Any]) -> None:
        event = message.get("event")
        if event == "ping":
            await self._send(conn, {"event": "pong"}, always=True)
        elif event == "challenge":
            if message.get("api_key") not in self.secrets:
                await self._send(conn, {"event": "error", "message": "Json Error"}, always=True)
                return
            conn.challenge = str(uuid.uuid4())
            await self._send(conn, {"event": "challenge", "message": conn.challenge}, always=True)
        elif event == "subscribe":
            await self._subscribe(conn, message)
        elif event == "unsubscribe":
            feed = message.get("feed")
            conn.feeds.discard(feed)
            if feed == "ticker":
                conn.tickers -= set(message.get("product_ids") or ())
            await self._send(conn, {"event": "unsubscribed", "feed": feed,
                                    **({"product_ids": message["product_ids"]} if "product_ids" in message else {})})
        else:
            await self._send(conn, {"event": "error", "message": "Json Error"}, always=True)

    def _signed_ok(self, conn: _Conn, message: dict[str, Any]) -> bool:
        secret = self.secrets.get(str(message.get("api_key")))
        challenge, signed = message.get("original_challenge"), message.get("signed_challenge")
        if not secret or not conn.challenge or challenge != conn.challenge or not isinstance(signed, str):
            return False
        return hmac.compare_digest(signed, sign_challenge(conn.challenge, secret))

    async def _subscribe(self, conn: _Conn, message: dict[str, Any]) -> None:
        feed = message.get("feed")
        if feed == "ticker":
            ids = [str(i) for i in message.get("product_ids") or ()]
            unknown = [i for i in ids if i not in self.sim.marks]
            if not ids or unknown:
                await self._send(conn, {"event": "error", "message": "Invalid product id"}, always=True)
                return
            conn.tickers.update(ids)
            await self._send(conn, {"event": "subscribed", "feed": "ticker", "product_ids": ids})
            for symbol in ids:
                await self._send(conn, self.ticker_message(symbol))
        elif feed == "heartbeat":
            conn.feeds.add("heartbeat")
            await self._send(conn, {"event": "subscribed", "feed": "heartbeat"})
        elif feed in PRIVATE_FEEDS:
            if not self._signed_ok(conn, message):
                await self._send(conn, {"event": "alert", "message": AUTH_ALERT}, always=True)
                return
            conn.feeds.add(feed)
            await self._send(conn, {"event": "subscribed", "feed": feed, "api_key": message.get("api_key"),
                                    "original_challenge": conn.challenge,
                                    "signed_challenge": message.get("signed_challenge")})
            await self._send(conn, self.positions_message() if feed == "open_positions"
                             else self.balances_message(snapshot=True))
        else:
            await self._send(conn, {"event": "error", "message": "Json Error"}, always=True)

    async def _send(self, conn: _Conn, message: dict[str, Any], always: bool = False) -> None:
        """`always`: answers to requests still go out on a silenced socket (it must look alive)."""
        with self._lock:
            silent = self._silent
        if (silent and not always) or conn.ws.closed:
            return
        try:
            await conn.ws.send_str(json.dumps(message))
        except (ConnectionError, RuntimeError):
            pass  # the client went away mid-send; its handler removes it

    async def _broadcast_ticker(self, symbol: str) -> None:
        with self._lock:
            conns = [c for c in self._conns if symbol in c.tickers]
        message = self.ticker_message(symbol)
        for conn in conns:
            await self._send(conn, message)

    async def _broadcast_feed(self, feed: str) -> None:
        with self._lock:
            conns = [c for c in self._conns if feed in c.feeds]
        if not conns:
            return
        message = self.positions_message() if feed == "open_positions" else self.balances_message(snapshot=False)
        for conn in conns:
            await self._send(conn, message)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            with self._lock:
                conns = [c for c in self._conns if "heartbeat" in c.feeds]
            for conn in conns:
                await self._send(conn, {"feed": "heartbeat", "time": _ms()})
