"""Faults through the real PollWorker thread (pytest-qt) and through `kraken-monitor snapshot` (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Slot
from reliability_support import API_KEY, API_SECRET, POSITION_ID, seed

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Risk
from kraken_monitor.storage.journal import Journal
from kraken_monitor.testing.exchanges import unpaced_kraken
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.worker.runner import MonitorThread

ROOT = Path(__file__).resolve().parents[2]
KINDS = ["timeout", "reset", "http500", "rate_limit", "unavailable", "busy", "malformed", "missing_fields",
         "empty_with_error", "invalid_nonce", "invalid_key"]
# A subprocess costs ~0.7 s of CPU: the command runs every kind against the public price read and the
# positions read (the one whose failure could look "flat"); the Poller matrix covers all five endpoints.
READ_ENDPOINTS = ["Ticker", "OpenPositions"]


# ----- the Qt worker ---------------------------------------------------------------------------------


# The real worker with the live adapter's client-side pacing opened up for sub-second intervals.
FAST_EXCHANGE = unpaced_kraken(timeout_s=0.1)


class Sink(QObject):
    def __init__(self):
        super().__init__()
        self.snapshots, self.auth = [], []

    @Slot(object)
    def on_snapshot(self, snap):
        self.snapshots.append(snap)

    @Slot(str)
    def on_auth(self, message):
        self.auth.append(message)


@pytest.fixture
def env_credentials(server, monkeypatch):
    monkeypatch.setenv("KRAKEN_API_KEY", API_KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", API_SECRET)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


def _start(server, tmp_path):
    config = MonitorConfig(mode="live", api_url=server.url, db_path=tmp_path / "journal.sqlite3",
                           price_interval_s=0.05, account_interval_s=0.1, stale_after_intervals=3.0,
                           backoff_cap_s=0.2, kraken_tier="local")
    monitor = MonitorThread(config, exchange_factory=FAST_EXCHANGE)
    sink = Sink()
    monitor.worker.snapshot_ready.connect(sink.on_snapshot)
    monitor.worker.auth_failed.connect(sink.on_auth)
    monitor.start()
    return config, monitor, sink


def _fresh(sink):
    return bool(sink.snapshots) and not sink.snapshots[-1].stale and sink.snapshots[-1].account is not None


def _rows(path):
    journal = Journal.open(path)  # a second connection: WAL readers see every committed cycle
    try:
        return journal.row_counts()
    finally:
        journal.close()


@pytest.mark.parametrize(("endpoint", "kind"), [("Ticker", "reset"), ("OpenPositions", "http500"),
                                                ("TradeBalance", "malformed")])
def test_worker_thread_goes_stale_and_recovers(server, env_credentials, tmp_path, qtbot, endpoint, kind):
    config, monitor, sink = _start(server, tmp_path)
    try:
        qtbot.waitUntil(lambda: _fresh(sink), timeout=10_000)
        before = _rows(config.db_path)
        server.inject_fault(endpoint, kind, count=None)
        qtbot.waitUntil(lambda: sink.snapshots[-1].stale, timeout=10_000)
        stale = sink.snapshots[-1]
        assert stale.account is not None and stale.account.risk == Risk.UNKNOWN
        assert [pf.position.id for pf in stale.positions] == [POSITION_ID]  # kept, never "flat"
        assert all(pf.risk == Risk.UNKNOWN for pf in stale.positions)
        assert monitor.thread.isRunning()
        server.clear_faults()
        qtbot.waitUntil(lambda: _fresh(sink), timeout=10_000)
        assert sink.snapshots[-1].account.risk != Risk.UNKNOWN
    finally:
        assert monitor.stop(timeout_ms=10_000)
    after = _rows(config.db_path)
    assert all(after[t] >= n for t, n in before.items())
    assert not sink.auth


def test_worker_thread_stops_on_auth_fault_and_says_so(server, env_credentials, tmp_path, qtbot):
    config, monitor, sink = _start(server, tmp_path)
    try:
        qtbot.waitUntil(lambda: _fresh(sink), timeout=10_000)
        server.inject_fault("TradeBalance", "invalid_key", count=None)
        qtbot.waitUntil(lambda: bool(sink.auth), timeout=10_000)
        sent = len(server.requests_to("TradeBalance"))
        qtbot.wait(400)  # four account intervals: nothing more is sent
        assert len(server.requests_to("TradeBalance")) == sent
        assert monitor.thread.isRunning()
    finally:
        assert monitor.stop(timeout_ms=10_000)
    assert "credentials" in sink.auth[0] and API_SECRET not in sink.auth[0] and API_KEY not in sink.auth[0]
    last = sink.snapshots[-1]
    assert last.stale and last.connection == "auth failed" and "authentication failed" in last.stale_reason
    assert last.account is not None and last.account.risk == Risk.UNKNOWN and len(last.positions) == 1


# ----- `kraken-monitor snapshot --mode live` -----------------------------------------------------------


def _snapshot_case(case, base: Path):
    endpoint, kind = case
    home = base / f"{endpoint}-{kind}"
    with KrakenTestServer(api_key=API_KEY, api_secret=API_SECRET, timeout_sleep_s=0.3) as srv:
        seed(srv)
        srv.inject_fault(endpoint, kind, count=None)
        env = dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
                   PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
                   KRAKEN_API_KEY=API_KEY, KRAKEN_API_SECRET=API_SECRET)
        cmd = [sys.executable, "-m", "kraken_monitor", "snapshot", "--mode", "live", "--api-url", srv.url, "--json"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def snapshot_runs(tmp_path_factory):
    """All 22 subprocess runs at once (each with its own server): they are I/O bound, so run them in parallel."""
    base = tmp_path_factory.mktemp("snapshots")
    cases = [(e, k) for e in READ_ENDPOINTS for k in KINDS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: _snapshot_case(c, base), cases))
    return dict(zip(cases, results, strict=True))


@pytest.mark.parametrize("endpoint", READ_ENDPOINTS)
@pytest.mark.parametrize("kind", KINDS)
def test_snapshot_command_under_fault(snapshot_runs, endpoint, kind):
    result = snapshot_runs[(endpoint, kind)]
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream and API_KEY not in stream and API_SECRET not in stream
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kraken-monitor: "), result.stderr
        assert result.stdout.strip() == "", "printed a snapshot and failed"
        if kind == "invalid_key":
            assert "authentication failed" in lines[0]
        if kind == "invalid_nonce":  # transient: never reported as bad credentials
            assert "your clock, or another client using this key" in lines[0]
            assert "authentication failed" not in lines[0]
        return
    data = json.loads(result.stdout)
    if data["stale"]:
        assert data["account"] is None or data["account"]["risk"] == "unknown"
        assert all(p["risk"] == "unknown" for p in data["positions"])
    else:
        # A fault that did not matter (e.g. retried inside ccxt): the data must then be the real account.
        assert [p["id"] for p in data["positions"]] == [POSITION_ID], "an empty list reads as 'flat'"
        assert Decimal(data["account"]["trade_balance"]) == Decimal("10000")
