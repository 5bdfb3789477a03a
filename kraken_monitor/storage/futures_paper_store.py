"""The paper futures account's file: one 0600 SQLite beside the journal, its paper_state row saved in one transaction.

Threading contract: the futures poll thread opens, uses and closes it (sqlite3's check_same_thread stays on).
It is a file of its own, not a second connection into the journal, because the journal belongs to the spot
poll thread; it keeps the journal's conventions (0600, WAL, the `paper_state` table keyed by mode, JSON with
Decimals as strings). A save is one SQLite transaction: a crash leaves the previous state or the new one,
never half of either.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

SUFFIX = "-futures"


class FuturesStoreError(Exception):
    """The file cannot be opened, read or written (its reason; the caller keeps running unsaved)."""


def futures_paper_path(journal_path: Path | str) -> Path:
    """kraken-monitor-paper.sqlite3 -> kraken-monitor-paper-futures.sqlite3 (a `--db` file gets the same)."""
    path = Path(journal_path)
    return path.with_name(path.stem + SUFFIX + path.suffix)


class FuturesPaperStore:
    """`load(mode)` / `save(mode, state)`; the state is what PaperFuturesExchange.export_state returns."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path, self.conn = path, conn
        self.db = sqlite_utils.Database(conn)

    @classmethod
    def open(cls, path: Path | str) -> FuturesPaperStore:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # 0600 before SQLite makes it
            os.chmod(path, 0o600)
            conn = sqlite3.connect(str(path))
        except OSError as exc:
            raise FuturesStoreError(f"cannot open {path}: {exc.strerror or exc}") from None
        except sqlite3.Error as exc:
            raise FuturesStoreError(f"cannot open {path}: {exc}") from None
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # money state: durable at commit
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if str(check).lower() != "ok":
                raise FuturesStoreError(f"{path} is damaged (quick_check: {check})")
            store = cls(path, conn)
            if "paper_state" not in store.db.table_names():
                store.db["paper_state"].create({"mode": str, "state": str, "updated_at": float}, pk="mode")
        except sqlite3.Error as exc:
            conn.close()
            raise FuturesStoreError(f"cannot open {path}: {exc}") from None
        except FuturesStoreError:
            conn.close()
            raise
        return store

    def load(self, mode: str) -> dict | None:
        try:
            row = self.conn.execute("SELECT state FROM paper_state WHERE mode = ?", (mode,)).fetchone()
        except sqlite3.Error as exc:
            raise FuturesStoreError(f"cannot read {self.path}: {exc}") from None
        if row is None:
            return None
        try:
            state = json.loads(row[0])
        except ValueError:
            raise FuturesStoreError(f"the saved {mode} futures account in {self.path} is not JSON") from None
        if not isinstance(state, dict):
            raise FuturesStoreError(f"the saved {mode} futures account in {self.path} is not an object")
        return state

    def save(self, mode: str, state: Mapping, now: datetime | None = None) -> None:
        text = json.dumps(dict(state), sort_keys=True)
        when = (now or datetime.now(timezone.utc)).timestamp()
        try:
            with self.conn:  # one transaction: committed whole, or rolled back
                self.conn.execute(
                    "INSERT INTO paper_state (mode, state, updated_at) VALUES (?,?,?)"
                    " ON CONFLICT(mode) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                    (mode, text, when))
        except sqlite3.Error as exc:
            raise FuturesStoreError(f"cannot save to {self.path}: {exc}") from None

    def close(self) -> None:
        self.conn.close()
