"""The watchdog outside the poll thread: a stuck worker still turns the screen and `watch` to RISK UNKNOWN.

Against the Kraken-protocol test server: a request that hangs (the server holds the answer back longer
than the client's timeout) keeps the real poll thread busy; the GUI thread's watchdog (real Qt window,
offscreen) and `watch --json` (a real process) must say so within the stale window + 5 s.
"""

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

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Risk, Snapshot
from kraken_monitor.testing.exchanges import unpaced_kraken
from kraken_monitor.text.alerts import alert_message
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.freshness import Activity
from kraken_monitor.worker.runner import MonitorThread
from kraken_monitor.worker.watchdog import Watchdog, watchdog_windows

ROOT = Path(__file__).resolve().parents[2]
CLIENT_TIMEOUT_S = 8.0  # the worker's per-request timeout: the hang outlasts the stale window by far
FIGURES: dict[str, float] = {}


# ----- the pure watchdog, on a fake monotonic clock -----------------------------------------------------


class Mono:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def _snap(stale: bool) -> Snapshot:
    from datetime import datetime, timezone

    return Snapshot(mode="live", as_of=datetime.now(timezone.utc), stale=stale, account=None, positions=(),
                    stale_reason="x" if stale else "")


def test_watchdog_trips_once_per_episode_and_names_what_the_worker_waits_for():
    mono = Mono()
    activity = Activity(mono)
    dog = Watchdog(window_s=3.0, startup_s=10.0, activity=activity, monotonic=mono)
    mono.t += 9.9
    assert dog.check() == (None, False)  # start-up allowance
    dog.saw_snapshot(_snap(stale=False))
    activity.begin("prices for BTC/USD")
    mono.t += 3.0
    assert dog.check() == (None, False)  # exactly the window: not yet
    mono.t += 0.5
    reason, started = dog.check()
    assert started and reason == "monitor not responding: waiting for prices for BTC/USD (4 s)"
    assert dog.check()[1] is False  # same episode: no second alert
    dog.saw_snapshot(_snap(stale=False))
    assert dog.check() == (None, False) and not dog.tripped


def test_watchdog_stays_quiet_while_the_worker_reports_stale_data_itself():
    mono = Mono()
    dog = Watchdog(window_s=3.0, startup_s=10.0, activity=Activity(mono), monotonic=mono)
    dog.saw_snapshot(_snap(stale=False))
    for _ in range(10):  # the exchange is down; the worker still publishes (stale) every second
        mono.t += 1.0
        dog.saw_snapshot(_snap(stale=True))
        assert dog.check() == (None, False)
    mono.t += 3.5  # ...and then the worker itself goes quiet
    reason, started = dog.check()
    assert started and reason.startswith("monitor not responding: waiting for the next poll")


def test_watchdog_trips_at_start_when_nothing_ever_arrives():
    mono = Mono()
    activity = Activity(mono)
    activity.begin("the pair rules (AssetPairs)")
    dog = Watchdog(window_s=3.0, startup_s=10.0, activity=activity, monotonic=mono)
    mono.t += 10.5
    reason, started = dog.check()
    assert started and "waiting for the pair rules (AssetPairs) (10 s)" in reason
    unknown = dog.unknown_snapshot("live", reason)
    assert unknown.stale and unknown.account is None and unknown.stale_reason == reason


def test_watchdog_windows_follow_the_config():
    # live, Starter tier: prices 1 s x 3 = 3 s; account max(3, 3 / 0.33 + 0.05 = 9.14) x 3 = 27.42 s.
    window, startup = watchdog_windows(MonitorConfig(mode="live"))
    assert window == 3.0 and startup == pytest.approx(27.42 + 3.0)
    # Fast local polling: never less than 10 s for start-up (ccxt import and markets on a slow machine).
    assert watchdog_windows(MonitorConfig(mode="live", price_interval_s=0.5, account_interval_s=1.0,
                                            kraken_tier="local")) == (1.5, 10.0)  # 3 + 1.5 < 10


# ----- the real window with the real worker thread -------------------------------------------------------


