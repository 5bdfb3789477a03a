"""Replay from a real journal file: a recorded demo crash rebuilt cycle by cycle, its alerts in order, a partial
close, acknowledgements as they stood, and the write side keeping only changed inputs."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from kraken_monitor.domain.models import Risk
from kraken_monitor.storage.journal import Journal
from kraken_monitor.storage.replay_queries import NotReplayable, open_read_only, replay_at, replay_range
from kraken_monitor.testing.builders import BTC, ETH, PRICES, RULES, account_state, engine_snapshot, position
from kraken_monitor.testing.recordings import record_demo_crash
from kraken_monitor.worker.replay_command import run_replay
from kraken_monitor.worker.serialize import snapshot_to_json

T = datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)
LEVELS = [Risk.WATCH, Risk.WARNING, Risk.CRITICAL, Risk.LIQUIDATION]


def test_replay_of_a_recorded_demo_crash_rebuilds_every_cycle_and_its_alerts_in_order(tmp_path):
    config, snapshots, fired = record_demo_crash(tmp_path)
    conn = open_read_only(config.journal_path())
    try:
        first, last = replay_range(conn)
        assert (first, last) == (snapshots[0].as_of, snapshots[-1].as_of)
        for live in snapshots:
            replayed = replay_at(conn, live.as_of, config.thresholds)
            # The same JSON as `snapshot --json` printed live: every account and position figure, risk and
            # staleness, recomputed from the journal's records with the same engine.
            assert snapshot_to_json(replayed.snapshot) == snapshot_to_json(live)
        # A moment between two cycles shows the earlier one (what was on screen then).
        between = snapshots[10].as_of + (snapshots[11].as_of - snapshots[10].as_of) / 2
        assert replay_at(conn, between).snapshot.as_of == snapshots[10].as_of

        # The alert log at the liquidation cycle: every alert fired up to then, newest first, exactly as fired.
        end = replay_at(conn, snapshots[-1].as_of, config.thresholds)
        assert [(a.id, a.key, a.level, a.reason) for a in reversed(end.alerts)] == [
            (a.id, a.key, a.level, a.reason) for a in fired]
        account_levels = [a.level for a in reversed(end.alerts) if a.key == "account"]
        assert account_levels == LEVELS  # the crash walks the account up the ladder once, in order
        # Just before the liquidation event's cycle, the event had not happened yet.
        event = next(a for a in fired if a.reason == "position_liquidated")
        before = replay_at(conn, event.fired_at - timedelta(microseconds=1))
        assert event.id not in {a.id for a in before.alerts}
        assert event.position_id in {pf.position.id for pf in before.snapshot.positions}
        assert event.position_id not in {pf.position.id for pf in end.snapshot.positions}
        with pytest.raises(NotReplayable):
            replay_at(conn, snapshots[0].as_of - timedelta(seconds=1))
    finally:
        conn.close()

    # The headless counterpart prints the same object `snapshot --json` printed at that moment.
    out, err = io.StringIO(), io.StringIO()
    assert run_replay(config, snapshots[-2].as_of, as_json=True, out=out, err=err) == 0
    assert json.loads(out.getvalue()) == json.loads(json.dumps(snapshot_to_json(snapshots[-2])))
    table = io.StringIO()
    assert run_replay(config, snapshots[-1].as_of, as_json=False, out=table) == 0
    assert table.getvalue().startswith("REPLAY of the demo journal at ") and "not live" in table.getvalue()
    too_early = io.StringIO()
    assert run_replay(config, snapshots[0].as_of - timedelta(days=1), as_json=True, out=out, err=too_early) == 2
    assert too_early.getvalue().startswith("kraken-monitor: nothing recorded at or before ")


def _write(journal: Journal, state, now, prices=None, **fields):
    snap = engine_snapshot(state, prices or PRICES, RULES, now, prices_as_of=now, **fields)
    journal.write_cycle(snap)
    return snap


def test_a_partial_close_replays_with_the_volume_left_then_and_inputs_are_kept_only_when_changed(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    btc = position("TX-BTC", BTC, vol="2", entry="60000", lev=5, opened=T - timedelta(hours=3))
    eth = position("TX-ETH", ETH, vol="10", entry="3000", lev=3, opened=T - timedelta(hours=2))
    before = account_state("30000", btc, eth, as_of=T)
    _write(journal, before, T)
    _write(journal, before, T + timedelta(seconds=1))  # the very same records: no new input rows
    # Half the BTC position closed: Kraken's vol_closed 1, cost and margin of the remaining volume halved.
    closed = replace(btc, volume_closed=D("1"), cost=btc.cost / 2, margin=btc.margin / 2)
    after = account_state("30500", closed, eth, as_of=T + timedelta(seconds=2))
    moved = dict(PRICES, **{BTC: D("61000")})
    _write(journal, after, T + timedelta(seconds=2), moved)
    states = journal.conn.execute("SELECT position_id FROM position_states ORDER BY rowid").fetchall()
    assert [r[0] for r in states] == ["TX-BTC", "TX-ETH", "TX-BTC"]  # 2 at first sight, then the changed one
    assert journal.conn.execute("SELECT COUNT(*) FROM pair_rules_log").fetchone()[0] == len(RULES)
    journal.close()

    conn = open_read_only(path)
    try:
        old = {pf.position.id: pf for pf in replay_at(conn, T + timedelta(seconds=1)).snapshot.positions}
        new = replay_at(conn, T + timedelta(seconds=2, milliseconds=500)).snapshot
    finally:
        conn.close()
    assert old["TX-BTC"].remaining_volume == D("2") and old["TX-BTC"].price == PRICES[BTC]
    replayed = {pf.position.id: pf for pf in new.positions}
    assert replayed["TX-BTC"].remaining_volume == D("1")
    # Entry = remaining cost / remaining volume = 60000 / 1; P&L at 61000 = (61000 - 60000) x 1 = 1000.
    assert replayed["TX-BTC"].entry_price == D("60000")
    assert replayed["TX-BTC"].unrealized_pnl == D("1000")
    assert new.account.trade_balance == D("30500")


def test_a_later_acknowledgement_is_not_shown_in_an_earlier_replay(tmp_path):
    from kraken_monitor.testing.records import alert

    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    state = account_state("30000", position("TX-BTC", BTC, vol="1", entry="60000", opened=T), as_of=T)
    _write(journal, state, T)
    fired = alert(level=Risk.WARNING, at=T)
    (alert_id,) = journal.write_alerts([fired])
    _write(journal, state, T + timedelta(minutes=5))
    journal.save_alert_state(replace(fired, id=alert_id, acknowledged_at=T + timedelta(minutes=3)))
    journal.close()
    conn = open_read_only(path)
    try:
        at_one = replay_at(conn, T + timedelta(minutes=1)).alerts
        at_five = replay_at(conn, T + timedelta(minutes=5)).alerts
    finally:
        conn.close()
    assert [(a.id, a.acknowledged_at) for a in at_one] == [(alert_id, None)]
    assert [(a.id, a.acknowledged_at) for a in at_five] == [(alert_id, T + timedelta(minutes=3))]


def test_replay_shows_the_orders_of_the_time_with_their_stops_and_warnings(tmp_path):
    from kraken_monitor.testing.builders import open_order

    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    btc = position("TX-BTC", BTC, vol="2", entry="60000", lev=5, opened=T - timedelta(hours=3))
    eth = position("TX-ETH", ETH, vol="10", entry="3000", lev=3, opened=T - timedelta(hours=2))
    # At T: a reduce-only stop under the BTC long, and a buy limit on XRP that protects nothing (unattached).
    stop = open_order("OSL-1", BTC, "stop-loss", "sell", vol="2", trigger="58000", reduce_only=True)
    loose = open_order("OLX-1", "XRP/USD", "limit", "buy", vol="100", trigger=None, limit="0.5", margin=False)
    protected = replace(account_state("30000", btc, eth, as_of=T), orders=(stop, loose))
    live_then = _write(journal, protected, T)
    _write(journal, protected, T + timedelta(seconds=1))  # the same orders again: no second orders_log row
    # At T+2 s the stop was cancelled: the BTC long is unprotected from then on.
    bare = account_state("30000", btc, eth, as_of=T + timedelta(seconds=2))
    live_after = _write(journal, bare, T + timedelta(seconds=2))
    assert journal.conn.execute("SELECT COUNT(*) FROM orders_log").fetchone()[0] == 2
    journal.close()

    conn = open_read_only(path)
    try:
        then = replay_at(conn, T + timedelta(seconds=1, milliseconds=500)).snapshot
        after = replay_at(conn, T + timedelta(seconds=3)).snapshot
    finally:
        conn.close()
    btc_then = next(pf for pf in then.positions if pf.position.id == "TX-BTC")
    assert btc_then.stop_loss_price == D("58000") and "unprotected" not in [str(getattr(w, "value", w))
                                                                            for w in btc_then.warnings]
    assert [o.id for o in then.account.orders] == ["OLX-1"]
    # The snapshot JSON of each moment is what `snapshot --json` printed live then (orders, stops, warnings).
    for replayed, live in ((then, live_then), (after, live_after)):
        got, want = snapshot_to_json(replayed), snapshot_to_json(live)
        assert [(p["id"], p["orders"], p["stop_loss_price"], p["warnings"]) for p in got["positions"]] == [
            (p["id"], p["orders"], p["stop_loss_price"], p["warnings"]) for p in want["positions"]]
        assert got["account"]["orders"] == want["account"]["orders"]
    btc_after = next(pf for pf in after.positions if pf.position.id == "TX-BTC")
    assert btc_after.stop_loss_price is None
