"""Journal retention: old history downsampled to one row per series per minute, then per hour."""

from __future__ import annotations

import math
import sqlite3
import time

import sqlite_utils

MINUTE = 60
HOUR = 3600
DAY = 86400
HOURLY_AFTER_DAYS = 90.0
DEFAULT_FULL_RESOLUTION_DAYS = 7.0
# (table, column that identifies one series); retention keeps one row per series per bucket.
SERIES = (("ticks", "pair"), ("account_snapshots", "mode"), ("position_snapshots", "position_id"))


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def apply_retention(
    db: sqlite_utils.Database,
    now_ts: float,
    full_resolution_days: float = DEFAULT_FULL_RESOLUTION_DAYS,
    *,
    hourly_after_days: float = HOURLY_AFTER_DAYS,
    budget_s: float | None = 0.25,
) -> dict[str, int]:
    """Downsample old rows: older than `full_resolution_days` one per series per minute (the last,
    ticks keep the minute's low/high), older than `hourly_after_days` one per hour.

    Works in small time windows, each its own short transaction, and stops after `budget_s` so a
    poll cycle is never blocked for long; the next call carries on (progress is kept in `meta`).
    Returns rows deleted per table and `done` (1 when nothing older is left to downsample).
    """
    deadline = None if budget_s is None else time.monotonic() + budget_s
    counts = {table: 0 for table, _ in SERIES}
    done = 1
    # Minute windows of 5 minutes, hour windows of 1 hour: small enough to be quick per commit.
    for res, window, age_days in ((MINUTE, 300, full_resolution_days), (HOUR, HOUR, hourly_after_days)):
        cutoff = (now_ts - age_days * DAY) // window * window
        for table, series in SERIES:
            finished = _downsample(db, table, series, res, window, cutoff, counts, deadline)
            done = done and finished
    counts["done"] = int(done)
    return counts


def _downsample(db: sqlite_utils.Database, table: str, series: str, res: int, window: int, cutoff: float,
                counts: dict[str, int], deadline: float | None) -> bool:
    mark = f"retention:{table}:{res}"
    start = _next_start(db.conn, table, float(get_meta(db.conn, mark) or -math.inf), window)
    while start is not None and start < cutoff:
        if deadline is not None and time.monotonic() > deadline:
            return False
        end = start + window
        # The window as a rowid range: ticks and positions have no time index (it slowed every
        # cycle's inserts), and a rowid range is the cheapest scan there is.
        first = _rowid_at(db.conn, table, start)
        bounds = {"a": first, "b": _rowid_at(db.conn, table, end, past_end=True), "res": res}
        with db.atomic():
            if table == "ticks":
                db.conn.execute(
                    "UPDATE ticks SET res = :res, low_f = agg.lo, high_f = agg.hi FROM ("
                    " SELECT MAX(rowid) AS rid, MIN(COALESCE(low_f, last_f)) AS lo,"
                    " MAX(COALESCE(high_f, last_f)) AS hi FROM ticks"
                    " WHERE rowid >= :a AND rowid < :b AND res < :res GROUP BY pair, CAST(ts / :res AS INTEGER)"
                    ") AS agg WHERE ticks.rowid = agg.rid", bounds)
            else:
                db.conn.execute(
                    f"UPDATE {table} SET res = :res WHERE rowid IN (SELECT MAX(rowid) FROM {table}"
                    f" WHERE rowid >= :a AND rowid < :b AND res < :res GROUP BY {series}, CAST(ts / :res AS INTEGER))",
                    bounds)
            cur = db.conn.execute(f"DELETE FROM {table} WHERE rowid >= :a AND rowid < :b AND res < :res", bounds)
            counts[table] += cur.rowcount
            set_meta(db.conn, mark, repr(end))
        start = _next_start(db.conn, table, end, window)
    return True


def _rowid_at(conn: sqlite3.Connection, table: str, ts: float, past_end: bool = False) -> int | None:
    """The smallest rowid whose row has `ts` at or after `ts` (None, or MAX(rowid) + 1 with `past_end`,
    when no row is that new).

    A binary search over the rowid: rows are appended cycle by cycle, so ts grows with the rowid.
    If the clock once stepped back, a window's range can include a few out-of-order rows; they are
    still grouped by their own minute/hour, so at worst a bucket keeps two rows, and none is skipped.
    """
    # Two queries: SQLite answers a lone MIN or MAX with one seek, but both together with a full scan.
    low = conn.execute(f"SELECT MIN(rowid) FROM {table}").fetchone()[0]
    high = conn.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0]
    if low is None:
        return 1 if past_end else None
    end = high + 1
    probe = f"SELECT rowid, ts FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT 1"
    # Invariant: the first row at or after `high` is new enough (or there is none: high == end).
    high = end
    while low < high:
        mid = (low + high) // 2
        row = conn.execute(probe, (mid,)).fetchone()  # exists: mid < end
        if row[1] >= ts:
            high = mid
        else:
            low = row[0] + 1  # every row up to this one is older
    if low >= end:
        return end if past_end else None
    return conn.execute(probe, (low,)).fetchone()[0]


rowid_at = _rowid_at  # replay_queries finds one cycle's position rows the same way (no time index)


def _next_start(conn: sqlite3.Connection, table: str, after: float, window: int) -> float | None:
    """The window holding the oldest row at or after `after` (skips gaps when the app was off)."""
    rowid = _rowid_at(conn, table, after)
    if rowid is None:
        return None
    ts = conn.execute(f"SELECT ts FROM {table} WHERE rowid = ?", (rowid,)).fetchone()[0]
    return max(after, ts // window * window)


def estimated_year_size_bytes(
    pairs: int,
    positions: int,
    poll_interval: float,
    *,
    bytes_per_tick: float,
    bytes_per_account_row: float,
    bytes_per_position_row: float,
    account_interval: float = 3.0,
    full_resolution_days: float = DEFAULT_FULL_RESOLUTION_DAYS,
    hourly_after_days: float = HOURLY_AFTER_DAYS,
) -> float:
    """Steady-state journal size after a year under the retention policy, from measured bytes per row.

    Every `poll_interval` a cycle writes one tick per pair and one account row; position rows follow
    the account reads (`account_interval`). Rows older than the full-resolution window are one per
    series per minute, older than `hourly_after_days` one per hour.
    """
    year_s = 365 * DAY
    full_s = min(full_resolution_days * DAY, year_s)
    minute_s = max(0.0, min(hourly_after_days * DAY, year_s) - full_s)
    hour_s = max(0.0, year_s - max(full_s, hourly_after_days * DAY))
    downsampled = minute_s / MINUTE + hour_s / HOUR
    per_poll_series = full_s / poll_interval + downsampled
    per_position = full_s / max(account_interval, poll_interval) + downsampled
    return (per_poll_series * (pairs * bytes_per_tick + bytes_per_account_row)
            + per_position * positions * bytes_per_position_row)
