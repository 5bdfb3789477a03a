"""kill -9 the headless watcher at random moments while it journals, 50 times: the file is never damaged.

Two lanes (one database each, reused across kills so history accumulates) run side by side to keep the
wall time down. After every kill: `PRAGMA integrity_check` is ok, everything the watcher had committed
before the kill is still there (last cycle mark and row counts never go backwards), and the last cycle
is whole (its mark, its account row and its position rows come from one transaction).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KILLS = 50
LANES = 2
TABLES = ("ticks", "account_snapshots", "position_snapshots", "alerts", "actions")


def _read(db: Path) -> dict | None:
    """What is committed right now, from a separate connection (WAL: never blocks the writer)."""
    if not db.exists():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'last_cycle_ts'").fetchone()
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
        return {"last": None if row is None else float(row[0]), "counts": counts}
    except sqlite3.OperationalError:
        return None  # schema still being created by the first run
    finally:
        conn.close()


def _check_after_kill(db: Path, seen: dict | None) -> dict:
    conn = sqlite3.connect(str(db))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        last = float(conn.execute("SELECT value FROM meta WHERE key = 'last_cycle_ts'").fetchone()[0])
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
        # The cycle mark is written in the same transaction as the cycle's account row.
        assert conn.execute("SELECT MAX(ts) FROM account_snapshots").fetchone()[0] == last
        pos_ts = conn.execute("SELECT MAX(ts) FROM position_snapshots").fetchone()[0]
        assert pos_ts is not None and pos_ts <= last
        # Position rows of a cycle never appear without that cycle's account row (all or nothing).
        assert conn.execute("SELECT COUNT(*) FROM account_snapshots WHERE ts = ?", (pos_ts,)).fetchone()[0] == 1
        orphans = conn.execute("SELECT COUNT(*) FROM position_snapshots p WHERE NOT EXISTS"
                               " (SELECT 1 FROM account_snapshots a WHERE a.ts = p.ts)").fetchone()[0]
        assert orphans == 0
        for (state,) in conn.execute("SELECT state FROM paper_state"):
            assert state.startswith("{") and state.endswith("}")
    finally:
        conn.close()
    if seen is not None:
        assert last >= seen["last"], "a committed cycle was lost"
        for table, n in seen["counts"].items():
            assert counts[table] >= n, f"{table}: {n} committed rows, {counts[table]} after the kill"
    return {"last": last, "counts": counts}


def _lane(lane: int, kills: int, base: Path) -> list[dict]:
    rng = random.Random(1000 + lane)
    db = base / f"lane{lane}.sqlite3"
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(base / f"home{lane}"), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    cmd = [sys.executable, "-m", "kraken_monitor", "watch", "--mode", "demo", "--db", str(db),
           "--interval", "0.05", "--speed", "600", "--json"]
    history = []
    previous = None
    for _ in range(kills):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
        try:
            deadline = time.monotonic() + 30
            while True:  # wait until this run has committed at least one new cycle
                state = _read(db)
                if state and state["last"] and (previous is None or state["last"] > previous["last"]):
                    break
                assert proc.poll() is None, "the watcher exited on its own"
                assert time.monotonic() < deadline, "the watcher wrote nothing"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the stream of ~40 writes per second
            seen = _read(db)  # committed just before the kill
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        previous = _check_after_kill(db, seen)
        history.append(previous)
    return history


def test_kill_minus_nine_fifty_times(tmp_path):
    with ThreadPoolExecutor(max_workers=LANES) as pool:
        lanes = list(pool.map(lambda i: _lane(i, KILLS // LANES, tmp_path), range(LANES)))
    survived = sum(len(h) for h in lanes)
    assert survived == KILLS
    for history in lanes:
        # History accumulated across the kills (the same file each time) and never went backwards.
        lasts = [h["last"] for h in history]
        assert lasts == sorted(lasts) and len(set(lasts)) == len(lasts)
        assert history[-1]["counts"]["account_snapshots"] > history[0]["counts"]["account_snapshots"]
    print(f"kills survived: {survived}")
