"""OHLC for the Kraken test server: candles aggregated from the trades it learnt, or flat ones at the price."""

from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from kraken_monitor.testing.kraken_data import PairSpec
from kraken_monitor.testing.kraken_sim import fmt_decimal

if TYPE_CHECKING:
    from kraken_monitor.testing.kraken_sim import KrakenSim


def add_trades(sim: KrakenSim, pair: str, trades: Iterable[tuple[float, Decimal] | tuple[float, Decimal, Decimal]]) -> None:
    """Trades the server learns: its OHLC is then built from them, as Kraken builds candles."""
    with sim._lock:
        rows = sim.trades.setdefault(sim.spec(pair).symbol, [])
        rows.extend((float(t[0]), Decimal(t[1]), Decimal(t[2]) if len(t) > 2 else Decimal(1)) for t in trades)
        rows.sort(key=lambda r: r[0])


def ohlc_payload(sim: KrakenSim, pair: str, interval: int, since: int | None) -> dict:
    """OHLC: candles from the trades the server learnt (as Kraken builds them), else flat ones at the price."""
    with sim._lock:
        spec = sim.spec(pair)
        last = sim.prices[spec.symbol]
        trades = list(sim.trades.get(spec.symbol, ()))
    step = interval * 60
    if trades:
        return _ohlc_from_trades(spec, trades, step, since)
    end = int(time.time()) // step * step
    start = max(since or 0, end - 99 * step) // step * step
    px = lambda v: fmt_decimal(v, spec.pair_decimals)  # noqa: E731
    rows = [[t, px(last), px(last * Decimal("1.001")), px(last * Decimal("0.999")), px(last), px(last),
             "1.00000000", 10] for t in range(start, end + 1, step)]
    return {spec.id: rows, "last": end}


def _ohlc_from_trades(spec: PairSpec, trades: list[tuple[float, Decimal, Decimal]], step: int, since: int | None) -> dict:
    """Kraken's OHLC shape: {id: [[time, open, high, low, close, vwap, volume, count], ...], "last": t}:
    candles starting after `since`, the newest 720; `last` is the newest *closed* candle's time."""
    buckets: dict[int, list[tuple[Decimal, Decimal]]] = {}
    for ts, price, volume in trades:
        buckets.setdefault(int(ts) // step * step, []).append((price, volume))
    px = lambda v: fmt_decimal(v, spec.pair_decimals)  # noqa: E731
    rows = []
    for start in sorted(buckets):
        if since is not None and start <= since:
            continue
        fills = buckets[start]
        prices = [p for p, _ in fills]
        volume = sum((v for _, v in fills), Decimal(0))
        vwap = sum((p * v for p, v in fills), Decimal(0)) / volume if volume else prices[-1]
        rows.append([start, px(prices[0]), px(max(prices)), px(min(prices)), px(prices[-1]), px(vwap),
                     f"{volume:.8f}", len(fills)])
    rows = rows[-720:]
    last = rows[-2][0] if len(rows) > 1 else (rows[-1][0] if rows else int(since or 0))
    return {spec.id: rows, "last": last}
