"""Soak: 10,000 accelerated demo poll cycles (fake clock, 1 simulated second each) through Poller + journal.

Resident memory grows < 10% after warm-up, no thread or file-descriptor leak, and the journal holds what the
retention policy predicts (full resolution inside the window, one row per minute older than that).
"""

from __future__ import annotations

import gc
import os
import threading

from reliability_support import FakeClock

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.factory import create_exchange
from kraken_monitor.storage.journal import Journal
from kraken_monitor.worker.cycle import Poller

CYCLES = 10_000
WARM_UP = 1_000
WINDOW_S = 3600  # full-resolution window for this run: 1 h, so 2.8 simulated hours exercise downsampling


def _rss() -> int:
    """Resident set size from /proc (psutil is not in the venv; CI runs Linux)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_ten_thousand_cycles(tmp_path):
    gc.collect()
    threads0, fds0 = set(threading.enumerate()), _fds()  # earlier tests' daemon threads may end meanwhile
    clock = FakeClock()
    config = MonitorConfig(mode="demo", price_interval_s=1.0, account_interval_s=1.0,
                           full_resolution_days=WINDOW_S / 86400)
    journal = Journal.open(tmp_path / "soak.sqlite3")
    poller = Poller(config, create_exchange(config, clock=clock.now), journal, monotonic=clock.monotonic)
    rss = []
    for i in range(CYCLES):
        clock.advance(1.0)
        now = clock.now()
        poller.poll_account(now)
        poller.poll_prices(now)
        snap = poller.build_snapshot(now)
        assert not snap.stale, snap.stale_reason
        poller.persist(snap)
        if i == WARM_UP or i == CYCLES - 1:
            gc.collect()
            rss.append(_rss())
    pairs = sorted(poller.tickers)
    counts = journal.row_counts()
    size = journal.size_bytes()
    ticks = {p: journal.conn.execute("SELECT COUNT(*) FROM ticks WHERE pair = ?", (p,)).fetchone()[0] for p in pairs}
    poller.flush()
    gc.collect()

    growth = (rss[1] - rss[0]) / rss[0] * 100
    print(f"\nsoak: {CYCLES} cycles, RSS {rss[0] / 2**20:.1f} -> {rss[1] / 2**20:.1f} MiB ({growth:+.1f}%), "
          f"db {size / 2**20:.2f} MiB, rows {counts}")
    assert growth < 10, f"resident memory grew {growth:.1f}% after warm-up"
    assert not set(threading.enumerate()) - threads0, "a thread was left running"
    assert _fds() <= fds0, "a file descriptor leaked"

    # Retention runs hourly (simulated) in 5-minute windows: the newest WINDOW_S at full resolution, at most
    # one more hour + one window not yet downsampled, older history one row per minute.
    older_minutes = (CYCLES - WINDOW_S) / 60
    for pair, n in ticks.items():
        assert WINDOW_S <= n <= 2 * WINDOW_S + 300 + older_minutes + 1, f"{pair}: {n} ticks"
    assert counts["account_snapshots"] <= 2 * WINDOW_S + 300 + older_minutes + 1
    assert counts["account_snapshots"] >= WINDOW_S
    # Without retention the journal would hold CYCLES rows per series; it holds well under that.
    assert sum(ticks.values()) < 0.8 * CYCLES * len(pairs)
