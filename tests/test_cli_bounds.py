"""Issue 12 items 9 and 11 at the command line: API URL refusal, bounds users will type, private files."""

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kraken_monitor.cli import KRAKEN_PUBLIC_MIN_INTERVAL_S, build_config, build_parser

ROOT = Path(__file__).resolve().parents[1]


def _env(home, **extra):
    return dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
                PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", **extra)


def run_cli(args, home, timeout=60, **extra):
    return subprocess.run([sys.executable, "-m", "kraken_monitor", *args], capture_output=True, text=True,
                          timeout=timeout, env=_env(home, **extra), cwd=ROOT)


@pytest.mark.parametrize("args", [
    ["snapshot", "--mode", "live", "--api-url", "http://api.kraken.com"],
    ["watch", "--api-url", "http://192.168.1.20:8080"],
    ["--api-url", "ftp://127.0.0.1"],
    ["snapshot", "--api-url", "https://user:hunter2@api.kraken.com"],
    ["watch", "--duration", "abc"],
    ["watch", "--duration", "-5"],
    ["watch", "--duration", "nan"],
    ["watch", "--duration", "1e300"],
    ["watch", "--interval", "0"],
    ["watch", "--interval", "inf"],
    ["watch", "--interval", "86400"],
    ["watch", "--speed", "1e9"],
    ["--exit-after", "-1"],
    ["watch", "--bogus"],
])
def test_nonsense_gets_one_line_and_exit_2_before_any_connection(tmp_path, args):
    result = run_cli(args, tmp_path, timeout=30)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kraken-monitor: "), result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_thirty_days_duration_runs(tmp_path):
    # 30 days = 2,592,000,000 ms: past the 2^31 ms a QTimer takes (that was the OverflowError).
    proc = subprocess.Popen([sys.executable, "-m", "kraken_monitor", "watch", "--mode", "demo", "--json",
                             "--duration", "2592000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env(tmp_path), cwd=ROOT)
    try:
        first = proc.stdout.readline()  # the first line arrives only once the loop runs
        assert json.loads(first)["type"] in ("snapshot", "stale", "alert")
        time.sleep(0.5)
        assert proc.poll() is None, "watch stopped on its own: the 30-day duration did not hold"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Overflow" not in err and "Traceback" not in err


def test_too_fast_interval_is_raised_to_what_kraken_sustains_with_a_notice(capsys):
    parser = build_parser()
    config = build_config(parser.parse_args(["watch", "--mode", "live", "--interval", "0.3"]))
    assert config.price_interval_s == KRAKEN_PUBLIC_MIN_INTERVAL_S == 1.0
    assert config.account_interval_s >= 3.0
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and "0.3" in notice[0] and "every 1 s" in notice[0]
    paper = build_config(parser.parse_args(["watch", "--mode", "paper", "--interval", "0.5"]))
    assert paper.price_interval_s == 1.0  # paper mode reads Kraken's public prices too
    demo = build_config(parser.parse_args(["watch", "--mode", "demo", "--interval", "0.3"]))
    assert demo.price_interval_s == 0.3  # the simulated market has no pacing
    assert capsys.readouterr().err.count("\n") == 1
    # The stale window then covers at least one paced call: 3 intervals of 1 s, never 3 x 0.3 s.
    assert config.price_stale_after_s() >= 3 * KRAKEN_PUBLIC_MIN_INTERVAL_S


def test_loopback_http_and_https_urls_are_accepted_normalised():
    parser = build_parser()
    assert build_config(parser.parse_args(["--api-url", "http://127.0.0.1:9/"])).api_url == "http://127.0.0.1:9"
    assert build_config(parser.parse_args(["snapshot", "--api-url", "https://API.kraken.com"])).api_url == \
        "https://api.kraken.com"


def test_saved_plain_http_api_url_is_refused_at_gui_start(tmp_path):
    from kraken_monitor.cli import _refused_api_url

    assert "plain http" in _refused_api_url("http://example.org")
    assert _refused_api_url("http://localhost:8080") == "" and _refused_api_url(None) == ""


def test_log_file_is_private(tmp_path):
    result = run_cli(["snapshot", "--mode", "demo", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    log = tmp_path / "kraken-monitor.log"
    assert log.exists() and stat.S_IMODE(log.stat().st_mode) == 0o600
    log.chmod(0o644)  # as an older version left it
    assert run_cli(["snapshot", "--mode", "demo", "--json"], tmp_path).returncode == 0
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_settings_file_is_private(tmp_path, qapp):
    from kraken_monitor.config import MonitorConfig
    from kraken_monitor.ui.settings_store import open_settings, save_config

    path = tmp_path / "settings.ini"
    save_config(MonitorConfig(mode="paper"), open_settings(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    open_settings(path)  # opening an older, world-readable file tightens it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
