"""Kraken spot WebSocket v2 through ccxt.pro: pushed tickers, heartbeats, and private executions/balances events.

Threading contract: a `KrakenStream` belongs to ONE asyncio event loop (the price-stream thread's, see
worker/price_stream.py); create it, await it and close it there. It keeps no state between connections that
matters for freshness: ccxt's own ticker timestamps are None (ccxt pro kraken `handle_ticker`), so every
tick is stamped on arrival by the caller. After a disconnect ccxt resubscribes nothing by itself (ccxt#20173):
the caller closes this object and opens a new one, whose first watch call subscribes again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from kraken_monitor.domain.models import Ticker
from kraken_monitor.exchange import kraken_parse as kp
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import BadResponse, ExchangeError
from kraken_monitor.exchange.kraken import DEFAULT_API_URL, map_error
from kraken_monitor.exchange.ticker_catch_up import TickerCatchUp

DEFAULT_PUBLIC_WS_URL = "wss://ws.kraken.com/v2"
DEFAULT_PRIVATE_WS_URL = "wss://ws-auth.kraken.com/v2"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def ticker_from_ws(row: Any, now: datetime) -> Ticker:
    """One WS v2 ticker row (JSON numbers, SDK wire-quirks.md) -> Ticker; a row without prices is a BadResponse."""
    if not isinstance(row, dict) or not isinstance(row.get("symbol"), str):
        raise BadResponse("Kraken WebSocket ticker row has no symbol")

    def number(key: str) -> Decimal:
        if key not in row or row[key] is None:
            raise BadResponse(f"Kraken WebSocket ticker for {row['symbol']} has no '{key}'")
        return kp.kraken_number(row[key], key, json_number_ok=True)

    return Ticker(pair=row["symbol"], bid=number("bid"), ask=number("ask"), last=number("last"), as_of=now)


_CLIENT_CLASS: Any = None


def _client_class() -> Any:
    """ccxt.pro kraken that also resolves WS v2 heartbeats: ccxt 4.5.90 dispatches `heartbeat` only by the v1
    `event` key, so `{"channel": "heartbeat"}` reached nobody and a quiet but live socket looked dead."""
    global _CLIENT_CLASS
    if _CLIENT_CLASS is None:
        import ccxt.pro  # lazy: ccxt takes ~0.5 s to import

        class _Kraken(ccxt.pro.kraken):
            def handle_message(self, client: Any, message: Any) -> None:
                if isinstance(message, dict) and message.get("channel") == "heartbeat":
                    client.resolve(message, "heartbeat")
                    return
                super().handle_message(client, message)

        _CLIENT_CLASS = _Kraken
    return _CLIENT_CLASS


class KrakenStream:
    """One ccxt.pro kraken client: `tickers(pairs)` waits for the next pushed update(s), `heartbeat()` for the
    next heartbeat, `account_event()` for the next private executions/balances message (live, with a key).

    `ws_url` (the `--ws-url` flag) replaces both v2 endpoints: a proxy or test server speaks public and private
    channels on one URL. REST (`api_url`) still serves AssetPairs (ccxt's markets) and GetWebSocketsToken.
    """

    def __init__(self, api_url: str | None = None, ws_url: str | None = None,
                 credentials: Credentials | None = None, timeout_s: float = 10.0,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        config: dict[str, Any] = {"enableRateLimit": False, "timeout": int(timeout_s * 1000)}
        if credentials is not None:
            config.update(apiKey=credentials.key, secret=credentials.secret)
        self._secrets = (credentials.key, credentials.secret) if credentials else ()
        self.private = credentials is not None
        self._ccxt = _client_class()(config)
        base = (api_url or DEFAULT_API_URL).rstrip("/")
        self._ccxt.urls["api"]["public"] = base
        self._ccxt.urls["api"]["private"] = base
        ws = dict(self._ccxt.urls["api"]["ws"])
        ws["publicV2"] = ws_url or DEFAULT_PUBLIC_WS_URL
        ws["privateV2"] = ws_url or DEFAULT_PRIVATE_WS_URL
        self._ccxt.urls["api"]["ws"] = ws
        self._clock = clock
        self._private_tasks: list[asyncio.Task] = []
        self._events: asyncio.Queue[str] | None = None
        self._catch_up = TickerCatchUp()

    async def tickers(self, pairs: Sequence[str]) -> list[Ticker]:
        """The tickers that arrived since the last call (ccxt returns only one symbol: the others come from its
        cache, exchange/ticker_catch_up.py); pairs ccxt does not know are left out (the caller shows them as
        stale). Raises typed ExchangeErrors."""
        try:
            await self._ccxt.load_markets()
            known = [p for p in pairs if p in self._ccxt.markets]
            if not known:
                raise BadResponse("none of the pairs to stream is listed by Kraken: " + ", ".join(pairs))
            # Already in ccxt's cache (arrived while nobody waited): no wait for a message that came already.
            fresh = self._catch_up.new_since_last(self._ccxt.tickers, known, {})
            if not fresh:
                # bbo: an update on every top-of-book change, not only on trades (docs spot-websocket-v2/ticker).
                updated = await self._ccxt.watch_tickers(known, {"event_trigger": "bbo"})
                fresh = self._catch_up.new_since_last(self._ccxt.tickers, known, updated)
        except ExchangeError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a typed error, secrets scrubbed
            raise map_error(exc, secrets=self._secrets) from None
        # Stamped now: a caught-up ticker arrived at most one call earlier (the stream thread's turn around).
        now = self._clock()
        return [ticker_from_ws(t.get("info"), now) for t in fresh.values()]

    async def heartbeat(self) -> None:
        """Returns at the next `{"channel": "heartbeat"}` (Kraken sends one a second on a quiet socket)."""
        try:
            await self._ccxt.watch_heartbeat()
        except Exception as exc:  # noqa: BLE001
            raise map_error(exc, secrets=self._secrets) from None

    async def account_event(self) -> str:
        """The next private message's channel ("executions" or "balances"); the first call subscribes both.

        A (re)subscription's snapshot counts as an event: what happened while the socket was down is re-read.
        """
        if not self.private:
            raise ExchangeError("no API key: the private channels need one")
        if self._events is None:
            self._events = asyncio.Queue()
            for name, watch in (("executions", self._ccxt.watch_orders), ("executions", self._ccxt.watch_my_trades),
                                ("balances", self._ccxt.watch_balance)):
                self._private_tasks.append(asyncio.ensure_future(self._relay(name, watch)))
                await asyncio.sleep(0)  # the first executions watch registers the one subscription
        failed = next((t for t in self._private_tasks if t.done() and t.exception() is not None), None)
        if failed is not None:
            raise map_error(failed.exception(), secrets=self._secrets) from None
        getter = asyncio.ensure_future(self._events.get())
        try:
            done, _pending = await asyncio.wait([getter, *self._private_tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not getter.done():
                getter.cancel()  # the session ended (cancelled): no coroutine may outlive the loop
        if getter in done:
            return getter.result()
        failed = next(t for t in done if t is not getter)
        exc = failed.exception() or ExchangeError("the private channel ended")
        raise map_error(exc, secrets=self._secrets) from None

    async def _relay(self, name: str, watch: Callable[..., Any]) -> None:
        params = {"snap_orders": False} if watch == self._ccxt.watch_orders else {}
        while True:
            await (watch(params=params) if params else watch())
            assert self._events is not None
            self._events.put_nowait(name)

    async def close(self) -> None:
        for task in self._private_tasks:
            task.cancel()
        if self._private_tasks:
            await asyncio.gather(*self._private_tasks, return_exceptions=True)
        self._private_tasks.clear()
        try:
            await self._ccxt.close()
        except Exception:  # noqa: BLE001 - closing a dead socket must not mask the reason it died
            pass
