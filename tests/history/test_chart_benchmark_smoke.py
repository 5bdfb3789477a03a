"""benchmarks/chart_history.py --quick runs and reports every figure beside its naive baseline (no timing asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"line_1m_pan_ms", "line_1m_pan_naive_ms", "candles_100k_load_ms", "candles_100k_pan_ms",
        "candles_100k_load_naive_ms", "candles_100k_pan_naive_ms"}


def test_quick_chart_history_benchmark_reports_every_key():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "chart_history.py"), "--quick"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result.keys() >= KEYS and all(result[k] > 0 for k in KEYS)
