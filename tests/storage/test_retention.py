"""Retention: 2 days of 1-second ticks downsampled per minute then per hour; a year stays under 1 GB."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import numpy as np
import pytest

from kraken_monitor.storage.journal import Journal, estimated_year_size_bytes
from kraken_monitor.testing.records import T0, position_figures, seconds, snapshot

PAIRS = ("BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD")
START = datetime(2025, 6, 1, tzinfo=timezone.utc).timestamp()  # on an hour boundary
TWO_DAYS = 2 * 86400


def _price(i: np.ndarray, k: int) -> np.ndarray:
    return 1000.0 * (k + 1) + (i * 7919 % 101)  # jumps around inside every minute: low/high matter


def _fill(journal: Journal) -> None:
    """Two days at 1-second resolution: 4 pairs of ticks, the account every second, 3 positions every 10 s.

    Generated inside SQLite (recursive CTE) with the same price formula as `_price`: 900k rows in ~1 s.
    Rows go in in time order, as cycles append them (retention relies on rowid order being time order).
    """
    seq = "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < :n - 1) "
    args = {"n": TWO_DAYS, "start": START}
    pairs = " UNION ALL ".join(f"SELECT {k} AS k, '{pair}' AS pair" for k, pair in enumerate(PAIRS))
    with journal.db.atomic():
        journal.conn.execute(
            seq + "INSERT INTO ticks (ts, pair, bid, ask, last, last_f) SELECT :start + i, pair, p, p, p, p"
            f" FROM (SELECT i, k, pair, 1000.0 * (k + 1) + (i * 7919 % 101) AS p FROM s, ({pairs}))"
            " ORDER BY i, k", args)
        journal.conn.execute(
            seq + "INSERT INTO account_snapshots (ts, mode, margin_level, margin_level_f)"
            " SELECT :start + i, 'demo', CAST(200 + i % 60 AS TEXT), 200.0 + i % 60 FROM s", args)
        journal.conn.execute(
            seq + "INSERT INTO position_snapshots (ts, position_id, pair)"
            " SELECT :start + i, 'TX' || p, 'BTC/USD' FROM s, (SELECT 0 AS p UNION ALL SELECT 1 UNION ALL SELECT 2)"
            " WHERE i % 10 = 0 ORDER BY i, p", args)


@pytest.fixture(scope="module")
def downsampled(tmp_path_factory):
    """Fill once, then run the minute pass and the hour pass; every test reads the recorded results."""
    journal = Journal.open(tmp_path_factory.mktemp("ret") / "j.sqlite3")
    _fill(journal)
    full = journal.row_counts()
    ten_days_later = START + TWO_DAYS + 10 * 86400  # older than 7 days, younger than 90
    minute_counts = journal.apply_retention(ten_days_later, 7, budget_s=None)
    by_minute = journal.row_counts()
    minute_prices = journal.conn.execute(
        "SELECT ts, last_f, low_f, high_f, res FROM ticks WHERE pair = 'ETH/USD' ORDER BY ts LIMIT 2"
    ).fetchall()
    again = journal.apply_retention(ten_days_later, 7, budget_s=None)
    hour_counts = journal.apply_retention(START + TWO_DAYS + 100 * 86400, 7, budget_s=None)
    by_hour = journal.row_counts()
    hour_row = journal.conn.execute(
        "SELECT ts, low_f, high_f, res FROM ticks WHERE pair = 'ETH/USD' ORDER BY ts LIMIT 1"
    ).fetchone()
    history = journal.price_history("ETH/USD")
    yield locals()
    journal.close()


def test_minute_pass_keeps_one_row_per_series_per_minute(downsampled):
    full, by_minute, counts = downsampled["full"], downsampled["by_minute"], downsampled["minute_counts"]
    minutes = TWO_DAYS // 60  # 2,880
    assert full["ticks"] == 4 * TWO_DAYS == 691_200
    assert by_minute["ticks"] == 4 * minutes == 11_520
    assert by_minute["account_snapshots"] == minutes
    assert by_minute["position_snapshots"] == 3 * minutes == 8_640  # one per position per minute
    assert counts == {"ticks": 691_200 - 11_520, "account_snapshots": TWO_DAYS - minutes,
                      "position_snapshots": 3 * TWO_DAYS // 10 - 8_640, "done": 1}


def test_minute_rows_keep_last_price_and_low_high(downsampled):
    first, second = downsampled["minute_prices"]
    i = np.arange(60)
    prices = _price(i, 1)  # ETH/USD, first minute
    assert first == (START + 59, prices[-1], prices.min(), prices.max(), 60)
    assert second[0] == START + 119


def test_retention_is_idempotent(downsampled):
    assert downsampled["again"] == {"ticks": 0, "account_snapshots": 0, "position_snapshots": 0, "done": 1}


def test_hour_pass_after_90_days(downsampled):
    by_hour, hour_row = downsampled["by_hour"], downsampled["hour_row"]
    hours = TWO_DAYS // 3600  # 48
    assert (by_hour["ticks"], by_hour["account_snapshots"], by_hour["position_snapshots"]) == (
        4 * hours, hours, 3 * hours)
    prices = _price(np.arange(3600), 1)
    # The hour keeps its last minute row, with low/high over the whole hour.
    assert hour_row == (START + 3599, prices.min(), prices.max(), 3600)
    ts, values = downsampled["history"]
    assert len(ts) == hours and np.all(np.diff(ts) == 3600.0)


def test_recent_rows_are_untouched_and_budget_resumes(tmp_path):
    journal = Journal.open(tmp_path / "j.sqlite3")
    for n in range(5 * 60):  # 5 minutes of 1-second cycles, 3 days ago (inside the 7-day window)
        journal.write_cycle(snapshot(T0 + seconds(n), positions=1, pairs=("BTC/USD",)))
    assert journal.apply_retention(T0 + timedelta(days=3), 7, budget_s=None)["ticks"] == 0
    assert journal.row_counts()["ticks"] == 300
    # A zero budget stops before finishing; the next call carries on from the saved mark.
    partial = journal.apply_retention(T0 + timedelta(days=8), 7, budget_s=0)
    assert partial["done"] == 0
    rest = journal.apply_retention(T0 + timedelta(days=8), 7, budget_s=None)
    assert rest["done"] == 1 and partial["ticks"] + rest["ticks"] == 300 - 5
    journal.close()


def test_clock_stepped_back_loses_no_minute(tmp_path):
    """Retention finds windows by rowid (rows are appended in time order); when the clock once stepped
    back 5 minutes, every minute still keeps its row(s) (at most two) and a rerun changes nothing."""
    journal = Journal.open(tmp_path / "j.sqlite3")
    base = T0.timestamp()
    stamps = [base + i for i in range(600)] + [base + 300 + i for i in range(600)]
    with journal.db.atomic():
        journal.conn.executemany("INSERT INTO ticks (ts, pair, last, last_f) VALUES (?, 'BTC/USD', '1', 1.0)",
                                 [(ts,) for ts in stamps])
        journal.conn.executemany("INSERT INTO position_snapshots (ts, position_id) VALUES (?, 'TX1')",
                                 [(ts,) for ts in stamps])
    result = journal.apply_retention(T0 + timedelta(days=8), 7, budget_s=None)
    assert result["done"] == 1 and result["ticks"] > 1000
    minutes = {int(ts // 60) for ts in stamps}
    for table in ("ticks", "position_snapshots"):
        kept = journal.conn.execute(f"SELECT CAST(ts / 60 AS INTEGER), COUNT(*) FROM {table} GROUP BY 1").fetchall()
        assert {m for m, _ in kept} == minutes and max(n for _, n in kept) <= 2
    before = journal.row_counts()
    assert journal.apply_retention(T0 + timedelta(days=8), 7, budget_s=None)["ticks"] == 0
    assert journal.row_counts() == before
    journal.close()


def _measured_bytes_per_row(journal: Journal) -> dict[str, float]:
    """Bytes per row of each table including its indexes, read from SQLite's dbstat page accounting."""
    pages = dict(journal.conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    counts = journal.row_counts()
    result = {}
    for table in ("ticks", "account_snapshots", "position_snapshots"):
        size = sum(v for name, v in pages.items() if name == table or name.startswith(f"idx_{table}_"))
        result[table] = size / counts[table]
    return result


def test_year_estimate_under_one_gigabyte_from_measured_row_sizes(tmp_path):
    journal = Journal.open(tmp_path / "size.sqlite3")
    # Ticker prices are exchange strings (few decimals); computed figures are stored with all 28
    # significant digits a Decimal division can carry (worst case).
    pf = position_figures("TXABCD-EFGHI-JKLMNO", price="70123.4", distance="12.34567890123456789012345678")
    pf = replace(pf, liquidation_price=D("80123.4567890123456789012345"),
                 unrealized_pnl=D("-123.4567890123456789012345678"), net_pnl=D("-125.4567890123456789012345"))
    for n in range(3000):
        snap = snapshot(T0 + seconds(n), positions=0, pairs=PAIRS, price="70123.4",
                        margin_level="212.3456789012345678901234567")
        snap = replace(snap, positions=tuple(replace(pf, position=replace(pf.position, id=f"{pf.position.id}{k}"))
                                             for k in range(5)), account_as_of=T0 + seconds(n - n % 3))
        journal.write_cycle(snap)
    per_row = _measured_bytes_per_row(journal)
    journal.close()
    assert 40 < per_row["ticks"] < 400 and 40 < per_row["position_snapshots"] < 1000  # sane measurements
    estimate = estimated_year_size_bytes(
        pairs=4, positions=5, poll_interval=1.0,
        bytes_per_tick=per_row["ticks"], bytes_per_account_row=per_row["account_snapshots"],
        bytes_per_position_row=per_row["position_snapshots"],
    )
    print(f"bytes/row {per_row}; year estimate {estimate / 1e6:.0f} MB")
    assert estimate < 1e9
    # Without retention the same year would be far larger: the policy is what keeps it small.
    no_retention = estimated_year_size_bytes(
        pairs=4, positions=5, poll_interval=1.0, full_resolution_days=365,
        bytes_per_tick=per_row["ticks"], bytes_per_account_row=per_row["account_snapshots"],
        bytes_per_position_row=per_row["position_snapshots"],
    )
    assert no_retention > 10 * estimate
