"""Journal on real SQLite files: atomic cycles, restart, permissions, WAL, migrations, alerts, actions, history."""

from __future__ import annotations

import math
import os
import sqlite3
import stat
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D

import numpy as np
import pytest
import sqlite_utils

from kraken_monitor.domain.models import Risk
from kraken_monitor.storage import schema
from kraken_monitor.storage.journal import Journal, JournalError
from kraken_monitor.testing.records import T0, alert, position_figures, seconds, snapshot


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / "sub" / "journal.sqlite3"


@pytest.fixture
def journal(db_path):
    j = Journal.open(db_path)
    yield j
    j.close()


def test_cycle_write_is_atomic_when_a_row_fails_mid_write(journal):
    journal.write_cycle(snapshot(T0))
    before = journal.row_counts()
    # The third position cannot be bound by sqlite3: ticks and the account row were already inserted
    # inside the transaction when it fails, so everything of this cycle must roll back.
    bad = position_figures("BAD")
    bad = replace(bad, position=replace(bad.position, id=object()))
    broken = snapshot(T0 + seconds(1))
    broken = replace(broken, positions=broken.positions + (bad,))
    with pytest.raises(JournalError):
        journal.write_cycle(broken)
    assert journal.row_counts() == before
    assert journal.last_cycle_ts() == T0.timestamp()
    # The rolled-back ticks are not remembered as written: the next good cycle stores them.
    journal.write_cycle(snapshot(T0 + seconds(1)))
    assert journal.row_counts()["ticks"] == before["ticks"] + 2


def test_ticks_are_not_duplicated_when_only_the_account_changed(journal):
    journal.write_cycle(snapshot(T0))
    same_prices = replace(snapshot(T0), as_of=T0 + seconds(3))
    journal.write_cycle(same_prices)
    counts = journal.row_counts()
    assert (counts["ticks"], counts["account_snapshots"], counts["position_snapshots"]) == (2, 2, 4)


def test_history_survives_close_and_reopen_exactly(db_path):
    j = Journal.open(db_path)
    for i in range(5):
        j.write_cycle(snapshot(T0 + seconds(i), price=str(70000 + i)))
    j.write_alerts([alert()])
    j.close()
    j = Journal.open(db_path)
    try:
        ts, prices = j.price_history("BTC/USD")
        assert ts.dtype == np.float64 and prices.dtype == np.float64
        assert list(prices) == [70000.0, 70001.0, 70002.0, 70003.0, 70004.0]
        assert list(ts) == [(T0 + seconds(i)).timestamp() for i in range(5)]
        row = j.conn.execute("SELECT equity, margin_level FROM account_snapshots ORDER BY ts LIMIT 1").fetchone()
        assert (D(row[0]), D(row[1])) == (D("9987.66"), D("212.34"))  # TEXT keeps the Decimal exact
        pos = j.conn.execute("SELECT upnl, liquidation_price, side FROM position_snapshots LIMIT 1").fetchone()
        assert pos == ("-12.3456789", "80123.45678", "short")
        assert j.recent_alerts()[0].margin_level == D("78.25")
        assert j.known_pairs() == ["BTC/USD", "ETH/USD"]
        # Ticks written before the restart are still deduplicated after it.
        j.write_cycle(snapshot(T0 + seconds(4)))
        assert j.row_counts()["ticks"] == 10
    finally:
        j.close()


def test_file_is_private_even_with_a_wide_umask(tmp_path):
    path = tmp_path / "new" / "dir" / "j.sqlite3"
    old = os.umask(0)
    try:
        j = Journal.open(path)
        j.write_cycle(snapshot())
        for p in (path, path.with_name("j.sqlite3-wal"), path.with_name("j.sqlite3-shm")):
            assert p.exists(), p
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
        j.close()
    finally:
        os.umask(old)


def test_wal_synchronous_normal_and_same_thread_only(journal):
    assert journal.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert journal.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    import threading

    errors = []
    thread = threading.Thread(target=lambda: _catch(errors, journal.last_cycle_ts))
    thread.start()
    thread.join()
    assert errors and isinstance(errors[0], sqlite3.ProgrammingError)


def _catch(errors, call):
    try:
        call()
    except Exception as exc:
        errors.append(exc)