def test_window_shows_risk_unknown_while_the_poll_thread_hangs(hang_server, tmp_path, qtbot):
    from kraken_monitor.ui.main_window import MainWindow

    config = MonitorConfig(mode="live", api_url=hang_server.url, db_path=tmp_path / "j.sqlite3",
                           price_interval_s=0.5, account_interval_s=1.0, kraken_tier="local")
    window = MainWindow("live")
    qtbot.addWidget(window)
    # The real worker; a per-request timeout far beyond the stale window.
    monitor = MonitorThread(config, exchange_factory=unpaced_kraken(timeout_s=CLIENT_TIMEOUT_S))
    session = MonitorSession(window, config)
    session.attach(monitor)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: window.snapshot() is not None and not window.snapshot().stale, timeout=15_000)
        hang_server.inject_fault("Ticker", "timeout", count=None)
        hung_at = time.monotonic()
        qtbot.waitUntil(lambda: "monitor not responding" in window.status.banner_text(), timeout=15_000)
        seconds = time.monotonic() - hung_at
        FIGURES["window: hang -> banner (s)"] = seconds
        window_s, _ = watchdog_windows(config)
        assert seconds <= window_s + 5.0
        assert "waiting for prices for BTC/USD" in window.status.banner_text()
        shown = window.snapshot()
        assert shown.stale and shown.account.risk == Risk.UNKNOWN
        assert {pf.risk for pf in shown.positions} == {Risk.UNKNOWN} and len(shown.positions) == 1
        alerts = [window.alert_dock.model.row(i) for i in range(window.alert_dock.model.rowCount())]
        hang_alerts = [a for a in alerts if "waiting for prices" in alert_message(a)]
        assert [a.key for a in hang_alerts] == ["stale"], "one stale alert per episode"
        hang_server.clear_faults()
        qtbot.waitUntil(lambda: not window.snapshot().stale, timeout=30_000)
        assert not window.status.banner_text()
    finally:
        session.detach()
        hang_server.clear_faults()
        assert monitor.stop(timeout_ms=15_000)


# ----- `watch --json` in a real process ------------------------------------------------------------------


class Lines:
    """Reads a process's stdout in a thread, stamping each line with the monotonic time it arrived."""

    def __init__(self, stream):
        self.q: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for line in stream:
            self.q.put((time.monotonic(), line))

    def wait_for(self, predicate, timeout_s: float):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                at, line = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if predicate(obj):
                return at, obj
        raise AssertionError(f"no matching line within {timeout_s} s")


def _watch(server, home: Path):
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
               KRAKEN_API_KEY=API_KEY, KRAKEN_API_SECRET=API_SECRET)
    cmd = [sys.executable, "-m", "kraken_monitor", "watch", "--mode", "live", "--api-url", server.url,
           "--json", "--interval", "1", "--duration", "120"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _fresh_snapshot(obj) -> bool:
    return obj.get("type") == "snapshot" and obj.get("stale") is False


def test_watch_prints_stale_within_the_window_when_a_request_hangs_and_resumes_after(hang_server, tmp_path):
    proc = _watch(hang_server, tmp_path)
    lines = Lines(proc.stdout)
    try:
        lines.wait_for(_fresh_snapshot, 60)  # live start-up: markets, first account read, start grace
        hang_server.inject_fault("Ticker", "timeout", count=None)
        hung_at = time.monotonic()
        at, stale = lines.wait_for(lambda o: o.get("type") == "stale", 30)
        FIGURES["watch: hang -> stale line (s)"] = at - hung_at
        assert at - hung_at <= 3.0 + 5.0, f"stale line {at - hung_at:.1f} s after the hang"  # window 1 s x 3
        assert stale["reason"].startswith("monitor not responding: waiting for prices for BTC/USD")
        lines.wait_for(lambda o: o.get("type") == "alert" and o.get("level") == "unknown", 5)
        hang_server.clear_faults()
        lines.wait_for(_fresh_snapshot, 30)  # the hung request ends at the client's timeout, then fresh
        # A transient error (HTTP 500) for long enough that the price backoff reaches its cap, then it clears.
        hang_server.inject_fault("Ticker", "http500", count=None)
        lines.wait_for(lambda o: o.get("type") == "stale", 10)
        time.sleep(12)
        hang_server.clear_faults()
        cleared_at = time.monotonic()
        at, _ = lines.wait_for(_fresh_snapshot, 20)
        FIGURES["watch: error cleared -> fresh snapshot (s)"] = at - cleared_at
        assert at - cleared_at <= 10.0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    err = proc.stderr.read()
    assert "Traceback" not in err and "QThread: Destroyed" not in err


def test_print_watchdog_figures():
    print("\nwatchdog figures: " + ", ".join(f"{k} {v:.1f}" for k, v in FIGURES.items()))
