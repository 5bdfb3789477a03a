"""Kraken Futures WebSocket v1 through ccxt.pro krakenfutures: pushed marks, open_positions, flex balances, heartbeats.

Threading contract: a `KrakenFuturesStream` belongs to ONE asyncio event loop (the futures stream thread's, see
worker/futures_stream.py); create it, await it and close it there. After a disconnect ccxt resubscribes nothing
by itself (ccxt#20173): the caller closes this object and opens a new one, whose watch calls subscribe again
(the private ones after a fresh challenge).

What ccxt parses and what we read raw: `watch_positions` maps liquidation_threshold to `liquidationPrice` as a
float (safe_number); we read `info["liquidation_threshold"]` (and mark, margins) raw into Decimals, 0 kept as 0
(= "not available": the domain keeps its estimate). `watch_balance` keeps the flex account's margin fields only
in `info` (the raw message's `flex_futures`). ccxt 4.5.90 has no heartbeat watch: the subclass adds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kraken_monitor.domain.models import Side
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import AuthFailed, BadResponse, ExchangeError
from kraken_monitor.exchange.kraken_futures import DEFAULT_API_URL, map_futures_error
from kraken_monitor.exchange.text import printable
from kraken_monitor.exchange.ticker_catch_up import TickerCatchUp

DEFAULT_WS_URL = "wss://futures.kraken.com/ws/v1"
AUTH_ALERT = "authenticated feed"  # Kraken's alert: "Failed to subscribe to authenticated feed"
# flex_futures (snake case, WS) -> FlexAccount field names; the WS spells them as REST does, in snake case.
FLEX_FIELDS = {"margin_equity": "margin_equity", "initial_margin": "initial_margin",
               "maintenance_margin": "maintenance_margin", "available_margin": "available_margin",
               "portfolio_value": "portfolio_value", "collateral_value": "collateral_value",
               "unrealized_funding": "unrealized_funding"}


@dataclass(frozen=True)
class PushedPosition:
    """One open_positions row: Kraken's own figures for a position (USD)."""

    pair: str  # unified, BTC/USD:USD
    side: Side
    volume: Decimal
    liquidation_threshold: Decimal  # the mark at which Kraken liquidates; 0 = not available
    mark_price: Decimal | None
    initial_margin: Decimal | None
    maintenance_margin: Decimal | None


def _number(row: dict[str, Any], key: str, what: str, required: bool = True) -> Decimal | None:
    value = row.get(key)
    if value is None or isinstance(value, bool):
        if required:
            raise BadResponse(f"Kraken Futures WebSocket {what} has no {key}.")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadResponse(f"Kraken Futures WebSocket {what} has a non-numeric {key}.") from None
    if not number.is_finite():
        raise BadResponse(f"Kraken Futures WebSocket {what} has a non-finite {key}.")
    return number


def pushed_position(symbol: str, row: Any) -> PushedPosition | None:
    """A raw open_positions row -> PushedPosition; None for a flat row (balance 0). Bad numbers: BadResponse."""
    if not isinstance(row, dict):
        raise BadResponse("Kraken Futures WebSocket open_positions has a row that is not an object.")
    balance = _number(row, "balance", "open_positions")
    assert balance is not None
    if balance == 0:
        return None
    return PushedPosition(
        pair=symbol, side=Side.LONG if balance > 0 else Side.SHORT, volume=abs(balance),
        liquidation_threshold=_number(row, "liquidation_threshold", "open_positions") or Decimal(0),
        mark_price=_number(row, "mark_price", "open_positions", required=False),
        initial_margin=_number(row, "initial_margin", "open_positions", required=False),
        maintenance_margin=_number(row, "maintenance_margin", "open_positions", required=False))


def pushed_flex(message: Any) -> dict[str, Decimal]:
    """The flex account's margin figures from a balances message; {} when the message carries no flex account."""
    flex = message.get("flex_futures") if isinstance(message, dict) else None
    if not isinstance(flex, dict):
        return {}
    return {ours: n for theirs, ours in FLEX_FIELDS.items()
            if (n := _number(flex, theirs, "balances", required=False)) is not None}


_CLIENT_CLASS: Any = None


def _client_class() -> Any:
    """ccxt.pro krakenfutures with a heartbeat watch (ccxt 4.5.90 leaves the `heartbeat` feed unhandled)."""
    global _CLIENT_CLASS
    if _CLIENT_CLASS is None:
        import ccxt.pro  # lazy: ccxt takes ~0.5 s to import

        class _KrakenFutures(ccxt.pro.krakenfutures):
            async def watch_heartbeat(self) -> Any:
                url = self.urls["api"]["ws"]
                return await self.watch(url, "heartbeat", {"event": "subscribe", "feed": "heartbeat"}, "heartbeat")

            def handle_message(self, client: Any, message: Any) -> None:
                if isinstance(message, dict) and message.get("feed") == "heartbeat":
                    client.resolve(message, "heartbeat")
                    return
                super().handle_message(client, message)

        _CLIENT_CLASS = _KrakenFutures
    return _CLIENT_CLASS


