"""PollWorker in its QThread against the local Kraken server and a real SQLite journal.

Scenario: a 5x BTC long (TB 10,000; 1 BTC at 20,000: margin call 13,200, liquidation 11,600) while
the price is scripted down through both levels; then Ticker/TradeBalance fail until cleared; then
a restart on the same database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from PySide6.QtCore import QObject, Qt, Signal, Slot

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.alerts import ACCOUNT_KEY
from kraken_monitor.domain.models import Risk
from kraken_monitor.storage.journal import Journal
from kraken_monitor.testing.exchanges import unpaced_kraken
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.worker.opening import create_exchange, open_journal
from kraken_monitor.worker.requests import Acknowledge, ClosePosition, Snooze
from kraken_monitor.worker.runner import MonitorThread

LIQUIDATION_PRICE = Decimal("11600")  # level 40%: 10,000 + (P - 20,000) = 0.4 * 4,000
CRASH = [Decimal(p) for p in range(17000, 11399, -200)]


class Recorder:
    """Wraps an exchange or journal: records the thread of every method call (and price arrival times)."""

    def __init__(self, target, calls: list, price_times: list | None = None):
        self._target = target
        self._calls = calls
        self._price_times = price_times

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            self._calls.append((name, threading.get_ident()))
            result = value(*args, **kwargs)
            if name == "fetch_tickers" and self._price_times is not None:
                self._price_times.append(time.perf_counter())
            return result

        return call


def recording_monitor(config, calls: list, price_times: list) -> MonitorThread:
    """The real journal and live adapter (pacing opened up), each wrapped in a Recorder."""
    live = unpaced_kraken()
    return MonitorThread(
        config,
        exchange_factory=lambda cfg, paper_state: Recorder(live(cfg, paper_state), calls, price_times),
        journal_factory=lambda cfg: Recorder(open_journal(cfg), calls),
    )


class Sink(QObject):
    """Lives in the GUI (test) thread; receives the worker's signals queued."""

    def __init__(self):
        super().__init__()
        self.snapshots, self.alerts, self.histories, self.statuses = [], [], [], []
        self.receive_times = []
        self.threads = set()

    @Slot(object)
    def on_snapshot(self, snap):
        self.receive_times.append(time.perf_counter())
        self.threads.add(threading.get_ident())
        self.snapshots.append(snap)

    @Slot(object)
    def on_alerts(self, alerts):
        self.alerts.extend(alerts)

    @Slot(object)
    def on_history(self, history):
        self.histories.append(history)

    @Slot(str)
    def on_status(self, status):
        self.statuses.append(status)

    @Slot(object, object)
    def on_finished(self, request, result):
        self.histories.append(result)

    @Slot(object, str)
    def on_failed(self, request, text):
        self.statuses.append(text)


