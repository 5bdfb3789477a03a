"""Kraken WebSocket v2 protocol server on 127.0.0.1 for tests and benchmarks: ticker, executions, balances, faults.

Speaks what wss://ws.kraken.com/v2 and wss://ws-auth.kraken.com/v2 send (docs.kraken.com/api/docs/websocket-v2):
a `status` message on connect; `subscribe` answered with one ack per symbol, then a `snapshot`, then `update`s;
`{"channel": "heartbeat"}` about once a second on a socket with subscriptions; `ping` answered with `pong`.
Private channels (`executions`, `balances`) need a token minted by the REST server's `GetWebSocketsToken`.
Faults: `silence()` keeps the socket open and answers pings but sends nothing else (ccxt#29709's "healthy but
dead" socket), `drop_connections()` closes every socket (code 1006-like abort), `withhold(pair)` acks a pair's
subscription and never sends it data. Scenario calls are thread-safe; the server runs its own asyncio loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from kraken_monitor.testing.ws_loopback import LoopbackWsServer

STATUS_VERSION = "2.0.10"


def _iso_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Conn:
    ws: web.WebSocketResponse
    tickers: set[str] = field(default_factory=set)
    executions: bool = False
    balances: bool = False


class KrakenWsTestServer(LoopbackWsServer):
    """ws://127.0.0.1:<free port>/v2; use as a context manager. `url` is what `--ws-url` takes.

    `token_valid(token)` decides private subscriptions (default: the REST server's GetWebSocketsToken tokens,
    see KrakenTestServer.ws_token_valid). Prices are JSON numbers, as Kraken sends them (SDK wire-quirks.md).
    """

    PATH = "/v2"
    THREAD_NAME = "kraken-ws-test-server"
    WHAT = "the WebSocket test server"

    def __init__(self, token_valid: Callable[[str], bool] | None = None, heartbeat_s: float = 1.0) -> None:
        super().__init__()
        self.token_valid = token_valid or (lambda token: False)
        self.heartbeat_s = heartbeat_s
        self.tickers: dict[str, dict[str, Any]] = {}  # symbol -> last ticker row sent
        self.received: list[dict[str, Any]] = []  # every JSON message clients sent, in order
        self.connections_made = 0
        self._withheld: set[str] = set()
        self._sequence = itertools.count(1)

    # ----- scenario API (any thread) -----
    def push_ticker(self, symbol: str, last: Decimal | float, bid: Decimal | float | None = None,
                    ask: Decimal | float | None = None) -> None:
        """Set the pair's ticker and send it as an `update` to every socket subscribed to it (unless withheld)."""
        row = self._ticker_row(symbol, last, bid, ask)
        with self._lock:
            self.tickers[symbol] = row
        self._call(self._broadcast_ticker, symbol, row)

    def set_ticker(self, symbol: str, last: Decimal | float, bid: Decimal | float | None = None,
                   ask: Decimal | float | None = None) -> None:
        """Set the pair's ticker for the next subscription's snapshot, without sending an update."""
        with self._lock:
            self.tickers[symbol] = self._ticker_row(symbol, last, bid, ask)

    def push_execution(self, symbol: str = "BTC/USD", exec_type: str = "trade", order_id: str = "OTEST-00001",
                       side: str = "buy", qty: float = 0.01, price: float = 50000.0) -> None:
        """One `executions` update (a fill when exec_type is "trade") to every socket subscribed to it."""
        row: dict[str, Any] = {"order_id": order_id, "symbol": symbol, "exec_type": exec_type, "side": side,
                               "order_type": "market", "order_qty": qty, "order_status": "filled",
                               "timestamp": _iso_now(), "margin": True, "position_status": "opened"}
        if exec_type == "trade":
            row.update({"exec_id": f"T{next(self._sequence):05d}", "trade_id": next(self._sequence),
                        "last_qty": qty, "last_price": price, "cost": qty * price, "liquidity_ind": "t",
                        "fees": [{"asset": "USD", "qty": round(qty * price * 0.0026, 8)}]})
        self._call(self._broadcast_private, "executions", [row])

    def push_balance(self, asset: str = "USD", amount: float = -1.5, ledger_type: str = "rollover",
                     balance: float = 10000.0) -> None:
        """One `balances` update: a ledger entry (Kraken sends these for trades, margin fees, rollovers)."""
        row = {"asset": asset, "asset_class": "currency", "amount": amount, "balance": balance, "fee": 0.0,
               "ledger_id": f"L{next(self._sequence):05d}", "ref_id": "RTEST", "timestamp": _iso_now(),
               "type": ledger_type, "subtype": "", "category": ledger_type, "wallet_type": "spot", "wallet_id": "main"}
        self._call(self._broadcast_private, "balances", [row])

    def withhold(self, *symbols: str) -> None:
        """Ack these pairs' subscriptions but never send them data; none = send every pair again."""
        with self._lock:
            self._withheld = set(symbols)

    def subscribed(self, channel: str = "ticker") -> set[str]:
        """Symbols (ticker) or {"yes"} (private channels) some open socket is subscribed to now."""
        with self._lock:
            conns = list(self._conns)
        if channel == "ticker":
            return set().union(*(c.tickers for c in conns)) if conns else set()
        return {"yes"} if any(getattr(c, channel) for c in conns) else set()

    # ----- protocol (server loop) -----
    def _ticker_row(self, symbol: str, last: Any, bid: Any, ask: Any) -> dict[str, Any]:
        last_f = float(last)
        return {"symbol": symbol, "bid": float(bid) if bid is not None else last_f, "bid_qty": 1.5,
                "ask": float(ask) if ask is not None else last_f, "ask_qty": 2.5, "last": last_f,
                "volume": 100.0, "vwap": last_f, "low": last_f, "high": last_f, "change": 0.0, "change_pct": 0.0,
                "timestamp": _iso_now()}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Conn(ws)
        with self._lock:
            self._conns.append(conn)
            self.connections_made += 1
        await self._send(conn, {"channel": "status", "type": "update", "data": [
            {"api_version": "v2", "connection_id": self.connections_made, "system": "online",
             "version": STATUS_VERSION}]})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    message = json.loads(msg.data)
                except ValueError:
                    await self._send(conn, {"error": "Malformed request", "success": False}, always=True)
                    continue
                with self._lock:
                    self.received.append(message)
                await self._on_message(conn, message)
        finally:
            with self._lock:
                if conn in self._conns:
                    self._conns.remove(conn)
        return ws

    async def _on_message(self, conn: _Conn, message: dict[str, Any]) -> None:
        method, req_id = message.get("method"), message.get("req_id")
        params = message.get("params") or {}
        if method == "ping":
            await self._send(conn, {"method": "pong", "req_id": req_id, "time_in": _iso_now(),
                                    "time_out": _iso_now()}, always=True)
        elif method == "subscribe":
            await self._subscribe(conn, params, req_id)
        elif method == "unsubscribe":
            for symbol in params.get("symbol") or ():
                conn.tickers.discard(symbol)
            await self._send(conn, {"method": "unsubscribe", "req_id": req_id, "success": True,
                                    "result": {"channel": params.get("channel")}})
        else:
            await self._send(conn, {"error": f"Unsupported method {method!r}", "method": method, "req_id": req_id,
                                    "success": False, "time_in": _iso_now(), "time_out": _iso_now()})

    async def _subscribe(self, conn: _Conn, params: dict[str, Any], req_id: Any) -> None:
        channel = params.get("channel")
        stamp = {"req_id": req_id, "time_in": _iso_now(), "time_out": _iso_now()}
        if channel == "ticker":
            for symbol in params.get("symbol") or ():
                conn.tickers.add(symbol)
                await self._send(conn, {"method": "subscribe", "success": True, **stamp, "result": {
                    "channel": "ticker", "event_trigger": params.get("event_trigger", "trades"),
                    "snapshot": params.get("snapshot", True), "symbol": symbol}})
                with self._lock:
                    row = self.tickers.get(symbol)
                    withheld = symbol in self._withheld
                if row is not None and not withheld and params.get("snapshot", True):
                    await self._send(conn, {"channel": "ticker", "type": "snapshot", "data": [row]})
        elif channel in ("executions", "balances"):
            if not self.token_valid(str(params.get("token") or "")):
                await self._send(conn, {"error": "EAccount:Invalid permissions", "method": "subscribe",
                                        "success": False, **stamp})
                return
            setattr(conn, channel, True)
            await self._send(conn, {"method": "subscribe", "success": True, **stamp, "result": {
                "channel": channel, "snapshot": True, **({"maxratecount": 180} if channel == "executions" else {})}})
            data: list[dict[str, Any]] = [] if channel == "executions" else [
                {"asset": "USD", "asset_class": "currency", "balance": 10000.0,
                 "wallets": [{"type": "spot", "id": "main", "balance": 10000.0}]}]
            await self._send(conn, {"channel": channel, "type": "snapshot", "data": data,
                                    "sequence": next(self._sequence)})
        else:
            await self._send(conn, {"error": f"Channel {channel!r} not supported", "method": "subscribe",
                                    "success": False, **stamp})

    async def _send(self, conn: _Conn, message: dict[str, Any], always: bool = False) -> None:
        """`always`: pongs and errors still go out on a silenced socket (it must look alive)."""
        with self._lock:
            silent = self._silent
        if (silent and not always) or conn.ws.closed:
            return
        try:
            await conn.ws.send_str(json.dumps(message))
        except (ConnectionError, RuntimeError):
            pass  # the client went away mid-send; its handler removes it

    async def _broadcast_ticker(self, symbol: str, row: dict[str, Any]) -> None:
        with self._lock:
            if symbol in self._withheld:
                return
            conns = [c for c in self._conns if symbol in c.tickers]
        for conn in conns:
            await self._send(conn, {"channel": "ticker", "type": "update", "data": [row]})

    async def _broadcast_private(self, channel: str, data: list[dict[str, Any]]) -> None:
        with self._lock:
            conns = [c for c in self._conns if getattr(c, channel)]
        for conn in conns:
            await self._send(conn, {"channel": channel, "type": "update", "data": data,
                                    "sequence": next(self._sequence)})

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            with self._lock:
                conns = [c for c in self._conns if c.tickers or c.executions or c.balances]
            for conn in conns:
                await self._send(conn, {"channel": "heartbeat"})
