"""Shared by the command-line tests: run the CLI in a subprocess, the JSON keys it documents."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ACCOUNT_KEYS = {"currency", "trade_balance", "equity", "used_margin", "free_margin", "margin_level",
                "margin_level_exchange", "margin_call_level", "liquidation_level", "risk", "fx_sensitivity", "orders"}
POSITION_KEYS = {"id", "pair", "side", "margin_mode", "volume", "entry_price", "price", "leverage", "cost",
                 "used_margin", "unrealized_pnl", "fees", "net_pnl", "break_even_price", "margin_call_price",
                 "liquidation_price", "distance_to_liquidation_pct", "next_rollover", "risk", "quote_currency",
                 "orders", "stop_loss_price", "take_profit_price", "warnings"}


def run_cli(args, home, timeout=60, extra_env=None, module=True):
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.update(extra_env or {})
    cmd = [sys.executable, "-m", "kraken_monitor", *args] if module else args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def live_env(srv):
    """The test server's key pair, as the live adapter reads it from the environment."""
    return {"KRAKEN_API_KEY": srv.api_key, "KRAKEN_API_SECRET": srv.api_secret}
