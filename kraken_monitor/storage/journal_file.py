"""The journal's file: created 0600 in 0700 directories, opened in WAL mode, checked and migrated."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from kraken_monitor.storage.schema import SchemaTooNew, migrate

SIDECARS = ("-wal", "-shm", "-journal")


class JournalError(RuntimeError):
    """A journal read or write failed; the message is safe to show (it never contains secrets)."""


def _make_private_dirs(directory: Path) -> None:
    """Create missing ancestors with 0700; directories that already exist are the user's and left alone."""
    missing = []
    for parent in (directory, *directory.parents):
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir(mode=0o700, exist_ok=True)
        os.chmod(parent, 0o700)  # mkdir's mode is filtered by the umask


def open_database(path: Path) -> sqlite_utils.Database:
    """The journal's database at `path`, ready to use; any failure is a JournalError saying why."""
    _make_private_dirs(path.parent)
    # Create the file ourselves with 0600 before SQLite does: its default would follow the umask.
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    conn = sqlite3.connect(str(path))
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"cannot enable WAL on {path} (journal_mode={mode})")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable on app crash, fast
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=2000")
        # A damaged file is found now, not at the first write of a crash: "not recording" from the start.
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if str(check).lower() != "ok":
            raise JournalError(f"the journal {path} is damaged (quick_check: {check})")
        db = sqlite_utils.Database(conn)
        migrate(db)
    except (SchemaTooNew, JournalError) as exc:
        conn.close()
        raise JournalError(str(exc)) from None
    except sqlite3.Error as exc:
        conn.close()
        raise JournalError(f"cannot open the journal {path}: {exc}") from None
    return db


def secure_sidecars(path: Path) -> bool:
    """SQLite copies the db's mode to -wal/-shm; chmod anyway so a wide umask can never leak them. True when
    a sidecar was there to secure."""
    secured = False
    for suffix in SIDECARS:
        side = Path(str(path) + suffix)
        if side.exists():
            os.chmod(side, 0o600)
            secured = True
    return secured
