"""A live session disables core dumps: with `ulimit -c unlimited`, SIGABRT leaves no core (or none with the secret)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_support import API_KEY, API_SECRET, SECRET_BYTES

resource = pytest.importorskip("resource")
ROOT = Path(__file__).resolve().parents[2]


def _unlimited_core() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _cores(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name == "core" or p.name.startswith("core.")]


def _platform_writes_cores(tmp_path: Path) -> bool:
    """Control: a plain Python process aborted under `ulimit -c unlimited` leaves a core in its directory."""
    where = tmp_path / "control"
    where.mkdir()
    subprocess.run([sys.executable, "-c", "import os; os.abort()"], cwd=where, preexec_fn=_unlimited_core,
                   capture_output=True, timeout=60)
    found = bool(_cores(where))
    for core in _cores(where):
        core.unlink()
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="core files and /proc are checked on Linux")
def test_live_watch_aborted_leaves_no_core_with_the_secret(server, tmp_path):
    writes_cores = _platform_writes_cores(tmp_path)
    where = tmp_path / "live"
    where.mkdir()
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
               KRAKEN_API_KEY=API_KEY, KRAKEN_API_SECRET=API_SECRET)
    proc = subprocess.Popen([sys.executable, "-m", "kraken_monitor", "watch", "--mode", "live", "--json",
                             "--api-url", server.url], cwd=where, env=env, preexec_fn=_unlimited_core,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = json.loads(proc.stdout.readline())  # the key is loaded and used: the account was read
        assert line["type"] in ("snapshot", "stale"), line
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        core_limit = next(row for row in limits.splitlines() if row.startswith("Max core file size"))
        assert core_limit.split()[4:6] == ["0", "0"], core_limit  # soft and hard limit lowered from unlimited
        proc.send_signal(signal.SIGABRT)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGABRT
    time.sleep(0.5)  # the kernel finishes writing a core before the parent sees the exit; belt and braces
    cores = _cores(where)
    for core in cores:
        blob = core.read_bytes()
        for needle in (API_KEY.encode(), API_SECRET.encode(), SECRET_BYTES):
            assert needle not in blob, f"a credential is in {core}"
    assert cores == [], f"live mode left a core file: {cores}"
    print(f"\ncore dumps: control process {'wrote a core' if writes_cores else 'wrote no core (platform)'}; "
          f"aborted live watch wrote {len(cores)}")
