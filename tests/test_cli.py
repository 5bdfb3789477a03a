"""The command line: --version, import lightness, argument parsing, and the headless commands end to end."""

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import ACCOUNT_KEYS, POSITION_KEYS, ROOT, run_cli
from cli_support import live_env as _live_env

from kraken_monitor import __version__
from kraken_monitor.cli import build_config, build_parser


def test_version_via_module_and_console_script(tmp_path):
    result = run_cli(["--version"], tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"kraken-monitor {__version__}"
    script = Path(sys.executable).with_name("kraken-monitor")
    if script.exists():  # installed editable in the venv: the console script is the same entry point
        result = run_cli([str(script), "--version"], tmp_path, module=False)
        assert result.stdout.strip() == f"kraken-monitor {__version__}"


def test_cli_import_is_light():
    code = ("import sys, kraken_monitor.cli, kraken_monitor.__main__; "
            "print(sorted(m for m in ('PySide6', 'ccxt', 'sqlite_utils', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert result.stdout.strip() == "[]"


def test_global_options_before_or_after_the_subcommand(tmp_path):
    parser = build_parser()
    a = parser.parse_args(["--mode", "paper", "--db", str(tmp_path / "x.db"), "snapshot", "--json"])
    b = parser.parse_args(["snapshot", "--mode", "paper", "--db", str(tmp_path / "x.db"), "--json"])
    for args in (a, b):
        assert args.command == "snapshot" and args.json is True
        config = build_config(args)
        assert config.mode == "paper" and config.db_path == tmp_path / "x.db"
    gui = parser.parse_args(["--exit-after", "2.5", "--api-url", "http://127.0.0.1:1"])
    assert gui.command is None and gui.exit_after == 2.5 and build_config(gui).mode == "demo"
    assert build_config(gui).api_url == "http://127.0.0.1:1"


def test_watch_options_shape_the_config():
    parser = build_parser()
    config = build_config(parser.parse_args(["watch", "--interval", "0.5", "--speed", "600"]))
    assert config.price_interval_s == 0.5 and config.account_interval_s == 0.5 and config.demo_speed == 600
    live = build_config(parser.parse_args(["watch", "--mode", "live", "--interval", "0.5"]))
    assert live.account_interval_s >= 3.0  # private rate-limit points: never faster than the default
    with pytest.raises(SystemExit):
        parser.parse_args(["watch", "--interval", "-1"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--mode", "bogus"])


def test_snapshot_demo_json_prints_the_documented_shape(tmp_path):
    result = run_cli(["snapshot", "--mode", "demo", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["venue"] == "spot" and data["mode"] == "demo" and data["stale"] is False
    assert set(data) == {"venue", "mode", "as_of", "stale", "account", "positions"}
    assert set(data["account"]) == ACCOUNT_KEYS
    assert data["positions"], "the demo portfolio holds positions"
    for pos in data["positions"]:
        assert set(pos) == POSITION_KEYS
        assert pos["side"] in ("long", "short")
        assert "." in pos["price"] or pos["price"].isdigit()  # a decimal string, not a float
    assert (tmp_path / "kraken-monitor-demo.sqlite3").exists()  # default journal per mode in KRAKEN_MONITOR_HOME
    assert (tmp_path / "kraken-monitor.log").exists()


def test_snapshot_table_without_json(tmp_path):
    result = run_cli(["snapshot"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "margin level" in result.stdout and "risk" in result.stdout
    assert "Traceback" not in result.stderr


def test_watch_demo_prints_json_lines_and_exits_zero(tmp_path):
    result = run_cli(["watch", "--mode", "demo", "--duration", "3", "--json", "--speed", "600",
                      "--interval", "0.2"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert lines, "watch printed nothing"
    types = {line["type"] for line in lines}
    assert "snapshot" in types
    for line in lines:
        if line["type"] == "alert":
            assert set(line) == {"type", "venue", "ts", "level", "position", "pair", "margin_level",
                                 "distance_to_liquidation_pct", "message"}
        if line.get("margin_level") is not None:
            # At most 4 decimal places, like the alert lines and `snapshot --json`: the engine's 28 significant
            # digits ("105.8318004602047195380808865") are false precision.
            assert "E" not in line["margin_level"] and len(line["margin_level"].partition(".")[2]) <= 4, line
    assert "Traceback" not in result.stderr


@pytest.fixture
def kraken():
    from kraken_monitor.testing.kraken_server import KrakenTestServer

    with KrakenTestServer() as srv:
        srv.set_balance(Decimal("10000"))
        srv.set_prices({"BTC/USD": Decimal("17000")})
        srv.add_position("BTC/USD", "long", Decimal("1"), Decimal("20000"), leverage=5, txid="TPOS1-LONG-BTC")
        yield srv


def test_snapshot_live_against_the_server(kraken, tmp_path):
    result = run_cli(["snapshot", "--mode", "live", "--api-url", kraken.url, "--json"], tmp_path,
                     extra_env=_live_env(kraken))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [p["id"] for p in data["positions"]] == ["TPOS1-LONG-BTC"]
    assert data["account"]["margin_level"] == "175"  # (10,000 - 3,000) / 4,000, trailing zeros dropped
    assert data["positions"][0]["liquidation_price"].startswith("11600")


@pytest.mark.parametrize("endpoint", ["TradeBalance", "OpenPositions", "Ticker"])
def test_snapshot_with_a_failing_read_exits_2_with_one_line(kraken, tmp_path, endpoint):
    kraken.inject_fault(endpoint, "unavailable", None)
    result = run_cli(["snapshot", "--mode", "live", "--api-url", kraken.url, "--json"], tmp_path,
                     extra_env=_live_env(kraken))
    assert result.returncode == 2
    assert result.stdout == ""  # never an empty position list that reads as "flat"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kraken-monitor: ")
    assert "Traceback" not in result.stderr and kraken.api_secret not in result.stderr
    log_text = (tmp_path / "kraken-monitor.log").read_text()
    assert "kraken-monitor 0.1.0 starting" in log_text or "starting" in log_text
    assert kraken.api_secret not in log_text and kraken.api_key not in log_text


def test_snapshot_live_with_a_rejected_key_exits_2(kraken, tmp_path):
    env = dict(_live_env(kraken), KRAKEN_API_SECRET="c2VjcmV0LXRoYXQtaXMtd3Jvbmc=")
    result = run_cli(["snapshot", "--mode", "live", "--api-url", kraken.url], tmp_path, extra_env=env)
    assert result.returncode == 2 and result.stdout == ""
    assert "authentication failed" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_snapshot_of_the_docs_positions_agrees_with_krakens_own_e_m_ml(tmp_path):
    from kraken_monitor.testing.kraken_server import KrakenTestServer

    with KrakenTestServer() as srv:
        srv.load_docs_positions(live_calcs=True)  # value/net recomputed at the ticker price
        srv.set_prices({"BTC/USD": Decimal("30015.5")})
        srv.set_balance(Decimal("250000"))
        kraken = srv.sim.trade_balance_payload()  # what Kraken's TradeBalance reports for this book
        result = run_cli(["snapshot", "--mode", "live", "--api-url", srv.url, "--json"], tmp_path,
                         extra_env=_live_env(srv))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    account = data["account"]
    assert len(data["positions"]) == 5 and {p["leverage"] for p in data["positions"]} == {"5"}
    assert Decimal(account["equity"]).quantize(Decimal("0.0001")) == Decimal(kraken["e"])
    assert Decimal(account["used_margin"]).quantize(Decimal("0.0001")) == Decimal(kraken["m"])
    assert Decimal(account["margin_level"]).quantize(Decimal("0.01")) == Decimal(kraken["ml"])
    assert Decimal(account["margin_level_exchange"]) == Decimal(kraken["ml"])  # Kraken's own, beside ours


def test_watch_says_stale_soon_when_kraken_refuses_every_connection(tmp_path):
    """Kraken unreachable from the first request: a retry that fails again ends the start-up grace.

    Live mode's grace is the account window (27.42 s with the defaults); without the rule `watch` printed
    nothing at all for the first 27 s, so a script reading it saw silence rather than "risk unknown".
    """
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on: every connection is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"KRAKEN_API_KEY": "TEST-KEY", "KRAKEN_API_SECRET": "c2VjcmV0"}
    result = run_cli(["watch", "--mode", "live", "--api-url", f"http://127.0.0.1:{port}", "--prices", "poll",
                      "--json", "--duration", "10"], tmp_path, extra_env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    stale = [line for line in lines if line["type"] == "stale"]
    assert stale, f"no stale line in 10 s: {lines}"
    assert "last error" in stale[0]["reason"]
    snapshots = [line for line in lines if line["type"] == "snapshot"]
    assert snapshots and all(s["stale"] and s["risk"] == "unknown" for s in snapshots)
    assert "Traceback" not in result.stderr