def test_migrates_from_version_zero_and_reopen_is_idempotent(db_path):
    db_path.parent.mkdir(parents=True)
    legacy = sqlite3.connect(db_path)  # an existing version-0 file (e.g. created by an older tool)
    legacy.execute("CREATE TABLE unrelated (x)")
    legacy.commit()
    legacy.close()
    j = Journal.open(db_path)
    assert j.conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
    tables = set(j.db.table_names())
    assert {"ticks", "account_snapshots", "position_snapshots", "alerts", "actions", "paper_state",
            "meta", "unrelated"} <= tables
    j.write_cycle(snapshot())
    j.close()
    j = Journal.open(db_path)  # reopen: nothing re-created, data kept
    assert j.conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
    assert j.row_counts()["account_snapshots"] == 1
    j.close()


def test_migrations_run_in_order_once_and_a_failed_one_leaves_no_trace(tmp_path):
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "m.sqlite3"))
    calls = []

    def v2(d):
        calls.append(2)
        d["extra"].create({"a": int})

    def v3_broken(d):
        d["half"].create({"a": int})
        raise RuntimeError("boom")

    current = len(schema.MIGRATIONS)
    assert schema.migrate(db, (*schema.MIGRATIONS, v2)) == current + 1
    assert schema.migrate(db, (*schema.MIGRATIONS, v2)) == 0
    assert calls == [2]
    with pytest.raises(RuntimeError):
        schema.migrate(db, (*schema.MIGRATIONS, v2, v3_broken))
    assert schema.schema_version(db) == current + 1 and "half" not in db.table_names()
    with pytest.raises(schema.SchemaTooNew):
        schema.migrate(db, schema.MIGRATIONS)


def test_version_one_journal_upgrades_keeping_its_history(db_path):
    """A file written by the v1 schema (with the time indexes) opens, loses only those indexes, keeps its rows."""
    db_path.parent.mkdir(parents=True)
    v1 = sqlite_utils.Database(sqlite3.connect(db_path))
    schema.migrate(v1, schema.MIGRATIONS[:1])
    v1.conn.execute("INSERT INTO ticks (ts, pair, bid, ask, last, last_f) VALUES (?,?,?,?,?,?)",
                    (T0.timestamp(), "BTC/USD", "1.5", "1.7", "1.6", 1.6))
    v1.conn.execute("INSERT INTO position_snapshots (ts, position_id, upnl) VALUES (?,?,?)",
                    (T0.timestamp(), "TX1", "-12.3456789"))
    v1.conn.commit()
    assert {"idx_ticks_ts", "idx_position_snapshots_ts"} <= _indexes(v1.conn)
    v1.conn.close()
    j = Journal.open(db_path)
    assert schema.schema_version(j.db) == len(schema.MIGRATIONS)
    indexes = _indexes(j.conn)
    assert "idx_ticks_ts" not in indexes and "idx_position_snapshots_ts" not in indexes
    assert {"idx_ticks_pair_ts", "idx_account_snapshots_ts"} <= indexes  # the readers' indexes stay
    j.write_cycle(snapshot(T0 + seconds(1), price="1.8", pairs=("BTC/USD",)))  # the old last tick is known
    assert j.price_history("BTC/USD")[1].tolist() == [1.6, 1.8]
    assert j.conn.execute("SELECT upnl FROM position_snapshots WHERE position_id = 'TX1'").fetchone() == (
        "-12.3456789",)
    j.close()


