"""`kraken-monitor history` end to end: a demo crash's paper liquidation and a live Kraken liquidation
(ClosedOrders misc "liquidated" from the test server), both read back from a real journal file."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.storage.history_queries import read_history
from kraken_monitor.testing.exchanges import unpaced_kraken
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.worker.history_command import run_history
from kraken_monitor.worker.opening import open_poller
from kraken_monitor.worker.serialize import HISTORY_CSV_COLUMNS

KEYS = {"id", "pair", "side", "volume", "opened_at", "closed_at", "entry_price", "exit_price", "realized_pnl",
        "fees", "reason"}
NUMBERS = ("volume", "entry_price", "exit_price", "realized_pnl", "fees")


def _cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KRAKEN_MONITOR_HOME=str(tmp_path / "home"),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return subprocess.run([sys.executable, "-m", "kraken_monitor", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_history_after_a_demo_crash_lists_the_liquidated_position(tmp_path):
    db = str(tmp_path / "demo.sqlite3")
    watch = _cli(tmp_path, "watch", "--mode", "demo", "--db", db, "--demo-scenario", "crash", "--speed", "120",
                 "--interval", "0.1", "--duration", "12", "--json")
    assert watch.returncode == 0, watch.stderr[-2000:]
    events = [e for e in map(json.loads, watch.stdout.splitlines()) if e["type"] == "event" and e["kind"] == "liquidated"]
    assert events, "the crash liquidated nothing"

    result = _cli(tmp_path, "history", "--mode", "demo", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and all(set(r) == KEYS for r in rows)
    liquidated = [r for r in rows if r["reason"] == "liquidated"]
    assert [r["id"] for r in liquidated] == [e["position"] for e in events]
    row = liquidated[0]
    assert (row["pair"], row["side"], row["volume"], row["exit_price"]) == (
        events[0]["pair"], "long", events[0]["volume"], events[0]["price"])
    assert all(isinstance(row[k], str) and Decimal(row[k]).is_finite() for k in NUMBERS)  # decimal strings
    assert datetime.fromisoformat(row["opened_at"]) < datetime.fromisoformat(row["closed_at"])
    # Net after every fee: the gross move minus the fee total, to the paper account's 0.0001 USD booking.
    gross = (Decimal(row["exit_price"]) - Decimal(row["entry_price"])) * Decimal(row["volume"])
    assert abs(gross - Decimal(row["fees"]) - Decimal(row["realized_pnl"])) <= Decimal("0.0001")
    # The paper account's own P&L (after the closing fee) is worse than the gross by that fee only.
    assert Decimal(row["realized_pnl"]) < Decimal(events[0]["pnl"]) < gross

    table = _cli(tmp_path, "history", "--mode", "demo", "--db", db, "--csv")
    assert table.returncode == 0, table.stderr
    parsed = list(csv.DictReader(io.StringIO(table.stdout)))
    assert tuple(parsed[0]) == HISTORY_CSV_COLUMNS and len(parsed) == len(rows)
    first = next(r for r in parsed if r["id"] == row["id"])
    assert {k: first[k] for k in KEYS} == {k: row[k] or "" for k in KEYS}
    assert sum(Decimal(first[k]) for k in ("fee_trading", "fee_opening", "fee_rollovers")) == Decimal(row["fees"])
    assert first["currency"] == "USD"

    later = _cli(tmp_path, "history", "--mode", "demo", "--db", db, "--json", "--since", "2999-01-01")
    assert later.returncode == 0 and json.loads(later.stdout) == []


def test_a_kraken_liquidation_reads_back_with_the_closing_orders_fee(tmp_path):
    t0 = datetime.now(timezone.utc)
    with KrakenTestServer() as srv:
        srv.set_balance(Decimal("10000"))
        srv.set_prices({"BTC/USD": Decimal("17000")})
        # Opened 9 h ago: two rollover marks (4 h, 8 h) passed by the time it is liquidated.
        btc = srv.add_position("BTC/USD", "long", Decimal("1"), Decimal("20000"), leverage=5,
                               opened_at=(t0 - timedelta(hours=9)).timestamp())
        config = MonitorConfig(mode="live", api_url=srv.url, db_path=tmp_path / "live.sqlite3", kraken_tier="local")
        live = unpaced_kraken(credentials=Credentials(srv.api_key, srv.api_secret))
        poller = open_poller(config, exchange_factory=live).poller  # the real journal at config.db_path
        try:
            for step, act in ((0, None), (2, lambda: srv.liquidate(btc, Decimal("11550")))):
                if act:
                    act()
                now = t0 + timedelta(seconds=step)
                poller.poll_account(now)
                poller.poll_prices(now)
                poller.persist(poller.build_snapshot(now))
        finally:
            poller.flush()
    (row,) = read_history(config.db_path)
    assert (row.id, row.reason, row.entry_price, row.exit_price) == (btc, "liquidated", Decimal("20000"), Decimal("11550"))
    # Kraken's fee rate in the test server is 0.26 %: opening trade 20000 x 0.0026 = 52, closing order
    # 11550 x 0.0026 = 30.03; margin opening fee 0.01 % x 20000 = 2; two rollovers 2 x 2 = 4.
    assert (row.fees.trading, row.fees.opening, row.fees.rollovers) == (Decimal("82.03"), Decimal("2"), Decimal("4"))
    assert row.realized_pnl == Decimal("-8538.03")  # (11550 - 20000) x 1 - 88.03
    out, err = io.StringIO(), io.StringIO()
    assert run_history(config, fmt="json", out=out, err=err) == 0
    assert json.loads(out.getvalue())[0]["fees"] == "88.03"


def test_no_journal_is_an_empty_history_and_a_damaged_one_one_line(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert run_history(MonitorConfig(mode="demo", db_path=tmp_path / "none.sqlite3"), fmt="json", out=out, err=err) == 0
    assert json.loads(out.getvalue()) == []
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    out, err = io.StringIO(), io.StringIO()
    assert run_history(MonitorConfig(mode="demo", db_path=bad), fmt="json", out=out, err=err) == 2
    assert out.getvalue() == "" and err.getvalue().count("\n") == 1 and "journal" in err.getvalue()


def test_live_history_merges_kraken_partial_closes_with_the_journal(tmp_path):
    with KrakenTestServer() as srv:
        srv.set_balance(Decimal("50000"))
        srv.set_prices({"ETH/USD": Decimal("3000")})
        eth = srv.add_position("ETH/USD", "long", Decimal("2"), Decimal("3000"), leverage=4)
        config = MonitorConfig(mode="live", api_url=srv.url, db_path=tmp_path / "live.sqlite3", kraken_tier="local")
        live = unpaced_kraken(credentials=Credentials(srv.api_key, srv.api_secret))
        poller = open_poller(config, exchange_factory=live).poller
        t0 = datetime.now(timezone.utc)
        try:
            poller.poll_account(t0)
            poller.poll_prices(t0)
            poller.persist(poller.build_snapshot(t0))
            srv.set_prices({"ETH/USD": Decimal("3100")})
            poller.exchange.close_position(eth, Decimal("0.5"))  # a partial close: no journal row for it
            srv.set_prices({"ETH/USD": Decimal("3200")})
            poller.exchange.close_position(eth, Decimal("1.5"))
            for step in (1, 2):
                now = t0 + timedelta(seconds=step)
                poller.poll_account(now)
                poller.poll_prices(now)
                poller.persist(poller.build_snapshot(now))
        finally:
            poller.flush()
        # Both closes fell between two account reads: the journal saw 2 open, then none (one row of 2).
        assert [(r.id, r.volume) for r in read_history(config.db_path)] == [(eth, Decimal("2"))]
        out, err = io.StringIO(), io.StringIO()
        assert run_history(config, fmt="json", out=out, err=err, exchange_factory=lambda c: live(c)) == 0
    rows = json.loads(out.getvalue())
    # Kraken's record replaces the journal's row of that position: one row per closing trade, newest first.
    assert [(r["id"], r["volume"], r["exit_price"], r["reason"]) for r in rows] == [
        (eth, "1.5", "3200", "closed"), (eth, "0.5", "3100", "closed")]
    assert err.getvalue() == ""
    # Without Kraken the journal's rows still print, and one line says what is missing.
    out, err = io.StringIO(), io.StringIO()
    assert run_history(config, fmt="json", out=out, err=err, exchange_factory=lambda c: live(c)) == 0
    assert [r["volume"] for r in json.loads(out.getvalue())] == ["2"]
    assert err.getvalue().startswith("kraken-monitor: Kraken history unavailable, journal only:")
