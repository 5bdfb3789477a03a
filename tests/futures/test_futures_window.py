"""The futures account in a real offscreen window: its bar, its rows in the one table, Change leverage end to end."""

import os
import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Risk
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.kraken_futures import KrakenFuturesExchange
from kraken_monitor.exchange.paper_futures import PaperFuturesExchange
from kraken_monitor.testing.fakes import FakeMonitor
from kraken_monitor.testing.futures_server import FuturesTestServer
from kraken_monitor.ui import futures_controller as fc
from kraken_monitor.ui.futures_account_bar import NOT_WATCHED
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.positions_model import Column
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.futures_watch import FuturesPoller
from kraken_monitor.worker.futures_watchdog import futures_watchdog_windows
from kraken_monitor.worker.requests import ChangeLeverage

D = Decimal


def _window(qtbot, tmp_path):
    window = MainWindow("demo", settings=QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    return window


def _session(qtbot, tmp_path, factory, mode=AccountKind.DEMO):
    """A window whose session watches a futures account on `factory`'s exchange (the spot side a stand-in)."""
    window = _window(qtbot, tmp_path)
    config = replace(MonitorConfig(), mode=mode)
    session = MonitorSession(window, config, monitor_factory=lambda c: FakeMonitor(), futures=True,
                             lock_journal=lambda c: None,
                             futures_poller=lambda c, interval: FuturesPoller(c, 0.2, factory=factory))
    session.start()
    return window, session


def _futures_rows(window):
    model = window.positions_model
    return [r for r in range(model.rowCount()) if model.index(r, Column.ACCOUNT).data().startswith("futures")]


def _select(window, pair):
    model = window.positions_model
    for row in _futures_rows(window):
        if model.index(row, Column.PAIR).data().startswith(pair):
            window.positions_view.selectRow(row)
            return
    raise AssertionError(f"{pair} not in the table")


def _cell(window, pair, column):
    model = window.positions_model
    for row in _futures_rows(window):
        if model.index(row, Column.PAIR).data().startswith(pair):
            return model.index(row, column).data()
    raise AssertionError(f"{pair} not in the table")


def _when_dialog(act):
    def poll():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, poll)
            return
        act(dialog)

    QTimer.singleShot(20, poll)


def test_demo_futures_rows_join_the_table_and_leverage_changes_from_the_window(qtbot, tmp_path):
    window, session = _session(qtbot, tmp_path, PaperFuturesExchange.demo)
    try:
        qtbot.waitUntil(lambda: len(_futures_rows(window)) == 2, timeout=5000)
        bar = window.futures_bar
        assert bar.isVisibleTo(window) and bar.mode_badge.text() == "DEMO"
        assert bar.risk_label.text().startswith("RISK:") and bar.margin_equity.value.text().endswith("USD")
        _select(window, "ETH/USD:USD")
        # A futures row: the futures action on, the spot-only ones off with the reason in their tooltip.
        assert window.action_change_leverage.isEnabled()
        assert window.action_change_leverage.shortcut().toString() == "Ctrl+Shift+L"
        assert not window.action_settle.isEnabled() and not window.action_add_margin.isEnabled()
        assert "Kraken Futures position" in window.action_settle.toolTip()
        assert window.selected_position_id() is None  # spot dialogs never get a futures id

        def lower_to_2(dialog):
            dialog.leverage_edit.setText("2")
            dialog.accept()

        _when_dialog(lower_to_2)
        window.action_change_leverage.trigger()
        qtbot.waitUntil(lambda: "isolated at 2x" in bar.outcome_label.text(), timeout=5000)
        qtbot.waitUntil(lambda: _cell(window, "ETH/USD:USD", Column.LEVERAGE) == "2.00x", timeout=5000)
        _select(window, "ETH/USD:USD")
        def back_to_cross(dialog):  # the PUT without a leverage, previewed first
            dialog.cross_radio.setChecked(True)
            assert dialog.ok_button.isEnabled() and dialog.ok_button.text() == "Switch to cross margin"
            dialog.accept()

        _when_dialog(back_to_cross)
        window.action_change_leverage.trigger()
        qtbot.waitUntil(lambda: "cross margin" in bar.outcome_label.text(), timeout=5000)
        qtbot.waitUntil(lambda: _cell(window, "ETH/USD:USD", Column.LEVERAGE) == "cross", timeout=5000)
    finally:
        session.stop()


@pytest.fixture
def server():
    with FuturesTestServer() as srv:
        srv.futures.add_position("PF_ETHUSD", "short", D(2), D(3100), leverage=D(5))
        srv.futures.set_mark("PF_ETHUSD", D(3500))
        yield srv


def _live(server):
    return lambda: KrakenFuturesExchange(server.url, Credentials(server.api_key, server.api_secret), timeout_s=1)