def _indexes(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_newer_schema_is_refused_with_a_typed_error(db_path):
    Journal.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(JournalError, match="newer"):
        Journal.open(db_path)


def test_alerts_round_trip_with_ids_facts_and_what_the_trader_did(journal):
    ids = journal.write_alerts([alert("account", Risk.WARNING), alert("pos:X", Risk.CRITICAL, T0 + seconds(1))])
    assert len(ids) == 2 and ids[1] > ids[0]
    newest, oldest = journal.recent_alerts()
    assert oldest == replace(alert("account", Risk.WARNING), id=ids[0])  # one record, Decimals and facts exact
    assert oldest.fact("margin_call_level") == D("80") and isinstance(oldest.fact("closest_price_places"), int)
    acked = replace(oldest, acknowledged_at=T0 + seconds(5))
    snoozed = replace(newest, snoozed_until=T0 + timedelta(hours=1))
    assert journal.save_alert_state(acked) and journal.save_alert_state(snoozed)
    assert not journal.save_alert_state(replace(acked, id=12345))  # no such row
    assert journal.recent_alerts() == [snoozed, acked]
    assert len(journal.recent_alerts(limit=1)) == 1


def test_alert_rows_from_before_reason_codes_keep_their_text(db_path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path)
    schema.migrate(sqlite_utils.Database(conn), schema.MIGRATIONS[:2])  # a v2 journal
    conn.execute("INSERT INTO alerts (key, level, message, fired_at, stale) VALUES"
                 " ('account', 2, 'Margin level 95.0% is approaching the margin call (80%)', ?, 0)", (T0.timestamp(),))
    conn.commit()
    conn.close()
    journal = Journal.open(db_path)
    try:
        (old,) = journal.recent_alerts()
        assert old.reason == "" and old.level is Risk.WARNING
        from kraken_monitor.text.alerts import alert_message

        assert alert_message(old) == "Margin level 95.0% is approaching the margin call (80%)"
    finally:
        journal.close()


def test_actions_are_recorded_without_secrets(journal):
    action_id = journal.record_action("close", {"position_id": "TX1", "volume": D("0.25"), "api_secret": "s3cr3t"},
                                      ok=False, result="EOrder:Insufficient margin", now=T0)
    (row,) = journal.actions()
    assert row["id"] == action_id and row["ok"] is False and row["result"] == "EOrder:Insufficient margin"
    assert row["request"] == {"position_id": "TX1", "volume": "0.25", "api_secret": "<redacted>"}
    raw = journal.path.read_bytes() + journal.path.with_name(journal.path.name + "-wal").read_bytes()
    assert b"s3cr3t" not in raw


def test_paper_state_round_trip_both_call_forms(journal, db_path):
    assert journal.load_paper_state("paper") is None
    journal.save_paper_state("paper", {"balance": D("10000.50"), "n": 1}, T0)
    journal.save_paper_state("paper", {"balance": D("9000.25"), "n": 2}, T0 + seconds(1))
    assert journal.load_paper_state("paper") == {"balance": "9000.25", "n": 2}
    journal.save_paper_state({"version": 1, "mode": "demo", "account": None})  # the worker's form
    assert journal.load_paper_state("demo") == {"version": 1, "mode": "demo", "account": None}
    journal.close()
    reopened = Journal.open(db_path)
    assert reopened.load_paper_state("paper")["n"] == 2
    reopened.close()


def test_price_history_since_and_limit(journal):
    for i in range(10):
        journal.write_cycle(snapshot(T0 + seconds(i), price=str(100 + i), pairs=("BTC/USD",), positions=0))
    ts, prices = journal.price_history("BTC/USD", since_ts=(T0 + seconds(7)).timestamp())
    assert list(prices) == [107.0, 108.0, 109.0]
    ts, prices = journal.price_history("BTC/USD", since_ts=T0 + seconds(2), limit=3)
    assert list(prices) == [107.0, 108.0, 109.0] and list(np.diff(ts)) == [1.0, 1.0]
    empty_ts, empty = journal.price_history("XRP/USD")
    assert empty_ts.shape == (0,) and empty.shape == (0,)


def test_margin_history_has_nan_where_no_margin_used(journal):
    journal.write_cycle(snapshot(T0, margin_level="150.5"))
    journal.write_cycle(snapshot(T0 + seconds(1), margin_level=None))
    ts, level = journal.margin_history()
    assert level[0] == 150.5 and math.isnan(level[1])
    assert journal.last_cycle_ts() == (T0 + seconds(1)).timestamp()
    assert journal.margin_history(T0 + seconds(1))[0].tolist() == [(T0 + seconds(1)).timestamp()]


def test_size_bytes_grows_with_data(journal):
    before = journal.size_bytes()
    for i in range(50):
        journal.write_cycle(snapshot(T0 + seconds(i), positions=20))
    assert journal.size_bytes() > before > 0


def test_positions_are_journaled_only_when_the_account_was_re_read(journal):
    for n in range(6):  # prices every second, account read every 3 s
        journal.write_cycle(replace(snapshot(T0 + seconds(n), positions=2), account_as_of=T0 + seconds(n - n % 3)))
    counts = journal.row_counts()
    assert (counts["ticks"], counts["account_snapshots"], counts["position_snapshots"]) == (12, 6, 4)
