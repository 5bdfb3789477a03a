"""Poller (no Qt) over the demo paper exchange and a real SQLite journal: staleness, persistence, actions."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.models import Risk
from kraken_monitor.exchange.errors import Rejected
from kraken_monitor.exchange.factory import create_exchange
from kraken_monitor.storage.journal import Journal
from kraken_monitor.worker.cycle import Poller

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    state = {"now": T0, "mono": 0.0}  # wall clock (display, journal) and monotonic seconds (ages)

    def now():
        return state["now"]

    now.state = state
    return now


@pytest.fixture
def poller(tmp_path, clock):
    config = MonitorConfig(mode="demo", price_interval_s=1.0, account_interval_s=3.0, stale_after_intervals=3,
                           paper_save_every_cycles=2, db_path=tmp_path / "j.sqlite3")
    journal = Journal.open(config.db_path)
    p = Poller(config, create_exchange(config, clock=clock), journal, monotonic=lambda: clock.state["mono"])
    yield p
    if p.journal is not None:
        p.flush()


def test_account_never_read_is_unknown_not_flat(poller):
    poller.poll_prices(T0)
    snap = poller.build_snapshot(T0)
    assert snap.stale and "account never read" in snap.stale_reason
    assert snap.account is None and snap.positions == ()


def test_fresh_then_stale_keeps_last_positions_with_risk_unknown(poller, clock):
    poller.poll_account(T0)
    poller.poll_prices(T0)
    clock.state["mono"] = 2.9
    fresh = poller.build_snapshot(T0 + timedelta(seconds=2.9))
    assert not fresh.stale and fresh.stale_reason == ""
    assert fresh.account is not None and fresh.account.risk != Risk.UNKNOWN and fresh.positions
    # Prices older than 3 x 1 s: stale, figures kept, every risk unknown.
    later = T0 + timedelta(seconds=3.5)
    clock.state["mono"] = 3.5
    stale = poller.build_snapshot(later)
    assert stale.stale and "prices are 3.5 s old" in stale.stale_reason
    assert [pf.position.id for pf in stale.positions] == [pf.position.id for pf in fresh.positions]
    assert stale.account.risk == Risk.UNKNOWN and {pf.risk for pf in stale.positions} == {Risk.UNKNOWN}
    # Fresh prices again, but the account is now older than 3 x 3 s.
    clock.state["mono"] = 9.5
    poller.poll_prices(T0 + timedelta(seconds=9.5))
    old_account = poller.build_snapshot(T0 + timedelta(seconds=9.5))
    assert old_account.stale and "account data is 9.5 s old" in old_account.stale_reason
    assert "prices" not in old_account.stale_reason


def test_persist_writes_new_data_once_and_numbers_alerts(poller, clock):
    poller.poll_account(T0)
    poller.poll_prices(T0)
    snap = poller.build_snapshot(T0)
    fired = poller.persist(snap)
    counts = poller.journal.row_counts()
    assert counts["account_snapshots"] == 1 and counts["position_snapshots"] == len(snap.positions)
    # The demo book holds a position near its margin call: a fresh engine fires for it at start-up.
    assert snap.alerts and [replace(f, id=0) for f in fired] == list(snap.alerts)  # the same records, numbered
    assert all(f.id > 0 for f in fired) and fired[0].level == snap.alerts[0].level
    acked = poller.acknowledge_alert(fired[0].id, T0 + timedelta(seconds=1))
    assert acked.acknowledged_at == T0 + timedelta(seconds=1)
    assert next(a for a in poller.journal.recent_alerts() if a.id == acked.id) == acked  # persisted as decided
    # Same data again (no new read): nothing new written.
    poller.persist(poller.build_snapshot(T0 + timedelta(seconds=0.5)))
    assert poller.journal.row_counts()["account_snapshots"] == 1
    assert poller.journal.load_paper_state("demo") is not None  # saved on the 2nd cycle
    assert poller.last_write_s is not None


def test_actions_call_the_exchange_and_are_journaled(poller):
    poller.poll_account(T0)
    poller.poll_prices(T0)
    pos = poller.account.positions[0]
    result = poller.close(pos.id, pos.remaining_volume / 2)
    assert result.order_id
    with pytest.raises(InvalidAmount):
        poller.close(pos.id, 0.5)  # floats never become money
    with pytest.raises(Rejected):
        poller.close("NO-SUCH-POSITION", Decimal("1"))
    poller.add_collateral("1000")
    actions = poller.journal.actions()
    assert [(a["kind"], a["ok"]) for a in actions[:3]] == [("add_collateral", True), ("close", False),
                                                            ("close", True)]
    assert actions[2]["request"]["position_id"] == pos.id
    after = poller.poll_account(T0 + timedelta(seconds=1))
    closed = next(p for p in after.positions if p.id == pos.id)
    assert closed.remaining_volume == pos.remaining_volume - pos.remaining_volume / 2
    saved = poller.journal.load_paper_state("demo")
    assert saved is not None and saved["mode"] == "demo"  # saved right after the action


def test_flush_closes_the_journal_and_keeps_the_paper_account(poller, tmp_path, clock):
    poller.poll_account(T0)
    poller.add_collateral(Decimal("500"))
    poller.flush()
    assert poller.journal is None
    reopened = Journal.open(tmp_path / "j.sqlite3")
    try:
        state = reopened.load_paper_state("demo")
        fresh = create_exchange(poller.config, paper_state=state, clock=clock)
        assert fresh.fetch_account().balance.trade_balance == poller.account.balance.trade_balance + 500
    finally:
        reopened.close()


def test_a_read_is_as_old_as_its_request_not_as_the_rules_load_before_it(tmp_path, clock):
    # A first start loads AssetPairs (2.5 s on this clock) before the account request goes out. Counting
    # that load in the account's age made every start flap "risk unknown" for a moment (window 3 x 1 s).
    config = MonitorConfig(mode="demo", price_interval_s=1.0, account_interval_s=1.0, stale_after_intervals=3,
                           db_path=tmp_path / "j.sqlite3")
    exchange = create_exchange(config, clock=clock)
    load = exchange.load_pair_rules

    def slow_load_pair_rules():
        clock.state["mono"] += 2.5
        return load()

    exchange.load_pair_rules = slow_load_pair_rules
    poller = Poller(config, exchange, None, monotonic=lambda: clock.state["mono"])
    poller.poll_account(T0)  # rules 0 -> 2.5 s, then the account request at 2.5 s
    poller.poll_prices(T0)  # rules in hand: asked at 2.5 s
    clock.state["mono"] = 5.0  # account and prices 2.5 s old (5.0 s if counted from the rules load)
    fresh = poller.build_snapshot(T0 + timedelta(seconds=5))
    assert not fresh.stale, fresh.stale_reason
    clock.state["mono"] = 5.6  # 5.6 - 2.5 = 3.1 s > 3 s: stale, with the age measured from the request
    stale = poller.build_snapshot(T0 + timedelta(seconds=5.6))
    assert stale.stale and "account data is 3.1 s old" in stale.stale_reason