@pytest.fixture
def server(monkeypatch):
    with KrakenTestServer() as srv:
        monkeypatch.setenv("KRAKEN_API_KEY", srv.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", srv.api_secret)
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        srv.set_balance(Decimal("10000"))
        srv.set_prices({"BTC/USD": Decimal("17000")})
        srv.add_position("BTC/USD", "long", Decimal("1"), Decimal("20000"), leverage=5, txid="TPOS1-LONG-BTC")
        yield srv


def _config(server, tmp_path):
    return MonitorConfig(mode="live", api_url=server.url, db_path=tmp_path / "journal.sqlite3",
                         price_interval_s=0.05, account_interval_s=0.1, stale_after_intervals=3.0,
                         backoff_cap_s=0.4, kraken_tier="local")


def _run(config, qtbot, until, timeout=20_000):
    calls, price_times = [], []
    monitor = recording_monitor(config, calls, price_times)
    sink = Sink()
    sink.calls = calls
    w = monitor.worker
    w.snapshot_ready.connect(sink.on_snapshot)
    w.alerts_fired.connect(sink.on_alerts)
    w.history_ready.connect(sink.on_history)
    w.status_changed.connect(sink.on_status)
    monitor.start()
    try:
        until(monitor, sink)
    finally:
        assert monitor.stop(timeout_ms=10_000)
    assert not monitor.thread.isRunning()
    return sink


def _levels(alerts, key):
    return [a.level for a in alerts if a.key == key and not a.stale]


def test_crash_alerts_then_stale_then_recovery_then_restart(server, tmp_path, qtbot, monkeypatch):
    config = _config(server, tmp_path)
    gui_thread = threading.get_ident()
    state = {}

    def crash_fault_recover(monitor, sink):
        qtbot.waitUntil(lambda: bool(sink.snapshots) and sink.snapshots[-1].account is not None, timeout=10_000)
        server.script_prices("BTC/USD", CRASH)
        qtbot.waitUntil(lambda: any(pf.price <= CRASH[-1] for s in sink.snapshots[-1:] for pf in s.positions),
                        timeout=15_000)
        state["crash_end"] = len(sink.snapshots)
        server.inject_fault("Ticker", "unavailable", None)
        server.inject_fault("TradeBalance", "unavailable", None)
        qtbot.waitUntil(lambda: sink.snapshots[-1].stale, timeout=10_000)
        state["stale_at"] = len(sink.snapshots) - 1
        server.clear_faults()
        qtbot.waitUntil(lambda: not sink.snapshots[-1].stale, timeout=10_000)

    sink = _run(config, qtbot, crash_fault_recover)
    snaps = sink.snapshots

    # Every level fired once, in rising order, for the account and for the position.
    by_key = {}
    for a in sink.alerts:
        by_key.setdefault(a.key, []).append(a)
    assert len(by_key) >= 1
    for key, alerts in by_key.items():
        levels = [a.level for a in alerts if not a.stale]
        assert levels == sorted(set(levels)), f"{key}: {levels}"
    account_key = ACCOUNT_KEY
    assert _levels(sink.alerts, account_key) == [Risk.WATCH, Risk.WARNING, Risk.CRITICAL, Risk.LIQUIDATION]

    # The critical alert came while the price was still above the liquidation level.
    critical_snap = next(s for s in snaps if any(a.level == Risk.CRITICAL for a in s.alerts))
    assert critical_snap.positions[0].price > LIQUIDATION_PRICE
    assert critical_snap.account.margin_level > critical_snap.account.liquidation_level

    # Stale: risk unknown, the last positions kept (never "flat"), and never fresh-looking when old.
    stale = snaps[state["stale_at"]]
    assert stale.stale and stale.stale_reason
    assert stale.account is not None and stale.account.risk == Risk.UNKNOWN
    assert [pf.position.id for pf in stale.positions] == ["TPOS1-LONG-BTC"]
    assert all(pf.risk == Risk.UNKNOWN for pf in stale.positions)
    for s in snaps:
        if s.prices_as_of and (s.as_of - s.prices_as_of).total_seconds() > config.price_stale_after_s():
            assert s.stale
    assert not snaps[-1].stale and snaps[-1].account.risk != Risk.UNKNOWN  # recovered
    assert any("retrying" in st for st in sink.statuses)

    # Exchange and journal ran only in the worker thread; signals arrived in the GUI thread.
    names = {name for name, _ in sink.calls}
    assert {"fetch_tickers", "fetch_account", "write_cycle", "write_alerts"} <= names
    assert gui_thread not in {tid for _, tid in sink.calls}
    assert sink.threads == {gui_thread}

    # A settings restart (same app session) on the same database, still in danger: nothing fires again.
    server.set_prices({"BTC/USD": Decimal("12000")})
    settings_restart = _run(config, qtbot, lambda monitor, sink3: qtbot.waitUntil(
        lambda: bool(sink3.histories and sink3.snapshots and not sink3.snapshots[-1].stale), timeout=10_000))
    assert [a for a in settings_restart.alerts if not a.stale and a.key == account_key] == []

    # An app restart (a new session) on the same database: history intact, the danger alerts again.
    from kraken_monitor.worker import poll_worker

    monkeypatch.setattr(poll_worker, "SESSION_STARTED", poll_worker.utc_now())

    def restart(monitor, sink2):
        qtbot.waitUntil(lambda: bool(sink2.histories and sink2.alerts), timeout=10_000)

    sink2 = _run(config, qtbot, restart)
    history = sink2.histories[0]
    ts, prices = history["BTC/USD"]
    assert len(ts) == len(prices) >= len(CRASH) // 2
    assert prices.min() <= float(CRASH[-1]) + 200 and prices.max() >= 16000
    margin_ts, margin_levels = history["margin"]
    assert len(margin_ts) > 0
    assert max(a.level for a in sink2.alerts) >= Risk.CRITICAL


def test_auth_failure_stops_polling_and_says_so(server, tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("KRAKEN_API_SECRET", "c2VjcmV0LXRoYXQtaXMtd3Jvbmc=")
    config = _config(server, tmp_path)
    monitor = MonitorThread(config)
    messages, snaps = [], []
    sink = Sink()
    monitor.worker.auth_failed.connect(sink.on_status, Qt.ConnectionType.QueuedConnection)
    monitor.worker.snapshot_ready.connect(sink.on_snapshot)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: bool(sink.statuses), timeout=10_000)
        calls = len(server.requests_to("TradeBalance"))
        qtbot.wait(300)  # several account intervals: no more private calls after the failure
        assert len(server.requests_to("TradeBalance")) == calls
    finally:
        assert monitor.stop()
    messages, snaps = sink.statuses, sink.snapshots
    assert messages and "c2VjcmV0" not in messages[0]
    assert snaps and snaps[-1].stale and snaps[-1].connection == "auth failed"
    assert snaps[-1].account is None  # never read: unknown, not "no positions"


class _Emitter(QObject):
    requested = Signal(object)


def test_close_action_runs_in_worker_and_is_journaled(server, tmp_path, qtbot):
    config = replace(_config(server, tmp_path), live_trading_enabled=True)
    monitor = MonitorThread(config)
    results, failures, sink = [], [], Sink()
    monitor.worker.action_finished.connect(sink.on_finished)
    monitor.worker.action_failed.connect(sink.on_failed)
    monitor.worker.snapshot_ready.connect(sink.on_snapshot)
    emitter = _Emitter()
    emitter.requested.connect(monitor.worker.handle)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: bool(sink.snapshots) and sink.snapshots[-1].account is not None, timeout=10_000)
        emitter.requested.emit(ClosePosition("TPOS1-LONG-BTC", Decimal("-1"), "market", None))
        qtbot.waitUntil(lambda: bool(sink.statuses), timeout=5_000)
        emitter.requested.emit(ClosePosition("TPOS1-LONG-BTC", Decimal("0.5"), "market", None))
        qtbot.waitUntil(lambda: bool(sink.histories) or len(sink.statuses) > 1, timeout=10_000)
    finally:
        assert monitor.stop()
    results, failures = sink.histories, sink.statuses
    assert "greater than zero" in failures[0]
    assert results, f"close failed: {failures}"
    assert server.requests_to("AddOrder")


