"""Replay reads: a past cycle's account, positions, prices, rules and alerts, on a read-only connection of its own.

The journal is WAL, so this reader never blocks the poll thread's writes. Every read is an index
seek (account_snapshots by ts, position_states and pair_rules_log by key and ts, ticks by pair and
ts) or a rowid range (one cycle's position rows): replaying a year-old moment costs what a recent one does.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.models import AccountFigures, Alert, Risk, Ticker
from kraken_monitor.domain.replay import RecordedCycle, Replayed, rebuild
from kraken_monitor.storage.history_queries import open_read_only
from kraken_monitor.storage.journal import JournalError, alert_from_row
from kraken_monitor.storage.replay_rows import orders_from_state, position_from_state, rules_from_state
from kraken_monitor.storage.retention import rowid_at

__all__ = ["NotReplayable", "neighbour_cycle", "open_read_only", "read_replay", "recorded_cycle", "replay_at",
           "replay_range"]

FIRST_WITH_REPLAY = 5  # schema version that keeps what a replay needs (schema._v5_replay)
FIRST_WITH_ORDERS = 6  # ... and the open orders read with the account (schema._v6_orders_log)
ALERTS_KEPT = 1000  # as many as the alert log shows
_ACCOUNT = ("SELECT ts, mode, stale, trade_balance, equity, used_margin, free_margin, margin_level,"
            " margin_level_exchange, risk, currency, positions_ts, stale_reason, margin_call_level,"
            " liquidation_level, connection, res FROM account_snapshots")
_ALERTS = ("SELECT id, key, level, position_id, pair, margin_level, distance_pct, message, fired_at, stale,"
           " acknowledged_at, snoozed_until, reason, facts FROM alerts WHERE fired_at <= ? ORDER BY id DESC LIMIT ?")


class NotReplayable(JournalError):
    """The journal holds nothing to replay at that time (before its first cycle, or before replay existed)."""


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def replay_range(conn: sqlite3.Connection | None) -> tuple[datetime, datetime] | None:
    """First and last replayable cycle, or None (no journal, nothing recorded since replay existed)."""
    if conn is None or _version(conn) < FIRST_WITH_REPLAY:
        return None
    try:
        last = conn.execute("SELECT MAX(ts) FROM account_snapshots").fetchone()[0]
        # The first row that kept `positions_ts`: the index walks from the oldest, rows before v5 are skipped.
        first = conn.execute("SELECT ts FROM account_snapshots WHERE positions_ts IS NOT NULL ORDER BY ts LIMIT 1"
                             ).fetchone()
    except sqlite3.Error as exc:
        raise JournalError(f"replay read failed: {exc}") from None
    if last is None or first is None:
        return None
    return _dt(first[0]), _dt(last)


def recorded_cycle(conn: sqlite3.Connection | None, at: datetime) -> RecordedCycle:
    """The last cycle at or before `at`, as the journal kept it; raises NotReplayable when there is none."""
    if conn is None:
        raise NotReplayable("no journal yet: nothing has been recorded")
    if _version(conn) < FIRST_WITH_REPLAY:
        raise NotReplayable("the journal predates replay: start the app once, then replay what it records")
    try:
        return _read_cycle(conn, at.timestamp())
    except sqlite3.Error as exc:
        raise JournalError(f"replay read failed: {exc}") from None


def _read_cycle(conn: sqlite3.Connection, at: float) -> RecordedCycle:
    row = conn.execute(_ACCOUNT + " WHERE ts <= ? ORDER BY ts DESC LIMIT 1", (at,)).fetchone()
    if row is None:
        raise NotReplayable(f"nothing recorded at or before {_dt(at).isoformat(timespec='seconds')}")
    (ts, mode, stale, tb, equity, used, free, level, level_x, risk, currency, positions_ts, stale_reason,
     call, liq, connection, res) = row
    if positions_ts is None or currency is None:
        raise NotReplayable(f"the cycle at {_dt(ts).isoformat(timespec='seconds')} was recorded before replay existed")
    account = AccountFigures(currency=currency, trade_balance=Decimal(tb), equity=_dec(equity), used_margin=_dec(used),
                             free_margin=_dec(free), margin_level=_dec(level), margin_level_exchange=_dec(level_x),
                             margin_call_level=Decimal(call), liquidation_level=Decimal(liq), risk=Risk(risk))
    following = conn.execute("SELECT MIN(ts) FROM account_snapshots WHERE ts > ?", (ts,)).fetchone()[0]
    ids, thinned = _position_ids(conn, positions_ts, res)
    positions = tuple(_position(conn, pid, positions_ts) for pid in ids)
    reason = stale_reason or ""
    if thinned:
        note = "replay: older history is thinned to one row per minute/hour, positions are approximate"
        reason = f"{reason}; {note}" if reason else note
    return RecordedCycle(
        mode=mode, as_of=_dt(ts), stale=bool(stale) or thinned, stale_reason=reason, connection=connection or "ok",
        account=account, positions=tuple(p for p in positions if p is not None),
        tickers=_tickers(conn, math.inf if following is None else following), rules=_rules(conn, positions_ts),
        account_as_of=_dt(positions_ts), prices_as_of=_dt(ts), alerts=_alerts(conn, ts),
        orders=_orders(conn, positions_ts),
    )


def _position_ids(conn: sqlite3.Connection, positions_ts: float, res: int) -> tuple[list[str], bool]:
    """The positions open at the account read of `positions_ts`: its own rows, found as a rowid range."""
    first = rowid_at(conn, "position_snapshots", positions_ts)
    if first is not None:
        end = rowid_at(conn, "position_snapshots", math.nextafter(positions_ts, math.inf), past_end=True)
        rows = conn.execute("SELECT position_id FROM position_snapshots WHERE rowid >= ? AND rowid < ? AND ts = ?",
                            (first, end, positions_ts)).fetchall()
        if rows or not res:
            return [r[0] for r in rows], False
    if not res:
        return [], False
    # Retention kept one row per position per minute/hour: the last rows of the window ending at that read.
    start = rowid_at(conn, "position_snapshots", positions_ts - res)
    end = rowid_at(conn, "position_snapshots", math.nextafter(positions_ts, math.inf), past_end=True)
    if start is None:
        return [], True
    rows = conn.execute("SELECT DISTINCT position_id FROM position_snapshots WHERE rowid >= ? AND rowid < ?",
                        (start, end)).fetchall()
    return [r[0] for r in rows], True


def _position(conn: sqlite3.Connection, position_id: str, ts: float):
    row = conn.execute("SELECT state FROM position_states WHERE position_id = ? AND ts <= ? ORDER BY ts DESC LIMIT 1",
                       (position_id, ts)).fetchone()
    return None if row is None else position_from_state(row[0])


def _orders(conn: sqlite3.Connection, ts: float) -> tuple:
    """The open orders read with the account at `ts` (the newest list journalled at or before it)."""
    if _version(conn) < FIRST_WITH_ORDERS:
        return ()
    row = conn.execute("SELECT orders FROM orders_log WHERE ts <= ? ORDER BY ts DESC LIMIT 1", (ts,)).fetchone()
    return () if row is None else orders_from_state(row[0])


def _rules(conn: sqlite3.Connection, ts: float) -> dict:
    # SQLite's bare columns with MAX(): each pair's row of its newest rules at or before `ts`.
    rows = conn.execute("SELECT pair, rules, MAX(ts) FROM pair_rules_log WHERE ts <= ? GROUP BY pair", (ts,))
    return {pair: rules_from_state(text) for pair, text, _ in rows.fetchall()}


def _tickers(conn: sqlite3.Connection, before: float) -> dict[str, Ticker]:
    """Each pair's newest price read before the next cycle (a ticker is stamped when it was fetched,
    just after its cycle began)."""
    pairs = [r[0] for r in conn.execute(
        "WITH RECURSIVE p(x) AS (SELECT MIN(pair) FROM ticks UNION ALL"
        " SELECT (SELECT MIN(pair) FROM ticks WHERE pair > x) FROM p WHERE x IS NOT NULL)"
        " SELECT x FROM p WHERE x IS NOT NULL").fetchall()]
    tickers = {}
    for pair in pairs:
        row = conn.execute("SELECT bid, ask, last, ts FROM ticks WHERE pair = ? AND ts < ? ORDER BY ts DESC LIMIT 1",
                           (pair, before)).fetchone()
        if row is not None:
            tickers[pair] = Ticker(pair, Decimal(row[0]), Decimal(row[1]), Decimal(row[2]), _dt(row[3]))
    return tickers


def _alerts(conn: sqlite3.Connection, ts: float) -> tuple[Alert, ...]:
    return tuple(alert_from_row(r) for r in conn.execute(_ALERTS, (ts, ALERTS_KEPT)).fetchall())


def replay_at(conn: sqlite3.Connection | None, at: datetime, thresholds: AlertThresholds | None = None) -> Replayed:
    """The snapshot and alert log as they were at `at` (the last cycle at or before it)."""
    return rebuild(recorded_cycle(conn, at), thresholds)


def read_replay(path: Path | str, at: datetime, thresholds: AlertThresholds | None = None) -> Replayed:
    """Open, read, close: what the headless `replay` command needs."""
    conn = open_read_only(path)
    try:
        return replay_at(conn, at, thresholds)
    finally:
        if conn is not None:
            conn.close()


def neighbour_cycle(conn: sqlite3.Connection | None, at: datetime, later: bool) -> datetime | None:
    """The recorded cycle just after (`later`) or just before `at`; None at either end of the journal."""
    if conn is None:
        return None
    sql = ("SELECT MIN(ts) FROM account_snapshots WHERE ts > ?" if later
           else "SELECT MAX(ts) FROM account_snapshots WHERE ts < ?")
    try:
        ts = conn.execute(sql, (at.timestamp(),)).fetchone()[0]
    except sqlite3.Error as exc:
        raise JournalError(f"replay read failed: {exc}") from None
    return _dt(ts)
