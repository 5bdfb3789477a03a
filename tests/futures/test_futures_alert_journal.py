"""Futures alerts go through the spot worker's journal: ids, acknowledge and snooze persist, a snooze quiets the key."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.futures_alerts import FuturesAlertTracker
from kraken_monitor.domain.models import Risk
from kraken_monitor.exchange.paper_futures import PaperFuturesExchange
from kraken_monitor.storage.journal import Journal
from kraken_monitor.testing.fakes import FakeMonitor
from kraken_monitor.testing.futures_books import futures_book
from kraken_monitor.ui.alert_log import AlertColumn
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.futures_watch import FuturesPoller
from kraken_monitor.worker.requests import RecordAlerts
from kraken_monitor.worker.runner import MonitorThread


def _futures_rows_of(model):
    return [model.row(r) for r in range(model.rowCount()) if model.row(r).is_futures]


def test_a_futures_alert_is_journalled_and_its_acknowledgement_persists(qtbot, tmp_path):
    db = tmp_path / "demo.sqlite3"
    config = MonitorConfig(mode="demo", db_path=db, price_interval_s=0.2, account_interval_s=0.2,
                           sound_enabled=False)
    window = MainWindow("demo")
    qtbot.addWidget(window)
    session = MonitorSession(window, config, monitor_factory=MonitorThread, futures=True,
                             lock_journal=lambda c: None,
                             futures_poller=lambda c, i: FuturesPoller(c, 0.2, factory=PaperFuturesExchange.demo))
    session.start()
    log = window.alert_dock.model
    try:
        # The demo's isolated ETH short ~21 % from liquidation: a watch alert, with a journal id this time.
        qtbot.waitUntil(lambda: any(a.id > 0 for a in _futures_rows_of(log)), timeout=20_000)
        alert = next(a for a in _futures_rows_of(log) if a.id > 0)
        row = next(r for r in range(log.rowCount()) if log.row(r).id == alert.id)
        assert log.index(row, AlertColumn.ACCOUNT).data() == "futures demo"
        window.alert_dock.table.selectRow(row)
        window.alert_dock.acknowledge_selected()  # the same path as a spot alert: Acknowledge(id) to the worker
        qtbot.waitUntil(lambda: log.index(row, AlertColumn.STATE).data().startswith("acknowledged"), timeout=5000)
    finally:
        assert session.stop()
    journal = Journal.open(db)
    try:
        stored = next(a for a in journal.recent_alerts() if a.id == alert.id)
    finally:
        journal.close()
    assert stored.key == alert.key and stored.is_futures and stored.acknowledged_at is not None
    assert stored.fact("account") == "futures demo"
    assert isinstance(stored.fact("liquidation_price"), Decimal)  # read back exact, for the message


def test_a_worker_that_cannot_take_them_does_not_hold_futures_alerts_back(qtbot, tmp_path):
    window = MainWindow("demo")
    qtbot.addWidget(window)
    session = MonitorSession(window, MonitorConfig(), monitor_factory=lambda c: FakeMonitor(),
                             lock_journal=lambda c: None)
    session.start()
    (alert,) = FuturesAlertTracker("futures demo").update(_closer_book())
    session.record_futures_alerts((alert,))  # FakeMonitor has no journal to send them to
    assert [a.key for a in _futures_rows_of(window.alert_dock.model)] == [alert.key]
    session.stop()


def test_record_alerts_gives_journal_ids_and_the_engine_remembers_them(tmp_path):
    from kraken_monitor.worker.opening import open_poller

    (alert,) = FuturesAlertTracker("futures demo").update(_closer_book())
    poller = open_poller(MonitorConfig(mode="demo", db_path=tmp_path / "j.sqlite3")).poller
    try:
        (recorded,) = RecordAlerts((alert,)).apply(poller, alert.fired_at)
        assert recorded.id > 0 and replace(recorded, id=0) == alert
        acknowledged = poller.acknowledge_alert(recorded.id, alert.fired_at + timedelta(seconds=5))
        assert acknowledged is not None and acknowledged.acknowledged_at is not None
        assert poller.journal.recent_alerts()[0].acknowledged_at == acknowledged.acknowledged_at
    finally:
        poller.journal.close()


def _closer_book(minutes: int = 0) -> FuturesBook:
    """The worked book's isolated BTC long alone (testing/futures_books.py): 22.30 % from liquidation -> watch."""
    book = futures_book()
    return replace(book, as_of=book.as_of + timedelta(minutes=minutes), positions=book.positions[:1])


def _warning_book(minutes: int) -> FuturesBook:
    book = _closer_book(minutes)
    (btc,) = book.positions
    return replace(book, positions=(replace(btc, risk=Risk.WARNING),))


def test_a_snoozed_futures_alert_stays_quiet_at_its_level_and_a_higher_one_fires_through():
    tracker = FuturesAlertTracker("futures demo")
    (watch,) = tracker.update(_closer_book())
    assert watch.level is Risk.WATCH
    tracker.follow(replace(watch, id=7, snoozed_until=watch.fired_at + timedelta(minutes=15)))
    ok = replace(_closer_book(1), positions=tuple(replace(p, risk=Risk.OK) for p in _closer_book(1).positions))
    tracker.update(ok)  # back to OK: the key re-arms ...
    assert tracker.update(_closer_book(2)) == ()  # ... but watch again within the snooze: quiet
    (warning,) = tracker.update(_warning_book(3))  # a higher level fires through the snooze
    assert warning.level is Risk.WARNING
    tracker.update(ok)
    assert [a.level for a in tracker.update(_closer_book(16))] == [Risk.WATCH]  # snooze over

