"""`watch --venue futures --notify URL`: futures alerts reach the same notification path as spot alerts; a stuck
futures read is caught by the watchdog on the configured stale window and printed as a stale line."""

import io
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures import FlexAccount, FuturesBook, account_figures
from kraken_monitor.notify.service import AlertNotifications
from kraken_monitor.testing.futures_server import FuturesTestServer
from kraken_monitor.testing.notify_servers import WebhookServer
from kraken_monitor.worker.cycle import utc_now
from kraken_monitor.worker.freshness import Activity
from kraken_monitor.worker.futures_watch import FuturesLinePrinter
from kraken_monitor.worker.futures_watchdog import FuturesWatchdog, futures_watchdog_windows
from kraken_monitor.worker.headless import cli_destinations

ROOT = Path(__file__).resolve().parents[2]
D = Decimal
TOKEN = "tok-futures-9f8e7d6c5b"


def _env(srv, home):
    return dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
                PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
                KRAKEN_FUTURES_API_KEY=srv.api_key, KRAKEN_FUTURES_API_SECRET=srv.api_secret)


def test_a_critical_futures_account_reaches_the_webhook_and_prints_its_delivery(tmp_path):
    with FuturesTestServer() as srv, WebhookServer() as hook:
        # Long 2 BTC from 60000 at mark 60000 (P&L 0) on 1600 USD: maintenance 2 x 60000 x 1 % = 1200,
        # margin level 1600 / 1200 = 133.3 % <= 140 %: critical (routed to every channel by default). The
        # position: cross liquidation at (0 - 1600 + 2 x 60000) / (2 x 0.99) = 59797.98, 0.34 % away: liquidation.
        srv.futures.collateral["USD"] = D(1600)
        srv.futures.add_position("PF_XBTUSD", "long", D(2), D(60000))
        result = subprocess.run(
            [sys.executable, "-m", "kraken_monitor", "watch", "--venue", "futures", "--mode", "live",
             "--api-url", srv.url, "--json", "--duration", "4", "--interval", "1",
             "--notify", f"json://127.0.0.1:{hook.port}/{TOKEN}"],
            env=_env(srv, tmp_path / "home"), capture_output=True, text=True, timeout=90, cwd=ROOT)
        posted = hook.wait_for(2)
    assert result.returncode == 0, result.stderr[-2000:]
    by_title = {p["title"]: p["message"] for p in posted}
    assert set(by_title) == {"kraken-monitor: CRITICAL: futures live account",
                             "kraken-monitor: LIQUIDATION: BTC/USD:USD position"}
    assert "Futures margin level 133.3" in by_title["kraken-monitor: CRITICAL: futures live account"]
    assert "0.34 % from liquidation" in by_title["kraken-monitor: LIQUIDATION: BTC/USD:USD position"]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert sorted(x["level"] for x in lines if x["type"] == "alert") == ["critical", "liquidation"]
    delivered = [x for x in lines if x["type"] == "notify"]
    assert len(delivered) == 2 and all(x["ok"] and x["venue"] == "futures" for x in delivered)
    assert {x["channel"] for x in delivered} == {"--notify #1 (json)"}
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    assert not [path for path, _ in srv.requests if not path.startswith("GET ")]  # watch never sends


def test_a_stuck_futures_read_prints_a_stale_line_within_the_configured_window(tmp_path):
    with FuturesTestServer(timeout_sleep_s=8) as srv:
        srv.futures.add_position("PF_XBTUSD", "long", D("0.5"), D(58000))
        proc = subprocess.Popen(
            [sys.executable, "-m", "kraken_monitor", "watch", "--venue", "futures", "--mode", "live",
             "--api-url", srv.url, "--json", "--duration", "9", "--interval", "1"],
            env=_env(srv, tmp_path / "home"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            first = json.loads(proc.stdout.readline())  # the first fresh heartbeat
            assert first["type"] == "snapshot" and first["risk"] == "ok"
            srv.inject_fault("accounts", "timeout")  # the next read hangs 8 s: longer than the 3 s window
            hung_at = time.monotonic()
            stale = None
            for line in proc.stdout:
                row = json.loads(line)
                if row["type"] == "stale":
                    stale, seen_after = row, time.monotonic() - hung_at
                    break
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill() if proc.poll() is None else None
    assert stale is not None, err[-2000:]
    # 1 s interval x 3 (stale_after_intervals) = 3 s window: the line comes from the watchdog, while the
    # request still hangs (the server answers only after 8 s), naming what the thread waits for.
    assert "the futures poll thread is not answering" in stale["reason"], stale
    assert "waiting for Kraken Futures' account" in stale["reason"] and stale["venue"] == "futures"
    assert seen_after < 8, seen_after
    assert proc.returncode == 0, err[-2000:]


def _book(equity, maintenance=D(100)):
    flex = FlexAccount(equity, D(0), maintenance, D(0), equity, equity)
    return FuturesBook("live", utc_now(), account_figures(flex, AlertThresholds()), ())


def test_the_watchdog_trips_once_per_episode_and_notifies_risk_unknown():
    clock = [500.0]
    config = replace(MonitorConfig(), stale_after_intervals=5.0)
    window_s, startup_s = futures_watchdog_windows(config, 2.0)  # 2 s x 5 = 10 s; startup 2 windows = 20 s
    assert (window_s, startup_s) == (10.0, 20.0)
    activity = Activity(monotonic=lambda: clock[0])
    watchdog = FuturesWatchdog(window_s, startup_s, activity, "live", monotonic=lambda: clock[0])
    out = io.StringIO()
    with WebhookServer() as hook:
        notifications = AlertNotifications(cli_destinations((f"json://127.0.0.1:{hook.port}/{TOKEN}",)),
                                           at_desk=False)
        try:
            printer = FuturesLinePrinter(True, out, "futures live", notifications=notifications, watchdog=watchdog)
            printer.on_book(_book(D(300)))  # 300 %: ok
            activity.begin("Kraken Futures' account, positions and marks")
            clock[0] += 10.0  # exactly the window: not yet
            printer.check_watchdog()
            clock[0] += 1.0
            printer.check_watchdog()
            clock[0] += 5.0
            printer.check_watchdog()  # the same episode: no second line
            posted = hook.wait_for(1)
        finally:
            notifications.stop()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    stale = [x for x in lines if x["type"] == "stale"]
    assert len(stale) == 1 and stale[0]["reason"].startswith("no futures read for 11 s")
    assert [p["title"] for p in posted] == ["kraken-monitor: RISK UNKNOWN: data is stale"]
