"""Replay mode in the real window over a real demo crash: one click from the liquidated history row shows the
table, account bar, gauge and alert log as they were; live data and popups keep running; Esc goes back."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Risk
from kraken_monitor.testing.recordings import record_demo_crash
from kraken_monitor.testing.records import alert
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text import replay as replay_text
from kraken_monitor.ui import actions
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.runner import MonitorThread

ORDER_ACTIONS = ("action_add_margin", "action_add_collateral", "action_close_position", "action_settle")


def _cycle_row(path, before: datetime) -> tuple:
    """The journal's own account row of the last cycle before `before` (plain SQL, not the replay code)."""
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT ts, trade_balance, equity, used_margin, free_margin, margin_level FROM account_snapshots"
            " WHERE ts < ? ORDER BY ts DESC LIMIT 1", (before.timestamp(),)).fetchone()


def _alert_ids_until(path, ts: float) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM alerts WHERE fired_at <= ? ORDER BY fired_at DESC, id DESC",
                                           (ts,)).fetchall()]


def test_replay_of_the_liquidation_from_its_history_row_then_back_to_live(qtbot, tmp_path, monkeypatch):
    config = MonitorConfig(mode="demo", db_path=tmp_path / "demo.sqlite3", price_interval_s=0.05,
                           account_interval_s=0.05, demo_speed=60.0, demo_scenario="crash", sound_enabled=False)
    messages = Messages(sound_enabled=False)
    monkeypatch.setattr(Messages, "_instance", messages)
    window = MainWindow("demo", settings=QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    controller = actions.install(window, config)
    monitor = MonitorThread(config)
    session = MonitorSession(window, config, controller)
    session.attach(monitor)
    monitor.start()
    try:
        history = window.history_dock
        qtbot.waitUntil(lambda: any(r.reason == "liquidated" for r in history.model.rows()), timeout=40_000)
        row_index = next(i for i, r in enumerate(history.model.rows()) if r.reason == "liquidated")
        ended = history.model.rows()[row_index]

        # One click (a double click on the row) from the liquidated position to its post-mortem.
        failures: list[str] = []
        window.replay.failed.connect(failures.append)
        history.raise_()
        qtbot.waitUntil(history.table.isVisible, timeout=5_000)
        cell = history.table.visualRect(history.model.index(row_index, 0)).center()
        QTest.mouseClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)  # the view wants the press
        QTest.mouseDClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
        assert window.replay.active, failures
        ts, tb, equity, used, free, level = _cycle_row(config.journal_path(), ended.closed_at)
        at = datetime.fromtimestamp(ts, timezone.utc)
        assert window.replay.at == at  # the last cycle before it ended

        # Unmistakable: the banner names the moment, the title says it, orders are off with the reason.
        assert window.replay_bar.isVisible()
        assert window.replay_bar.banner_text() == f"REPLAY {fmt.fmt_datetime(at)} \u2014 not live"
        assert "REPLAY" in window.windowTitle() and "not live" in window.windowTitle()
        for name in ORDER_ACTIONS:
            action = getattr(window, name)
            assert not action.isEnabled() and replay_text.DISABLED_REASON in action.toolTip()
        window.position_actions_enabled(True)  # a selection change must not re-enable them
        assert not window.action_close_position.isEnabled()

        # The account bar and gauge show the journal's figures of that cycle (read here with plain SQL).
        bar = window.account_bar
        assert bar.trade_balance.value.text() == fmt.fmt_money(Decimal(tb), "USD")
        assert bar.equity.value.text() == fmt.fmt_money(Decimal(equity), "USD")
        assert bar.used_margin.value.text() == fmt.fmt_money(Decimal(used), "USD")
        assert Decimal(free) == Decimal(equity) - Decimal(used)  # free margin = equity - used margin
        assert bar.free_margin.value.text() == fmt.fmt_money(Decimal(free), "USD")
        assert bar.gauge.level == Decimal(level)
        # The liquidated position is still in the table, with the volume the history row says was liquidated.
        shown = window.positions_model.snapshot()
        assert shown.as_of == at
        btc = next(pf for pf in shown.positions if pf.position.id == ended.id)
        assert btc.remaining_volume == ended.volume and btc.risk is not Risk.OK

        # The alert log as it stood: every alert fired up to that cycle, newest first, and no live buttons.
        dock = window.alert_dock
        shown_ids = [dock.shown_row(i).id for i in range(dock.table.model().rowCount())]
        assert shown_ids == _alert_ids_until(config.journal_path(), ts)
        assert ended.id not in {dock.shown_row(i).position_id for i in range(len(shown_ids))
                                if dock.shown_row(i).is_event}  # its liquidation had not happened yet
        assert not dock.ack_button.isEnabled()

        # Live monitoring runs underneath: live snapshots keep arriving, the table keeps the replayed moment.
        qtbot.waitUntil(lambda: window.replay.live is not None and window.replay.live.as_of > at, timeout=5_000)
        assert window.positions_model.snapshot().as_of == at
        # A live alert during replay still pops up (the worker's own signal), and the status bar says so.
        live_alert = replace(alert(level=Risk.CRITICAL, at=datetime.now(timezone.utc)), key="pos:LIVE-1", id=99_999)
        session.worker.alerts_fired.emit((live_alert,))
        qtbot.waitUntil(lambda: "pos:LIVE-1" in messages.popups(), timeout=5_000)
        assert window.status.currentMessage() == replay_text.POPUP_NOTE
        assert 99_999 not in {dock.shown_row(i).id for i in range(dock.table.model().rowCount())}

        # Esc: back to live, the newest live figures everywhere, the live log with the live alert in it.
        # The popup took the focus; the trader comes back to the window. Asked again on every poll: a popup
        # shown or raised meanwhile (under load, its timers run late) can take the focus back once more.
        qtbot.waitUntil(lambda: (window.activateWindow(), window.isActiveWindow())[1], timeout=10_000)
        QTest.keyClick(window, Qt.Key.Key_Escape)
        assert not window.replay.active and not window.replay_bar.isVisible()
        live = window.positions_model.snapshot()
        assert live.as_of > at and live is window.account_bar._snapshot
        assert bar.equity.value.text() == fmt.fmt_money(live.account.equity, "USD")
        assert "REPLAY" not in window.windowTitle()
        assert window.action_add_collateral.isEnabled() and window.action_add_collateral.toolTip().startswith("Add")
        assert dock.table.model() is dock.model and dock.model.row(0).id == 99_999
    finally:
        assert monitor.stop()
        messages.close_all_popups()


