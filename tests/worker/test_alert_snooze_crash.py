"""Snooze through the real worker and journal: a snoozed "watch" alert never silences a crash to liquidation."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.alerts import ACCOUNT_KEY
from kraken_monitor.domain.models import Risk
from kraken_monitor.storage.journal import Journal
from kraken_monitor.testing.fakes import CrashOnCueWorker
from kraken_monitor.worker.requests import Snooze
from kraken_monitor.worker.runner import MonitorThread


class Control(QObject):
    requested = Signal(object)
    crash = Signal()


class Sink(QObject):
    def __init__(self):
        super().__init__()
        self.alerts, self.failures = [], []

    @Slot(object)
    def on_alerts(self, alerts):
        self.alerts.extend(alerts)

    @Slot(object, str)
    def on_failed(self, request, text):
        self.failures.append(text)


def account_levels(sink: Sink) -> list[Risk]:
    return [a.level for a in sink.alerts if a.key == ACCOUNT_KEY]


def test_snooze_a_watch_alert_then_crash_critical_and_liquidation_still_fire(qtbot, tmp_path):
    config = MonitorConfig(mode="demo", db_path=tmp_path / "demo.sqlite3", price_interval_s=0.05,
                           account_interval_s=0.05, demo_speed=60.0, sound_enabled=False)
    monitor = MonitorThread(config, worker_class=CrashOnCueWorker)
    sink, control = Sink(), Control()
    monitor.worker.alerts_fired.connect(sink.on_alerts)
    monitor.worker.action_failed.connect(sink.on_failed)
    control.requested.connect(monitor.worker.handle)
    control.crash.connect(monitor.worker.start_crash)
    monitor.start()
    try:
        # The demo book starts in WATCH (README): that alert fires first.
        qtbot.waitUntil(lambda: account_levels(sink) == [Risk.WATCH], timeout=15_000)
        watch = sink.alerts[[a.key for a in sink.alerts].index(ACCOUNT_KEY)]
        control.requested.emit(Snooze(watch.id, 900.0, False))  # 15 min, the alert log's snooze
        control.crash.emit()  # queued after the snooze: the worker handles them in this order
        qtbot.waitUntil(lambda: Risk.LIQUIDATION in account_levels(sink), timeout=30_000)
        liquidation = next(a for a in sink.alerts if a.key == ACCOUNT_KEY and a.level is Risk.LIQUIDATION)
        control.requested.emit(Snooze(liquidation.id, 900.0, False))  # not confirmed: refused
        qtbot.waitUntil(lambda: bool(sink.failures), timeout=5_000)
    finally:
        assert monitor.stop()
    assert account_levels(sink) == [Risk.WATCH, Risk.WARNING, Risk.CRITICAL, Risk.LIQUIDATION]
    assert "confirmation" in sink.failures[0]
    journal = Journal.open(config.db_path)
    try:
        rows = {r.id: r for r in journal.recent_alerts()}
        assert rows[watch.id].snoozed_until is not None
        assert rows[liquidation.id].snoozed_until is None  # the refused snooze was not journalled
    finally:
        journal.close()
