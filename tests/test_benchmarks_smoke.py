"""benchmarks/run.py --quick --json runs end to end and reports every key (no timing assertions)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = {
    "recompute_1000_ms", "recompute_1000_mixed_ms", "tick_to_screen_p50_ms", "tick_to_screen_p99_ms", "table_update_1000_ms",
    "chart_update_1m_ms", "sqlite_cycle_write_ms", "alert_to_popup_ms", "peak_rss_mb", "signal_emits_ok",
    "price_to_signal_p50_ms", "price_to_signal_p99_ms", "worker_cycle_write_ms",
    "kraken_fetch_tickers_ms", "kraken_fetch_account_ms",
    "recompute_1000_uncached_ms", "recompute_ratio", "table_update_naive_ms", "table_update_ratio",
    "sqlite_insert_all_naive_ms", "sqlite_cycle_write_ratio",
    "stream_to_paint_p50_ms", "stream_to_paint_p99_ms", "poll_to_paint_p50_ms", "poll_to_paint_p99_ms",
    "loopback_rtt_ms", "stream_p99_goal_ms", "poll_stream_p50_ratio", "poll_stream_p99_ratio",
    "idle_cpu_pct_one_core", "soak_rss_growth_mb",
}
BOOLS = {"signal_emits_ok", "stream_p99_within_goal"}
SIGNED = {"soak_rss_growth_mb"}  # RSS can shrink over the soak


def test_quick_run_prints_every_key_as_last_json_line():
    # startup_ms (spawns the whole app six times) is left to the full run to keep this test fast.
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    groups = ["recompute", "sqlite", "table", "chart", "tick", "alert", "rss", "signals", "worker", "exchange",
              "stream", "idle"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--json", "--quick", "--only", *groups],
        capture_output=True, text=True, env=env, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result.keys() >= KEYS | BOOLS
    assert result["_meta"]["errors"] == []
    for key in KEYS - SIGNED - BOOLS:
        assert isinstance(result[key], float) and result[key] > 0, key
    for key in SIGNED:
        assert isinstance(result[key], float), key
    assert result["signal_emits_ok"] is True
    assert isinstance(result["stream_p99_within_goal"], bool)  # a measurement, not a pass/fail here
