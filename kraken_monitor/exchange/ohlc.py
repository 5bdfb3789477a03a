"""Candles from the venues: Kraken OHLC through ccxt `fetch_ohlcv`, and the demo market's own candles
(a seeded recent past joined to the prices it has quoted since start-up)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime

from kraken_monitor.domain.candles import (
    KRAKEN_MAX_CANDLES,
    Candle,
    aggregate_ticks,
    merge_candles,
    seeded_past,
    timeframe_seconds,
)
from kraken_monitor.domain.models import Ticker
from kraken_monitor.exchange.errors import BadResponse

DEMO_RECORD_MAX = 200_000  # (ts, price) kept per pair: days of 1 s polls, a few MB


def candles_from_ccxt(rows: object) -> list[Candle]:
    """ccxt's [[ms, open, high, low, close, volume], ...] as Candles (seconds), ascending; a malformed
    row is a BadResponse (a chart must not draw a made-up candle), a null volume is 0."""
    if not isinstance(rows, list):
        raise BadResponse("Kraken OHLC did not return a list of candles.")
    candles = []
    for row in rows:
        try:
            ts, o, h, low, c = (float(row[i]) for i in range(5))
            volume = float(row[5]) if len(row) > 5 and row[5] is not None else 0.0
        except (TypeError, ValueError, IndexError):
            raise BadResponse("Kraken OHLC returned a malformed candle.") from None
        if not all(math.isfinite(v) for v in (ts, o, h, low, c)):
            raise BadResponse("Kraken OHLC returned a candle that is not a number.")
        candles.append(Candle(ts / 1000.0, o, h, low, c, volume))
    candles.sort(key=lambda x: x.ts)
    return candles


def since_ms(since: datetime | float | None) -> int | None:
    if since is None:
        return None
    ts = since.timestamp() if isinstance(since, datetime) else float(since)
    return int(ts * 1000)


class DemoCandles:
    """The demo's candles: `record` every quote it hands out; `candles` = a seeded past (as many
    candles as Kraken would return) ending where the record starts, then the record's candles."""

    def __init__(self, volatility: Mapping[str, float], seed: int = 7) -> None:
        self._vol = dict(volatility)
        self._seed = seed
        self._ticks: dict[str, list[tuple[float, float]]] = {}
        self._past: dict[tuple[str, str], list[Candle]] = {}

    def record(self, tickers: Iterable[Ticker]) -> None:
        for t in tickers:
            ticks = self._ticks.setdefault(t.pair, [])
            ts = t.as_of.timestamp()
            if ticks and ts <= ticks[-1][0]:
                continue
            ticks.append((ts, float(t.last)))
            if len(ticks) > DEMO_RECORD_MAX:
                del ticks[: len(ticks) // 2]

    def candles(self, pair: str, timeframe: str, now: float, price: float | None) -> list[Candle]:
        seconds = timeframe_seconds(timeframe)
        ticks = self._ticks.get(pair, [])
        start_ts, start_price = ticks[0] if ticks else (now, price)
        if start_price is None:
            raise BadResponse(f"The demo market does not quote {pair}.")
        key = (pair, timeframe)
        if key not in self._past:
            self._past[key] = seeded_past(start_price, start_ts, seconds, KRAKEN_MAX_CANDLES,
                                          self._vol.get(pair, 0.5), self._seed)
        return merge_candles(self._past[key], aggregate_ticks(ticks, seconds))