def test_a_refusal_from_kraken_is_shown_in_its_words(qtbot, tmp_path, server):
    # The dialog would not let 10x through (its own preview refuses it), so ask the poller directly, as a
    # stale preview could: Kraken's answer is what the trader sees.
    window, session = _session(qtbot, tmp_path, _live(server), AccountKind.LIVE)
    try:
        qtbot.waitUntil(lambda: len(_futures_rows(window)) == 1, timeout=5000)
        session.futures.poller.handle(ChangeLeverage("ETH/USD:USD", D(10)))
        qtbot.waitUntil(lambda: "Would cause liquidation" in window.futures_bar.outcome_label.text(), timeout=5000)
        assert server.futures.leverage["PF_ETHUSD"] == D(5)
    finally:
        session.stop()


def test_a_failed_read_shows_risk_unknown_and_keeps_the_rows(qtbot, tmp_path, server):
    window, session = _session(qtbot, tmp_path, _live(server), AccountKind.LIVE)
    try:
        qtbot.waitUntil(lambda: len(_futures_rows(window)) == 1, timeout=5000)
        _select(window, "ETH/USD:USD")
        assert window.action_change_leverage.isEnabled()
        server.inject_fault("openpositions", "missing_fields", None)
        qtbot.waitUntil(lambda: window.futures_bar.risk_label.text() == "RISK UNKNOWN", timeout=5000)
        assert len(_futures_rows(window)) == 1
        assert _cell(window, "ETH/USD:USD", Column.RISK) == Risk.UNKNOWN.label
        assert not window.action_change_leverage.isEnabled()  # no leverage change on figures this old
    finally:
        session.stop()


def test_screenshots(qtbot, tmp_path):
    """For a person to look at (KM_SCREENSHOT_DIR): both accounts at 1400 px and 1366 x 768, light and dark."""
    from PySide6.QtGui import QPalette

    from kraken_monitor.ui.resources import apply_theme

    out = os.environ.get("KM_SCREENSHOT_DIR", str(tmp_path))
    app = QApplication.instance()
    sheet, palette = app.styleSheet(), QPalette(app.palette())
    window, session = _session(qtbot, tmp_path, PaperFuturesExchange.demo)
    try:
        qtbot.waitUntil(lambda: len(_futures_rows(window)) == 2, timeout=5000)
        _select(window, "ETH/USD:USD")
        for theme in ("light", "dark"):
            apply_theme(app, theme)
            for width, height in ((1400, 860), (1366, 768)):
                window.resize(width, height)
                window.show()
                image = window.grab()
                assert image.width() == width
                image.save(os.path.join(out, f"futures-window-{theme}-{width}.png"))
    finally:
        session.stop()
        app.setStyleSheet(sheet)
        app.setPalette(palette)