class Flaky:
    """Demo exchange whose first price reads raise a plain bug-like exception (not an ExchangeError)."""

    def __init__(self, target, failures):
        self._target, self.failures = target, failures

    def __getattr__(self, name):
        return getattr(self._target, name)

    def fetch_tickers(self, pairs):
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("simulated bug in a price read")
        return self._target.fetch_tickers(pairs)


def flaky_exchange(config, paper_state):
    return Flaky(create_exchange(config, paper_state), failures=3)


class _AlertControl(QObject):
    requested = Signal(object)


def test_unexpected_errors_never_kill_the_thread_and_alerts_are_acknowledged_by_id(tmp_path, qtbot):
    config = MonitorConfig(mode="demo", db_path=tmp_path / "demo.sqlite3", price_interval_s=0.05,
                           account_interval_s=0.1, backoff_cap_s=0.2)
    monitor = MonitorThread(config, exchange_factory=flaky_exchange)
    sink = Sink()
    control = _AlertControl()
    monitor.worker.snapshot_ready.connect(sink.on_snapshot)
    monitor.worker.alerts_fired.connect(sink.on_alerts)
    monitor.worker.status_changed.connect(sink.on_status)
    control.requested.connect(monitor.worker.handle)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: bool(sink.snapshots) and not sink.snapshots[-1].stale, timeout=10_000)
        qtbot.waitUntil(lambda: any(not a.stale for a in sink.alerts), timeout=10_000)
        fired = next(a for a in sink.alerts if not a.stale)
        assert fired.id > 0 and fired.level >= Risk.WATCH
        control.requested.emit(Acknowledge(fired.id))
        control.requested.emit(Snooze(fired.id, 900.0))
        qtbot.wait(200)
        assert monitor.is_running()
    finally:
        assert monitor.stop()
    assert any("RuntimeError" in s or "simulated bug" in s for s in sink.statuses)
    journal = Journal.open(config.db_path)
    try:
        row = next(r for r in journal.recent_alerts() if r.id == fired.id)
        assert row.acknowledged_at is not None and row.snoozed_until is not None
        assert journal.load_paper_state("demo") is not None  # flushed on stop, in the worker thread
    finally:
        journal.close()
