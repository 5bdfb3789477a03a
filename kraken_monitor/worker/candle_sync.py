"""Candles for the chart, in the poll thread: the kept ones from the journal, topped up from the venue.

A failed fetch keeps what the journal has (the chart then says how old its newest candle is), never
an empty chart that looks like "no history".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from kraken_monitor.domain.candles import timeframe_seconds
from kraken_monitor.exchange.errors import ExchangeError
from kraken_monitor.storage.candles import load_candle_arrays, save_candles
from kraken_monitor.storage.journal import JournalError

log = logging.getLogger(__name__)
CANDLES_KEY = "candles"  # the key in `history_ready`'s dict that carries a CandleSet


@dataclass(frozen=True)
class CandleSet:
    """One pair's candles of one timeframe: an (n, 6) float64 array (ts, open, high, low, close, volume)."""

    pair: str
    timeframe: str
    rows: np.ndarray
    error: str = ""  # why the venue's newest candles are missing ("" when the fetch worked)


def sync_candles(exchange: Any, journal: Any, pair: str, timeframe: str) -> CandleSet:
    """Fetch from the newest kept candle on (it may still have been open), keep them, return all kept.

    Without a journal the venue's answer is returned as is.
    """
    timeframe_seconds(timeframe)
    conn = journal.conn if journal is not None else None
    kept = load_candle_arrays(conn, pair, timeframe)
    since = float(kept[-1, 0]) if len(kept) else None
    try:
        fetched = exchange.fetch_ohlcv(pair, timeframe, since)
    except ExchangeError as exc:
        log.warning("candles for %s %s unavailable: %s", pair, timeframe, exc)
        return CandleSet(pair, timeframe, kept, str(exc))
    if conn is None:
        rows = np.array([(c.ts, c.open, c.high, c.low, c.close, c.volume) for c in fetched], dtype=np.float64)
        return CandleSet(pair, timeframe, rows.reshape(-1, 6))
    try:
        save_candles(conn, pair, timeframe, fetched)
    except JournalError as exc:
        log.error("candles not kept: %s", exc)
    return CandleSet(pair, timeframe, load_candle_arrays(conn, pair, timeframe))