def test_the_session_shows_the_futures_account_and_stops_its_thread(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    session = MonitorSession(window, MonitorConfig(), monitor_factory=lambda config: FakeMonitor(), futures=True,
                             lock_journal=lambda config: None)
    session.start()
    qtbot.waitUntil(lambda: len(_futures_rows(window)) == 2, timeout=5000)  # the demo futures book
    # The demo's isolated ETH short sits ~21 % from liquidation: a watch alert in the log, naming its account
    log = window.alert_dock.model
    from kraken_monitor.ui.alert_log import AlertColumn

    qtbot.waitUntil(lambda: any(log.index(r, AlertColumn.ACCOUNT).data() == "futures demo"
                                for r in range(log.rowCount())), timeout=5000)
    assert window.futures_bar.isVisibleTo(window) and window.action_show_futures.shortcut().toString()
    session.restart(MonitorConfig())  # new settings: the futures thread is replaced, not doubled
    assert sum(t.name == "futures-poll" for t in threading.enumerate()) == 1
    session.stop()
    qtbot.waitUntil(lambda: not any(t.name == "futures-poll" for t in threading.enumerate()), timeout=5000)
    assert session.futures is None and not window.futures_bar.isVisibleTo(window)
    assert _futures_rows(window) == []  # no rows of an account nobody watches any more


def test_live_without_a_futures_key_says_the_account_is_not_watched(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    window = _window(qtbot, tmp_path)
    session = MonitorSession(window, replace(MonitorConfig(), mode=AccountKind.LIVE),
                             monitor_factory=lambda c: FakeMonitor(), futures=True, lock_journal=lambda c: None,
                             futures_poller=lambda c, interval: FuturesPoller(c, 0.2))  # the real factory: no key
    session.start()
    try:
        bar = window.futures_bar
        qtbot.waitUntil(lambda: bar.risk_label.text() == NOT_WATCHED, timeout=5000)
        assert "KRAKEN_FUTURES_API_KEY" in bar.outcome_label.text() and "not monitored" in bar.outcome_label.text()
        assert _futures_rows(window) == [] and not window.action_change_leverage.isEnabled()
    finally:
        session.stop()


def test_a_poll_thread_that_stops_answering_turns_its_rows_to_risk_unknown(qtbot, tmp_path):
    """A read stuck past every deadline sends nothing: the GUI side notices the silence on the monotonic clock."""
    release = threading.Event()

    class Stuck(PaperFuturesExchange):
        reads = 0

        def fetch_account(self):
            Stuck.reads += 1
            if Stuck.reads > 1:
                release.wait(30)  # the second read never returns (until the test ends)
            return super().fetch_account()

    def stuck():
        exchange = PaperFuturesExchange.demo()
        exchange.__class__ = Stuck
        return exchange

    clock = [1000.0]
    window = _window(qtbot, tmp_path)
    config = replace(MonitorConfig(), mode=AccountKind.DEMO, stale_after_intervals=4.0)
    poller = FuturesPoller(config, 0.05, factory=stuck).start()
    # The configured stale window, as for the spot poll thread: a 2.5 s futures interval x 4 = 10 s.
    windows = futures_watchdog_windows(config, 2.5)
    assert windows[0] == 10.0
    controller = fc.FuturesController(poller, monotonic=lambda: clock[0], windows=windows)
    controller.book_ready.connect(window.show_futures_book)
    try:
        qtbot.waitUntil(lambda: (controller.pump(), len(_futures_rows(window)) == 2)[1], timeout=5000)
        qtbot.waitUntil(lambda: Stuck.reads > 1, timeout=5000)
        _select(window, "ETH/USD:USD")
        assert window.action_change_leverage.isEnabled()
        clock[0] += 10.0  # exactly the window: not yet
        controller.pump()
        assert not window.futures_bar.is_risk_unknown()
        clock[0] += 1
        controller.pump()
        assert window.futures_bar.is_risk_unknown() and len(_futures_rows(window)) == 2  # rows kept, risk unknown
        tip = window.futures_bar.risk_label.toolTip()
        assert "no futures read for 11 s" in tip and "waiting for Kraken Futures' account" in tip, tip
        assert {_cell(window, pair, Column.RISK) for pair in ("BTC/USD:USD", "ETH/USD:USD")} == {Risk.UNKNOWN.label}
        assert not window.action_change_leverage.isEnabled()
    finally:
        release.set()
        controller.stop()


def test_switch_margin_mode_and_a_transfer_from_the_position_menu(qtbot, tmp_path):
    window, session = _session(qtbot, tmp_path, PaperFuturesExchange.demo)
    try:
        qtbot.waitUntil(lambda: len(_futures_rows(window)) == 2, timeout=5000)
        bar = window.futures_bar
        pos_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Position")
        assert {window.action_switch_margin_mode, window.action_transfer_futures} <= set(pos_menu.actions())
        assert window.action_switch_margin_mode in window.positions_view.actions()  # the row's context menu
        _select(window, "ETH/USD:USD")  # the demo's isolated 5x short
        assert window.action_switch_margin_mode.isEnabled()
        assert "to cross margin" in window.action_switch_margin_mode.toolTip()

        def confirm_cross(dialog):
            assert dialog.back_to_cross and dialog.ok_button.isEnabled()  # opened on its cross half, previewed
            dialog.accept()

        _when_dialog(confirm_cross)
        window.action_switch_margin_mode.trigger()
        qtbot.waitUntil(lambda: _cell(window, "ETH/USD:USD", Column.LEVERAGE) == "cross", timeout=5000)
        assert "cross margin" in bar.outcome_label.text()

        equity_before = session.futures.book.account.flex.collateral_value
        assert window.action_transfer_futures.isEnabled()

        def transfer_250(dialog):
            dialog.amount_edit.setText("250")
            dialog.accept()

        _when_dialog(transfer_250)
        window.action_transfer_futures.trigger()
        qtbot.waitUntil(lambda: "into the flex account" in bar.outcome_label.text(), timeout=5000)
        # the demo collateral grows by exactly the amount (cash wallet 5000 -> 4750)
        qtbot.waitUntil(lambda: session.futures.book.account.flex.collateral_value == equity_before + 250,
                        timeout=5000)

        def transfer_too_much(dialog):
            dialog.amount_edit.setText("4750.01")
            dialog.accept()

        _when_dialog(transfer_too_much)
        window.action_transfer_futures.trigger()
        qtbot.waitUntil(lambda: "insufficientFunds" in bar.outcome_label.text(), timeout=5000)
    finally:
        session.stop()


def test_a_result_put_by_the_poll_thread_is_drained_without_the_timer(qtbot):
    """Issue 17.7: the window drains the poller's results on a queued signal (no 200 ms polling); the timer is
    left for the silence check. Here it never runs: only the put can deliver the book."""
    from datetime import datetime, timezone

    from kraken_monitor.domain.futures import FuturesBook
    from kraken_monitor.worker.freshness import Activity
    from kraken_monitor.worker.futures_watch import ResultQueue

    class Poller:
        mode, activity, results = "demo", Activity(), ResultQueue()

        def is_alive(self):
            return True

        def stop(self):
            pass

    poller = Poller()
    controller = fc.FuturesController(poller)
    assert not controller.timer.isActive() and poller.results.listener is not None
    book = FuturesBook("demo", datetime.now(timezone.utc), None, (), True, "a failed read")
    with qtbot.waitSignal(controller.book_ready, timeout=5000) as shown:
        threading.Thread(target=poller.results.put, args=(book,)).start()
    assert shown.args == [book] and poller.results.empty()
    controller.stop()
    assert poller.results.listener is None  # a stopped controller is not called from the poll thread