class KrakenFuturesStream:
    """One ccxt.pro krakenfutures client. `marks(pairs)` waits for the next pushed ticker(s), `positions()` for
    the next open_positions message, `flex()` for the next balances message, `heartbeat()` for the next heartbeat.

    `ws_url` overrides Kraken's (tests, proxies; checked by exchange/urls.validate_ws_url before it gets here).
    REST (`api_url`) serves the instruments (ccxt's markets) the feeds' product ids are mapped with.
    """

    def __init__(self, api_url: str | None = None, ws_url: str | None = None,
                 credentials: Credentials | None = None, timeout_s: float = 10.0) -> None:
        config: dict[str, Any] = {"enableRateLimit": False, "timeout": int(timeout_s * 1000)}
        if credentials is not None:
            config.update(apiKey=credentials.key, secret=credentials.secret)
        self._secrets = (credentials.key, credentials.secret) if credentials else ()
        self.private = credentials is not None
        self._ccxt = _client_class()(config)
        self._catch_up = TickerCatchUp()
        base = (api_url or DEFAULT_API_URL).rstrip("/")
        self._ccxt.urls["api"] = {"public": base + "/derivatives/api/", "private": base + "/derivatives/api/",
                                  "charts": base + "/api/charts/", "history": base + "/api/history/",
                                  "feeschedules": base + "/api/feeschedules/", "ws": ws_url or DEFAULT_WS_URL}

    def _mapped(self, exc: BaseException) -> ExchangeError:
        if AUTH_ALERT in str(exc):
            return AuthFailed("Kraken Futures refused the WebSocket challenge (private feeds): check the futures "
                              "key and its secret.")
        return map_futures_error(exc, secrets=self._secrets)

    async def marks(self, pairs: Sequence[str]) -> dict[str, Decimal]:
        """Mark prices that arrived since the last call, by unified symbol (ccxt returns only the contract that
        updated; the others come from its cache, exchange/ticker_catch_up.py)."""
        try:
            await self._ccxt.load_markets()
            known = [p for p in pairs if p in self._ccxt.markets]
            if not known:
                raise BadResponse("none of the contracts to stream is listed by Kraken Futures: " + ", ".join(pairs))
            fresh = self._catch_up.new_since_last(self._ccxt.tickers, known, {})  # arrived while nobody waited
            if not fresh:
                updated = await self._ccxt.watch_tickers(known)
                fresh = self._catch_up.new_since_last(self._ccxt.tickers, known, updated)
        except ExchangeError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a typed error, secrets scrubbed
            raise self._mapped(exc) from None
        marks = {}
        for symbol, ticker in fresh.items():
            mark = _number(ticker.get("info") or {}, "markPrice", f"ticker {printable(symbol)[:40]}", required=False)
            if mark is not None:
                marks[symbol] = mark
        return marks

    async def positions(self) -> list[PushedPosition]:
        """The next open_positions message, every position in it (the first call subscribes, after the challenge)."""
        if not self.private:
            raise ExchangeError("no futures API key: the private feeds need one")
        try:
            rows = await self._ccxt.watch_positions()
        except ExchangeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._mapped(exc) from None
        out = []
        for row in rows:
            symbol = row.get("symbol")
            if not isinstance(symbol, str):
                raise BadResponse("Kraken Futures WebSocket open_positions names an unknown contract.")
            pushed = pushed_position(symbol, row.get("info"))
            if pushed is not None:
                out.append(pushed)
        return out

    async def flex(self) -> dict[str, Decimal]:
        """The next balances message's flex account figures (FlexAccount field names)."""
        if not self.private:
            raise ExchangeError("no futures API key: the private feeds need one")
        try:
            balance = await self._ccxt.watch_balance({"account": "flex_futures"})
        except ExchangeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._mapped(exc) from None
        return pushed_flex(balance.get("info"))

    async def heartbeat(self) -> None:
        try:
            await self._ccxt.watch_heartbeat()
        except Exception as exc:  # noqa: BLE001
            raise self._mapped(exc) from None

    async def close(self) -> None:
        try:
            await self._ccxt.close()
        except Exception:  # noqa: BLE001 - closing a dead socket must not mask the reason it died
            pass


def futures_stream_opener(config: Any) -> tuple[Any, bool] | None:
    """(opener, private) for a MonitorConfig, or None when futures are polled alone (`--prices poll`, demo).

    live: marks plus the challenge-signed open_positions and balances feeds (with the futures key); paper: the
    public marks only (its positions are simulated). URLs are checked before any connection.
    """
    from kraken_monitor.domain.venue import AccountKind
    from kraken_monitor.exchange.urls import InvalidApiUrl, validate_api_url, validate_ws_url

    if config.prices != "stream" or config.mode is AccountKind.DEMO:
        return None
    if config.api_url and not config.futures_ws_url:
        # REST goes elsewhere (a test server, a proxy): Kraken's own socket would describe another account,
        # and its thresholds must never be laid over these positions. Stream only when told where to.
        return None
    try:
        ws_url = validate_ws_url(config.futures_ws_url)
        api_url = validate_api_url(config.api_url) if config.api_url else None
    except InvalidApiUrl as exc:
        raise BadResponse(str(exc)) from None
    credentials = None
    if config.mode is AccountKind.LIVE:
        from kraken_monitor.exchange.credentials import FUTURES, load_credentials

        credentials = load_credentials(venue=FUTURES)
    timeout_s = min(10.0, max(5.0, config.price_stale_after_s()))

    def open_stream() -> KrakenFuturesStream:
        return KrakenFuturesStream(api_url, ws_url, credentials, timeout_s=timeout_s)

    return open_stream, credentials is not None