def test_the_alert_log_menu_and_the_steps_walk_the_journal_cycle_by_cycle(qtbot, tmp_path):
    config, snapshots, fired = record_demo_crash(tmp_path)  # the recorded crash, without a window
    window = MainWindow("demo", settings=QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.replay.set_journal(config.journal_path(), config.thresholds)
    window.alert_dock.load_recent(fired)
    critical = next(a for a in fired if a.key == "account" and a.level is Risk.CRITICAL)
    window.show()
    dock = window.alert_dock
    row = next(i for i in range(dock.model.rowCount()) if dock.model.row(i).id == critical.id)
    menu = dock.context_menu_at(dock.table.visualRect(dock.model.index(row, 0)).center())  # the right click's menu
    (action,) = [a for a in menu.actions() if a.text() == replay_text.EVENT_ACTION]
    action.trigger()
    index = next(i for i, s in enumerate(snapshots) if s.as_of == critical.fired_at)
    assert window.replay.at == critical.fired_at
    assert window.account_bar.equity.value.text() == fmt.fmt_money(snapshots[index].account.equity, "USD")
    # The chart's lines of the selected position are the replayed ones, like the table's.
    btc = next(pf for pf in snapshots[index].positions if pf.position.pair == "BTC/USD")
    assert window.positions_view.select_position(btc.position.id)
    assert window.chart._line_state["liquidation"][0] == float(btc.liquidation_price)
    window.replay_bar.previous_button.click()
    assert window.replay.at == snapshots[index - 1].as_of
    earlier = next(pf for pf in snapshots[index - 1].positions if pf.position.id == btc.position.id)
    assert window.chart._line_state["liquidation"][0] == float(earlier.liquidation_price)  # moved with the step
    window.replay_bar.next_button.click()
    window.replay_bar.next_button.click()
    assert window.replay.at == snapshots[index + 1].as_of
    assert window.positions_model.snapshot().account.margin_level == snapshots[index + 1].account.margin_level
    window.action_back_to_live.trigger()
    assert not window.replay.active
    # Nothing live was ever read here: back to live shows "risk unknown", never the replayed figures.
    assert window.positions_model.snapshot().stale and window.account_bar.is_risk_unknown()


def test_replay_puts_no_live_futures_rows_into_a_past_moment(qtbot, tmp_path):
    """The journal records the spot account only: a replayed moment must not show futures rows (or a bar)
    updating live under the "not live" banner; back to live shows the newest futures read held meanwhile."""
    from kraken_monitor.domain.alert_levels import AlertThresholds
    from kraken_monitor.exchange.paper_futures import PaperFuturesExchange
    from kraken_monitor.ui.positions_model import Column
    from kraken_monitor.worker.futures_snapshot import read_futures_book

    config, snapshots, _fired = record_demo_crash(tmp_path)
    window = MainWindow("demo", settings=QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.replay.set_journal(config.journal_path(), config.thresholds)
    window.show()
    window.watch_futures(True)
    futures = PaperFuturesExchange.demo()
    first = read_futures_book(futures, AlertThresholds(), datetime.now(timezone.utc))
    window.show_futures_book(first)

    def futures_rows():
        model = window.positions_model
        return [model.index(r, Column.PAIR).data() for r in range(model.rowCount())
                if model.index(r, Column.ACCOUNT).data().startswith("futures")]

    assert len(futures_rows()) == 2 and window.futures_bar.isVisible()
    assert window.replay.replay(snapshots[3].as_of)
    assert futures_rows() == [] and not window.futures_bar.isVisible()
    newer = read_futures_book(futures, AlertThresholds(), datetime.now(timezone.utc))
    window.show_futures_book(newer)  # a live read arriving while replaying is held, not shown
    assert futures_rows() == []
    window.replay.back_to_live()
    assert len(futures_rows()) == 2 and window.futures_bar.isVisible()
    assert window.futures_bar.book is newer
