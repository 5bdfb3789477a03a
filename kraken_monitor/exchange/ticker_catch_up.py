"""Every ticker ccxt.pro parsed, not only the one `watch_tickers` hands back (the rest of a burst was lost)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class TickerCatchUp:
    """One per stream client. ccxt.pro's `watch_tickers` returns one symbol per call: updates of other symbols
    that arrive before the next call resolve no waiting future and were dropped (measured against the local
    WS server, 7 pairs pushed 10 times a second: 0-4 of 36 updates came through for four of them). ccxt
    still stores each message as a NEW dict in its `tickers` cache, so a cached ticker that is not the
    object passed on last time for its symbol is an update not yet seen."""

    def __init__(self) -> None:
        self._passed: dict[str, Any] = {}

    def new_since_last(self, cache: Mapping[str, Any], symbols: Sequence[str], updated: Mapping[str, Any]) -> dict:
        """The newest cached ticker of every symbol in `symbols` not passed on yet; `updated` is what the
        watch call returned (the cache holds it too, or a newer one)."""
        fresh = {}
        for symbol in symbols:
            ticker = cache.get(symbol, updated.get(symbol))
            if ticker is not None and ticker is not self._passed.get(symbol):
                fresh[symbol] = self._passed[symbol] = ticker
        return fresh
