"""`snapshot --venue futures`: the issue's exact JSON shape, live through ccxt to the server, fail closed, read-only."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from kraken_monitor.testing.futures_server import FuturesTestServer

ROOT = Path(__file__).resolve().parents[2]
D = Decimal
ACCOUNT_KEYS = {"currency", "margin_equity", "initial_margin", "maintenance_margin", "available_margin",
                "portfolio_value", "margin_level", "risk",
                "orders"}  # issue 16: resting orders attached to no position
POSITION_KEYS = {"id", "pair", "side", "margin_mode", "volume", "entry_price", "mark_price", "leverage",
                 "unrealized_pnl", "unrealized_funding", "liquidation_price", "liquidation_price_source",
                 "distance_to_liquidation_pct", "risk",
                 "orders", "stop_loss_price", "take_profit_price", "warnings"}  # issue 16, the spot shape


def run_cli(args, home, extra_env=None):
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "kraken_monitor", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=ROOT)


@pytest.fixture
def server():
    with FuturesTestServer() as srv:
        srv.futures.add_position("PF_XBTUSD", "long", D("0.5"), D(58000))
        srv.futures.add_position("PF_ETHUSD", "short", D(2), D(3100), leverage=D(5), unrealized_funding=D("-0.5"))
        yield srv


def _env(srv):
    return {"KRAKEN_FUTURES_API_KEY": srv.api_key, "KRAKEN_FUTURES_API_SECRET": srv.api_secret}


def test_live_futures_snapshot_has_exactly_the_issue_shape(server, tmp_path):
    result = run_cli(["snapshot", "--venue", "futures", "--mode", "live", "--api-url", server.url, "--json"],
                     tmp_path, _env(server))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"venue", "mode", "as_of", "stale", "account", "positions"}
    assert (data["venue"], data["mode"], data["stale"]) == ("futures", "live", False)
    assert set(data["account"]) == ACCOUNT_KEYS
    # Kraken's flex: equity 10000 + 1000 + 200 - 0.5 = 11199.5; maintenance 300 + 60 = 360 -> 3110.9722 %
    assert data["account"]["margin_equity"] == "11199.5" and data["account"]["margin_level"] == "3110.9722"
    btc, eth = data["positions"]
    assert all(set(p) == POSITION_KEYS for p in data["positions"])
    assert (btc["pair"], btc["margin_mode"], btc["leverage"]) == ("BTC/USD:USD", "cross", None)
    assert (eth["pair"], eth["margin_mode"], eth["leverage"]) == ("ETH/USD:USD", "isolated", "5")
    # ETH isolated at 5x: allocated 6200 / 5 = 1240; short: L = (6200 + 1240) / (2 x 1.01) = 3683.16831683
    assert eth["liquidation_price"] == "3683.16831683" and eth["liquidation_price_source"] == "estimate"
    assert eth["unrealized_funding"] == "-0.5" and btc["unrealized_pnl"] == "1000"
    # read-only: no PUT, no POST ever reached the server
    assert not [path for path, _ in server.requests if not path.startswith("GET ")]


def test_a_missing_position_list_exits_2_and_prints_no_positions(server, tmp_path):
    server.inject_fault("openpositions", "missing_fields", None)
    result = run_cli(["snapshot", "--venue", "futures", "--mode", "live", "--api-url", server.url, "--json"],
                     tmp_path, _env(server))
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "unavailable" in result.stderr
    assert server.api_secret not in result.stderr


def test_no_futures_key_is_an_authentication_failure(server, tmp_path):
    result = run_cli(["snapshot", "--venue", "futures", "--mode", "live", "--api-url", server.url], tmp_path,
                     {"KRAKEN_API_KEY": server.api_key, "KRAKEN_API_SECRET": server.api_secret})  # spot key only
    assert result.returncode == 2 and "authentication failed" in result.stderr
    assert "KRAKEN_FUTURES_API_KEY" in result.stderr


def test_demo_futures_snapshot_runs_offline_and_table_reads(tmp_path):
    result = run_cli(["snapshot", "--venue", "futures", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["venue"], data["mode"]) == ("futures", "demo")
    assert {p["margin_mode"] for p in data["positions"]} == {"cross", "isolated"}
    table = run_cli(["snapshot", "--venue", "futures"], tmp_path)
    assert table.returncode == 0 and "margin level" in table.stdout and "(est.)" in table.stdout
    # issue 16: the demo's BTC long has its stop, the ETH short none
    assert "protection" in table.stdout and "no stop-loss" in table.stdout
