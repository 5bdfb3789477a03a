"""Candles kept in the journal (table `candles`, schema v4): saved by the poll thread, read by anyone
on their own connection (the chart reads on a read-only one; WAL keeps readers and the writer apart)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable

import numpy as np

from kraken_monitor.domain.candles import Candle
from kraken_monitor.storage.journal import JournalError

_UPSERT = ("INSERT INTO candles (pair, timeframe, ts, open, high, low, close, volume) VALUES (?,?,?,?,?,?,?,?)"
           " ON CONFLICT(pair, timeframe, ts) DO UPDATE SET open = excluded.open, high = excluded.high,"
           " low = excluded.low, close = excluded.close, volume = excluded.volume")
_SELECT = "SELECT ts, open, high, low, close, volume FROM candles WHERE pair = ? AND timeframe = ? AND ts >= ?"


def save_candles(conn: sqlite3.Connection, pair: str, timeframe: str, candles: Iterable[Candle]) -> int:
    """Upsert in one transaction (a re-fetched candle replaces the kept one); returns the rows written."""
    rows = [(pair, timeframe, c.ts, c.open, c.high, c.low, c.close, c.volume) for c in candles]
    try:
        with conn:
            conn.executemany(_UPSERT, rows)
    except sqlite3.Error as exc:
        raise JournalError(f"saving candles failed: {exc}") from None
    return len(rows)


def load_candles(conn: sqlite3.Connection | None, pair: str, timeframe: str,
                 since: float | None = None) -> list[Candle]:
    """Kept candles of one pair and timeframe from `since`, ascending; [] without a journal."""
    if conn is None:
        return []
    try:
        rows = conn.execute(_SELECT + " ORDER BY ts", (pair, timeframe, -math.inf if since is None else since))
        return [Candle(*r) for r in rows.fetchall()]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []  # a journal the app has not migrated yet: nothing kept
        raise JournalError(f"reading candles failed: {exc}") from None


def load_candle_arrays(conn: sqlite3.Connection | None, pair: str, timeframe: str,
                       since: float | None = None) -> np.ndarray:
    """The same as an (n, 6) float64 array (ts, o, h, l, c, v) for the chart buffer, without Candle objects."""
    if conn is None:
        return np.empty((0, 6))
    try:
        rows = conn.execute(_SELECT + " ORDER BY ts", (pair, timeframe, -math.inf if since is None else since)).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return np.empty((0, 6))
        raise JournalError(f"reading candles failed: {exc}") from None
    return np.array(rows, dtype=np.float64).reshape(-1, 6)
