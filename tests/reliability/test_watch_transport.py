"""Contract for `watch --json` (issue 12): a hanging request or a dripping response gives a "stale" line within
the stale window + 5 s; fresh snapshots resume within 10 s after the fault clears. Real process, real server."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from reliability_support import API_KEY, API_SECRET

ROOT = Path(__file__).resolve().parents[2]
STALE_WINDOW_S = 3.0  # the default price interval (1 s) x stale_after_intervals (3)


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put((time.monotonic(), line))


def _wait_for(lines: queue.Queue, kind: str, timeout_s: float) -> float | None:
    """Monotonic time of the next line of `kind` (a snapshot: a fresh one), or None within timeout_s."""
    end = time.monotonic() + timeout_s
    while (left := end - time.monotonic()) > 0:
        try:
            at, line = lines.get(timeout=left)
        except queue.Empty:
            return None
        data = json.loads(line)
        if data.get("type") == kind and (kind != "snapshot" or data.get("stale") is False):
            return at
    return None


@pytest.mark.parametrize("fault", ["hang_after_headers", "drip"])
def test_watch_json_goes_stale_in_time_and_recovers(server, tmp_path, fault):
    server.transport.hang_s = 60
    server.transport.drip_interval_s = 3.0  # the attacker: one byte every 3 s
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
               KRAKEN_API_KEY=API_KEY, KRAKEN_API_SECRET=API_SECRET)
    proc = subprocess.Popen([sys.executable, "-m", "kraken_monitor", "watch", "--mode", "live", "--json",
                             "--api-url", server.url], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    try:
        assert _wait_for(lines, "snapshot", 60) is not None, "watch never printed a fresh snapshot"
        while not lines.empty():  # whatever was printed before the fault does not count
            lines.get_nowait()
        server.inject_fault("Ticker", fault, count=None)
        start = time.monotonic()
        stale_at = _wait_for(lines, "stale", STALE_WINDOW_S + 5 + 10)
        assert stale_at is not None, f"no stale line under {fault}"
        took = stale_at - start
        print(f"\nwatch --json under {fault}: stale line after {took:.1f} s (window {STALE_WINDOW_S:g} s)")
        assert took <= STALE_WINDOW_S + 5
        server.clear_faults()
        cleared = time.monotonic()
        fresh_at = _wait_for(lines, "fresh", 30)
        assert fresh_at is not None and fresh_at - cleared <= 10, "snapshots did not resume within 10 s"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    err = proc.stderr.read()
    assert "Traceback" not in err and API_SECRET not in err and "QThread: Destroyed" not in err
