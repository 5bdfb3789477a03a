"""Request records through PollWorker.handle: one slot, dispatched to the Poller, one result pair."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.base import OrderResult
from kraken_monitor.testing.builders import T0
from kraken_monitor.worker.opening import open_poller
from kraken_monitor.worker.poll_worker import PollWorker
from kraken_monitor.worker.requests import AddCollateral, ClosePosition, Snooze


def _worker(tmp_path, connected=True):
    """A PollWorker driven in this thread (never started): its poller is the real demo one."""
    config = MonitorConfig(mode="demo", db_path=tmp_path / "demo.sqlite3")
    worker = PollWorker(config)
    if connected:
        worker.poller = open_poller(config).poller
    results = []
    worker.action_finished.connect(lambda request, result: results.append(("finished", request, result)))
    worker.action_failed.connect(lambda request, text: results.append(("failed", request, text)))
    return worker, results


def test_before_the_exchange_exists_a_request_fails_with_itself_and_the_reason(tmp_path):
    worker, results = _worker(tmp_path, connected=False)
    close = ClosePosition("PAPER-00001", Decimal("0.5"))
    worker.handle(close)
    assert results == [("failed", close, "Not connected to the exchange yet.")]


def test_an_order_request_reaches_the_poller_and_comes_back_with_its_result(tmp_path):
    worker, results = _worker(tmp_path)
    try:
        request = AddCollateral(Decimal("250"))
        worker.handle(request)
        assert [(kind, req) for kind, req, _ in results] == [("finished", request)]
        assert isinstance(results[0][2], OrderResult)
        rows = worker.poller.journal.conn.execute(
            "SELECT kind, ok, request FROM actions WHERE kind NOT LIKE 'paper:%'").fetchall()
        assert [tuple(r) for r in rows] == [("add_collateral", 1, '{"amount": "250"}')]  # journaled as before
        bad = AddCollateral(Decimal("-1"))
        worker.handle(bad)
        assert results[-1][:2] == ("failed", bad) and "greater than zero" in results[-1][2]
    finally:
        worker.poller.flush()


def test_an_unknown_record_is_refused_not_raised(tmp_path):
    worker, results = _worker(tmp_path, connected=False)
    worker.handle("close everything")
    assert results == [("failed", "close everything", "Unknown request (str).")]


def test_snooze_applies_until_now_plus_its_seconds():
    calls = []

    class Poller:
        def snooze_alert(self, alert_id, until, confirmed):
            calls.append((alert_id, until, confirmed))

    Snooze(7, 900.0, True).apply(Poller(), T0)
    assert calls == [(7, T0 + timedelta(seconds=900), True)]
