"""Candles: ticks merged into the current candle (pure), Kraken OHLC through ccxt `fetch_ohlcv` against the
test server (which builds its OHLC from trades it learned), the demo's seeded past, and the journal's table."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.candles import (
    KRAKEN_MAX_CANDLES,
    Candle,
    aggregate_ticks,
    bucket,
    merge_tick,
    merged,
)
from kraken_monitor.exchange.factory import create_exchange
from kraken_monitor.exchange.kraken import KrakenExchange
from kraken_monitor.storage.candles import load_candle_arrays, load_candles, save_candles
from kraken_monitor.storage.history_queries import open_read_only
from kraken_monitor.storage.journal import Journal
from kraken_monitor.storage.schema import MIGRATIONS
from kraken_monitor.testing.kraken_server import KrakenTestServer

H = 3600
T = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC, a Thursday, on every candle boundary up to 1 d


def test_a_tick_stretches_the_current_candle_and_a_later_one_opens_the_next():
    c = Candle(T, 100.0, 101.0, 99.0, 100.5, 3.0)
    stretched, replaces = merge_tick(c, T + 1800, 102.0, H)
    assert replaces and stretched == Candle(T, 100.0, 102.0, 99.0, 102.0, 3.0)  # high 101 -> 102, close 102
    dipped, _ = merge_tick(stretched, T + 3599, 98.5, H)
    assert dipped == Candle(T, 100.0, 102.0, 98.5, 98.5, 3.0)
    new, replaces = merge_tick(dipped, T + H, 98.7, H)
    assert not replaces and new == Candle(T + H, 98.7, 98.7, 98.7, 98.7, 0.0)
    assert merge_tick(new, T + 10, 90.0, H) == (None, False)  # older than the newest candle: ignored
    assert merge_tick(new, T + H + 5, float("nan"), H) == (None, False)
    assert [x.ts for x in merged([c], T + H + 1, 100.0, H)] == [T, T + H]


def test_weekly_candles_start_on_monday_like_krakens():
    # T is Thursday 2026-01-01; the week holding it began Monday 2025-12-29 00:00 UTC = T - 3 days.
    assert bucket(T, 604_800) == T - 3 * 86_400
    assert bucket(T + 90, 60) == T + 60


def test_ticks_aggregate_into_candles():
    ticks = [(T + 5, 10.0), (T + 20, 12.0), (T + 59, 11.0), (T + 61, 9.0)]
    assert aggregate_ticks(ticks, 60) == [Candle(T, 10.0, 12.0, 10.0, 11.0), Candle(T + 60, 9.0, 9.0, 9.0, 9.0)]


def test_fetch_ohlcv_reads_the_candles_the_test_server_learned():
    with KrakenTestServer() as srv:
        now = datetime.now(timezone.utc).timestamp() // H * H
        # Two hours of trades: hour 1 opens 60000, spikes to 60500, dips to 59800, closes 60100;
        # hour 2 has one trade at 60200 of 2 BTC.
        srv.add_trades("BTC/USD", [(now - 2 * H + 10, "60000"), (now - 2 * H + 600, "60500"),
                                   (now - 2 * H + 1200, "59800"), (now - 2 * H + 3000, "60100"),
                                   (now - H + 30, "60200", "2")])
        exchange = KrakenExchange(api_url=srv.url, credentials=None, public_interval_s=0.0)
        try:
            candles = exchange.fetch_ohlcv("BTC/USD", "1h")
            assert candles == [Candle(now - 2 * H, 60000.0, 60500.0, 59800.0, 60100.0, 4.0),
                               Candle(now - H, 60200.0, 60200.0, 60200.0, 60200.0, 2.0)]
            request = srv.requests_to("OHLC")[-1]
            assert request["pair"] == "XXBTZUSD" and request["interval"] == "60"  # Kraken's minutes
            later = exchange.fetch_ohlcv("BTC/USD", "1h", since=now - H)
            assert [c.ts for c in later] == [now - H]
            with pytest.raises(ValueError):
                exchange.fetch_ohlcv("BTC/USD", "3h")  # not a Kraken interval
        finally:
            exchange.close()


def test_the_demo_serves_a_seeded_past_joined_to_what_it_quoted(tmp_path):
    clock = [datetime(2026, 2, 1, 12, 0, 30, tzinfo=timezone.utc)]
    exchange = create_exchange(MonitorConfig(mode="demo", db_path=tmp_path / "d.sqlite3"), clock=lambda: clock[0])
    first = exchange.fetch_tickers(["BTC/USD"])["BTC/USD"].last
    clock[0] += timedelta(minutes=2)
    exchange.fetch_tickers(["BTC/USD"])
    candles = exchange.fetch_ohlcv("BTC/USD", "1h")
    assert len(candles) == KRAKEN_MAX_CANDLES + 1  # a month of hourly candles, then the live one
    assert all(b.ts - a.ts == H for a, b in zip(candles, candles[1:], strict=False))
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in candles)
    # The seeded past ends at the first quoted price: no jump into the live candle.
    assert candles[-2].close == pytest.approx(float(first)) and candles[-1].open == float(first)
    assert exchange.fetch_ohlcv("BTC/USD", "1h", since=candles[-1].ts) == candles[-1:]


def test_candles_kept_in_the_journal_survive_a_restart_and_a_refetch_replaces(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    assert journal.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    rows = [Candle(T, 1.0, 2.0, 0.5, 1.5, 10.0), Candle(T + H, 1.5, 1.6, 1.4, 1.45, 3.0)]
    assert save_candles(journal.conn, "BTC/USD", "1h", rows) == 2
    save_candles(journal.conn, "BTC/USD", "1h", [Candle(T + H, 1.5, 1.7, 1.4, 1.65, 4.0)])  # re-fetched
    save_candles(journal.conn, "BTC/USD", "1m", [Candle(T, 9.0, 9.0, 9.0, 9.0)])  # another timeframe
    journal.close()
    reader = open_read_only(path)
    try:
        assert load_candles(reader, "BTC/USD", "1h") == [rows[0], Candle(T + H, 1.5, 1.7, 1.4, 1.65, 4.0)]
        assert load_candles(reader, "BTC/USD", "1h", since=T + 1) == [Candle(T + H, 1.5, 1.7, 1.4, 1.65, 4.0)]
        assert load_candle_arrays(reader, "BTC/USD", "1m").tolist() == [[T, 9.0, 9.0, 9.0, 9.0, 0.0]]
        with pytest.raises(sqlite3.OperationalError):
            reader.execute("DELETE FROM candles")  # the chart's connection cannot write
    finally:
        reader.close()


def test_a_v3_journal_gains_the_candles_table(tmp_path):
    path = tmp_path / "old.sqlite3"
    import sqlite_utils

    from kraken_monitor.storage.schema import migrate

    db = sqlite_utils.Database(str(path))
    migrate(db, MIGRATIONS[:3])
    assert "candles" not in db.table_names()
    db.conn.close()
    journal = Journal.open(path)
    try:
        assert "candles" in journal.db.table_names() and load_candles(journal.conn, "BTC/USD", "1h") == []
    finally:
        journal.close()


def test_sync_keeps_candles_and_a_failed_fetch_still_returns_the_kept_ones(tmp_path):
    from kraken_monitor.worker.candle_sync import sync_candles

    journal = Journal.open(tmp_path / "j.sqlite3")
    try:
        with KrakenTestServer() as srv:
            now = datetime.now(timezone.utc).timestamp() // H * H
            srv.add_trades("BTC/USD", [(now - H + 1, "60000"), (now + 1, "61000")])
            exchange = KrakenExchange(api_url=srv.url, credentials=None, public_interval_s=0.0)
            first = sync_candles(exchange, journal, "BTC/USD", "1h")
            assert first.rows[:, 0].tolist() == [now - H, now] and first.error == ""
            srv.add_trades("BTC/USD", [(now + 60, "61500")])  # the open candle moved on
            second = sync_candles(exchange, journal, "BTC/USD", "1h")
            assert second.rows[-1].tolist() == [now, 61000.0, 61500.0, 61000.0, 61500.0, 2.0]
            assert float(srv.requests_to("OHLC")[-1]["since"]) < now  # asked from the newest kept candle on
            srv.inject_fault("OHLC", "unavailable")
            failed = sync_candles(exchange, journal, "BTC/USD", "1h")
            exchange.close()
        assert failed.error and failed.rows.tolist() == second.rows.tolist()  # kept, with the reason
    finally:
        journal.close()
