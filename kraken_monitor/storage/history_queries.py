"""History reads: closed, settled and liquidated positions from the journal's position events, on a
read-only connection of its own (the journal is WAL, so readers never block the poll thread's writes)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from kraken_monitor.domain.history import REASONS, ClosedPosition, history
from kraken_monitor.domain.models import EVENT_REASON_PREFIX
from kraken_monitor.storage.journal import JournalError, alert_from_row
from kraken_monitor.storage.schema import MIGRATIONS

_COLUMNS = ("id, key, level, position_id, pair, margin_level, distance_pct, message, fired_at, stale,"
            " acknowledged_at, snoozed_until, reason, facts")
_FIRST_WITH_REASONS = 3  # schema version that added alerts.reason (schema._v3_alert_reasons)


def open_read_only(path: Path | str) -> sqlite3.Connection | None:
    """A read-only connection, or None when there is no journal yet (nothing has happened: no history)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("PRAGMA busy_timeout=2000")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        raise JournalError(f"cannot read the journal {path}: {exc}") from None
    if version > len(MIGRATIONS):
        conn.close()
        raise JournalError(f"journal schema version {version} is newer than this app ({len(MIGRATIONS)})")
    if version < _FIRST_WITH_REASONS:
        conn.close()
        raise JournalError(f"the journal {path} predates position events (schema {version}): start the app once")
    return conn


def closed_positions(
    conn: sqlite3.Connection | None,
    since: datetime | None = None,
    until: datetime | None = None,
    pair: str | None = None,
) -> list[ClosedPosition]:
    """Positions that ended, newest first; `since`/`until` bound the closing time, `pair` filters."""
    if conn is None:
        return []
    reasons = tuple(EVENT_REASON_PREFIX + r for r in REASONS)
    sql = f"SELECT {_COLUMNS} FROM alerts WHERE reason IN ({','.join('?' * len(reasons))})"
    params: list = list(reasons)
    if since is not None:
        sql += " AND fired_at >= ?"
        params.append(since.timestamp())
    if until is not None:
        sql += " AND fired_at < ?"
        params.append(until.timestamp())
    try:
        rows = conn.execute(sql + " ORDER BY fired_at DESC", params).fetchall()
    except sqlite3.Error as exc:
        raise JournalError(f"history read failed: {exc}") from None
    return history((alert_from_row(r) for r in rows), pair=pair)


def read_history(path: Path | str, since: datetime | None = None, until: datetime | None = None,
                 pair: str | None = None) -> list[ClosedPosition]:
    """Open, read, close: what the headless `history` command needs."""
    conn = open_read_only(path)
    try:
        return closed_positions(conn, since, until, pair)
    finally:
        if conn is not None:
            conn.close()
