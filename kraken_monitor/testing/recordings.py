"""Recorded journals for tests: the real poller playing the demo crash into a real SQLite file."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from kraken_monitor.config import MonitorConfig


def record_demo_crash(directory: Path, max_cycles: int = 1000):
    """The real poller on the demo crash (speed 120: three market minutes in 1.5 s) until the liquidation.

    Returns (config, every snapshot built, every alert fired with its journal id), in order.
    """
    from kraken_monitor.worker.opening import open_poller

    config = MonitorConfig(mode="demo", db_path=Path(directory) / "demo.sqlite3", demo_speed=120.0,
                           demo_scenario="crash")
    poller = open_poller(config).poller
    snapshots, fired = [], []
    try:
        for _ in range(max_cycles):
            now = datetime.now(timezone.utc)
            poller.poll_account(now)
            poller.poll_prices(now)
            snap = poller.build_snapshot(now)
            fired.extend(poller.persist(snap))
            snapshots.append(snap)
            if any(a.reason == "position_liquidated" for a in fired):
                break
            time.sleep(0.02)
    finally:
        poller.flush()
    if not any(a.reason == "position_liquidated" for a in fired):
        raise AssertionError("the demo crash liquidated nothing")
    return config, snapshots, fired
