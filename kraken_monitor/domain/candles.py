"""Candles (OHLC) for the chart: timeframes, live ticks merged into the current candle, a seeded demo past (pure).

Candle prices are floats on purpose: they only ever feed a chart buffer (money the app computes with
stays Decimal); Kraken's OHLC strings become floats at the exchange boundary (ccxt `fetch_ohlcv`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

# ccxt's Kraken timeframes that the chart offers (Kraken OHLC `interval` in minutes: 1 5 15 30 60 240 1440 10080).
TIMEFRAMES: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14_400,
                              "1d": 86_400, "1w": 604_800}
KRAKEN_MAX_CANDLES = 720  # Kraken's OHLC returns at most the newest 720 candles of an interval
_EPOCH_MONDAY = 345_600  # 1970-01-05 00:00 UTC: Kraken's weekly candles start on Mondays


@dataclass(frozen=True)
class Candle:
    """One interval: `ts` its start (unix seconds, UTC), prices in the pair's quote currency."""

    ts: float
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


def timeframe_seconds(timeframe: str) -> int:
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        raise ValueError(f"unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAMES)}") from None


def bucket(ts: float, seconds: int) -> float:
    """Start of the candle that holds `ts` (weeks start on Monday, as Kraken's)."""
    offset = _EPOCH_MONDAY if seconds == TIMEFRAMES["1w"] else 0
    return float((math.floor(ts) - offset) // seconds * seconds + offset)


def merge_tick(last: Candle | None, ts: float, price: float, seconds: int) -> tuple[Candle | None, bool]:
    """One live price against the newest candle: (candle, replaces_last). Into `last` when `ts` falls
    in it (high/low stretch, close moves; replaces_last True), else a new candle opening at `price`
    (appended). (None, False) for a tick older than `last` (the exchange's closed candles are the
    truth) or a price that is not a positive finite number. O(1): the chart merges every tick."""
    if not (math.isfinite(price) and price > 0 and math.isfinite(ts)):
        return None, False
    start = bucket(ts, seconds)
    if last is not None and start < last.ts:
        return None, False
    if last is not None and start == last.ts:
        return Candle(last.ts, last.open, max(last.high, price), min(last.low, price), price, last.volume), True
    return Candle(start, price, price, price, price, 0.0), False


def _add_tick(rows: list[Candle], ts: float, price: float, seconds: int) -> None:
    """`merge_tick` on the last of `rows`, in place: the current candle updated, or a new one appended."""
    candle, replace = merge_tick(rows[-1] if rows else None, ts, price, seconds)
    if candle is not None:
        if replace:
            rows[-1] = candle
        else:
            rows.append(candle)


def merged(candles: Sequence[Candle], ts: float, price: float, seconds: int) -> list[Candle]:
    """`merge_tick` applied to a list (a copy)."""
    rows = list(candles)
    _add_tick(rows, ts, price, seconds)
    return rows


def merge_candles(old: Sequence[Candle], new: Sequence[Candle]) -> list[Candle]:
    """Union by start time, `new` winning (a re-fetched candle replaces the kept one); ascending."""
    by_ts = {c.ts: c for c in old}
    by_ts.update((c.ts, c) for c in new)
    return [by_ts[t] for t in sorted(by_ts)]


def seeded_past(end_price: float, end_ts: float, seconds: int, count: int, annual_vol: float,
                seed: int = 7) -> list[Candle]:
    """`count` closed candles before the one holding `end_ts`, a reproducible random walk whose last
    close is `end_price` (the demo's first launch already shows a realistic recent past).

    Walked backwards from the present so it joins the live price without a jump; each candle is four
    sub-steps (open, two extremes, close) at the pair's per-second volatility scaled to the interval.
    """
    if count <= 0 or not (end_price > 0 and math.isfinite(end_price)):
        return []
    rng = random.Random(f"{seed}:{seconds}")
    step_sigma = annual_vol * math.sqrt(seconds / 4 / 31_557_600)
    last_start = bucket(end_ts, seconds) - seconds
    rows: list[Candle] = []
    close = end_price
    for i in range(count):
        path = [close]
        for _ in range(4):
            path.append(path[-1] * math.exp(rng.gauss(0.0, step_sigma)))
        # path runs backwards in time: path[0] is this candle's close, path[-1] its open.
        volume = abs(rng.gauss(0, 1)) * 10 + 1
        rows.append(Candle(last_start - i * seconds, path[-1], max(path), min(path), path[0], volume))
        close = path[-1]
    rows.reverse()
    return rows


def aggregate_ticks(ticks: Sequence[tuple[float, float]], seconds: int) -> list[Candle]:
    """Candles from (ts, price) ticks in time order (the test server's and the demo's own record)."""
    rows: list[Candle] = []
    for ts, price in ticks:
        _add_tick(rows, ts, price, seconds)
    return rows
