"""History dock: a real journal file read on the dock's own read-only connection, filters, CSV export,
the File-menu action and, end to end, the demo crash's liquidation appearing through the real worker."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.events import CloseInfo, position_events
from kraken_monitor.domain.models import Side
from kraken_monitor.storage.journal import Journal
from kraken_monitor.testing.builders import BTC, ETH, ROLLOVER_TERMS, position
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.history import COLUMNS
from kraken_monitor.ui.history_dock import HistoryDock
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.serialize import HISTORY_CSV_COLUMNS

D = Decimal
NOW = datetime.now(timezone.utc).replace(microsecond=0)
COL = {key: i for i, (key, _) in enumerate(COLUMNS)}


def _write_closes(path, when=NOW):
    """BTC liquidated 2 days ago, ETH closed 10 days ago (both opened 9 h before their end)."""
    btc = position("P1", BTC, Side.LONG, "1", "20000", trading_fee=D("52"), rollover_terms=ROLLOVER_TERMS,
                   opened=when - timedelta(days=2, hours=9))
    eth = position("P2", ETH, Side.SHORT, "2", "3000", trading_fee=D("15.6"), opened=when - timedelta(days=10, hours=9))
    journal = Journal.open(path)
    try:
        for p, at, info in ((btc, when - timedelta(days=2), CloseInfo("liquidated", D("11550"), None, "exchange", D("30.03"))),
                            (eth, when - timedelta(days=10), CloseInfo("closed", D("2900"), None, "exchange", D("15.08")))):
            journal.write_alerts(position_events([p], [], at, {}, {p.id: info}, "USD", {BTC: 1, ETH: 2}, {p.pair: D(1)}))
    finally:
        journal.close()


def _dock(qtbot, path) -> HistoryDock:
    dock = HistoryDock(clock=lambda: NOW)
    qtbot.addWidget(dock)
    dock.set_journal(path)
    return dock


def _cell(dock, row, key):
    return dock.model.index(row, COL[key]).data()


def test_rows_newest_first_in_the_pairs_precision_with_the_fee_split(qtbot, tmp_path):
    _write_closes(tmp_path / "j.sqlite3")
    dock = _dock(qtbot, tmp_path / "j.sqlite3")
    assert dock.model.rowCount() == 2
    assert [_cell(dock, r, "pair") for r in (0, 1)] == [BTC, ETH]
    assert _cell(dock, 0, "reason") == "LIQUIDATED" and _cell(dock, 1, "reason") == "Closed"
    assert _cell(dock, 0, "exit_price") == fmt.fmt_decimal(D("11550"), 1)  # XBTUSD quotes 1 place
    # 52 opening trade + 30.03 closing order; 0.01 % x 20000 opening fee; 2 rollovers x 2
    assert _cell(dock, 0, "fee_trading") == fmt.fmt_money(D("82.03"), "USD")
    assert _cell(dock, 0, "fee_opening") == fmt.fmt_money(D("2"), "USD")
    assert _cell(dock, 0, "fee_rollovers") == fmt.fmt_money(D("4"), "USD")
    # (11550 - 20000) x 1 - 88.03
    assert _cell(dock, 0, "realized_pnl") == fmt.fmt_money(D("-8538.03"), "USD", signed=True)
    # ETH short: (3000 - 2900) x 2 = 200 - (15.6 + 15.08) trading, no terms -> +169.32
    assert _cell(dock, 1, "realized_pnl") == fmt.fmt_money(D("169.32"), "USD", signed=True)
    assert "2 positions" in dock.summary.text()


def test_pair_and_date_filters(qtbot, tmp_path):
    _write_closes(tmp_path / "j.sqlite3")
    dock = _dock(qtbot, tmp_path / "j.sqlite3")
    dock.pair_box.setCurrentIndex(dock.pair_box.findData(ETH))
    assert dock.model.rowCount() == 1 and _cell(dock, 0, "pair") == ETH
    dock.pair_box.setCurrentIndex(0)
    dock.period_box.setCurrentIndex(dock.period_box.findText("Last 7 days"))
    assert [_cell(dock, r, "pair") for r in range(dock.model.rowCount())] == [BTC]
    dock.period_box.setCurrentIndex(dock.period_box.findText("Last 24 hours"))
    assert dock.model.rowCount() == 0 and not dock.export_button.isEnabled()
    dock.period_box.setCurrentIndex(dock.period_box.findText("From ... to ..."))
    ten_days_ago = (NOW - timedelta(days=10)).astimezone().date()
    dock.from_date.setDate(ten_days_ago)
    dock.to_date.setDate(ten_days_ago)
    assert [_cell(dock, r, "pair") for r in range(dock.model.rowCount())] == [ETH]


def test_csv_export_writes_what_is_shown(qtbot, tmp_path, monkeypatch):
    _write_closes(tmp_path / "j.sqlite3")
    dock = _dock(qtbot, tmp_path / "j.sqlite3")
    dock.pair_box.setCurrentIndex(dock.pair_box.findData(BTC))
    target = tmp_path / "out.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))  # the trader's choice
    with qtbot.waitSignal(dock.exported) as done:
        dock.export_with_dialog()
    assert str(target) in done.args[0]
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert tuple(rows[0]) == HISTORY_CSV_COLUMNS and len(rows) == 1
    assert (rows[0]["id"], rows[0]["reason"], rows[0]["realized_pnl"], rows[0]["fees"]) == (
        "P1", "liquidated", "-8538.03", "88.03")
    assert (rows[0]["fee_trading"], rows[0]["fee_opening"], rows[0]["fee_rollovers"]) == ("82.03", "2", "4")
    failed = dock.export_csv(tmp_path / "missing-dir" / "out.csv")
    assert "Could not save" in failed


def test_no_journal_yet_then_a_close_arrives(qtbot, tmp_path):
    path = tmp_path / "later.sqlite3"
    dock = _dock(qtbot, path)
    assert dock.model.rowCount() == 0 and not path.exists()  # a reader never creates the file
    _write_closes(path)
    dock.on_alerts(())  # nothing ended in this batch: no re-read
    assert dock.model.rowCount() == 0
    with _Reader(path) as ends:
        dock.on_alerts(ends)
    assert dock.model.rowCount() == 2


class _Reader:
    """The journalled ending events, as the worker's alerts_fired would carry them."""

    def __init__(self, path):
        self.journal = Journal.open(path)

    def __enter__(self):
        return [a for a in self.journal.recent_alerts() if a.is_event]

    def __exit__(self, *exc):
        self.journal.close()


def test_the_window_shows_the_demo_crash_liquidation_and_exports_from_the_file_menu(qtbot, tmp_path, monkeypatch):
    layout_settings = QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)  # never the user's
    config = MonitorConfig(mode="demo", db_path=tmp_path / "demo.sqlite3", price_interval_s=0.05,
                           account_interval_s=0.05, demo_speed=60.0, demo_scenario="crash", sound_enabled=False)
    window = MainWindow("demo", settings=layout_settings, defer_chart=True)
    qtbot.addWidget(window)
    file_menu = window.menuBar().actions()[0].menu()
    assert window.action_export_history in file_menu.actions()
    session = MonitorSession(window, config)
    session.start()
    monitor = session.monitor
    try:
        model = window.history_dock.model
        qtbot.waitUntil(lambda: any(r.reason == "liquidated" for r in model.rows()), timeout=40_000)
    finally:
        assert monitor.stop()
    row = next(r for r in model.rows() if r.reason == "liquidated")
    assert row.pair == BTC and row.realized_pnl is not None and row.realized_pnl < 0
    target = tmp_path / "crash.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.action_export_history.trigger()
    assert "liquidated" in target.read_text(encoding="utf-8")
