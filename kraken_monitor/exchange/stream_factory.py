"""Pick the pushed price source for a config: demo's embedded market, or Kraken's WebSocket v2 (paper, live)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.errors import BadResponse

StreamOpener = Callable[[], Any]  # () -> a worker.price_stream.StreamSource, called in the stream thread


def _demo_source(exchange: Any) -> Any:
    """The DemoPriceSource under a (currency-viewed) paper exchange, or None."""
    from kraken_monitor.exchange.paper import DemoPriceSource

    inner = getattr(exchange, "inner", exchange)
    source = getattr(inner, "price_source", None)
    return source if isinstance(source, DemoPriceSource) else None


def price_stream_opener(config: MonitorConfig, exchange: Any) -> StreamOpener | None:
    """None when prices are polled (`--prices poll`, or an exchange with nothing to stream from).

    demo: the market the paper account trades on; paper: Kraken's public ticker; live: the public ticker plus
    the private executions and balances channels (their events trigger an immediate account read).
    """
    if config.prices != "stream":
        return None
    if config.mode is AccountKind.DEMO:
        source = _demo_source(exchange)
        if source is None:
            return None
        from kraken_monitor.exchange.demo_stream import DemoStream

        return lambda: DemoStream(source)
    from kraken_monitor.exchange.urls import InvalidApiUrl, validate_api_url, validate_ws_url

    try:  # before any connection, whoever built the config
        ws_url = validate_ws_url(config.ws_url)
        api_url = validate_api_url(config.api_url)
    except InvalidApiUrl as exc:
        raise BadResponse(str(exc)) from None
    credentials = None
    if config.mode is AccountKind.LIVE:
        from kraken_monitor.exchange.credentials import load_credentials

        credentials = load_credentials()  # None: prices still stream, account events come from polling alone
    timeout_s = min(10.0, max(5.0, config.price_stale_after_s()))

    def open_kraken() -> Any:
        from kraken_monitor.exchange.kraken_stream import KrakenStream

        return KrakenStream(api_url, ws_url, credentials, timeout_s=timeout_s)

    return open_kraken
