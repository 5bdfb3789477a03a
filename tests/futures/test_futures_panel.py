"""The futures panel in a real offscreen window: rows from the poll thread, Change leverage end to end."""

import os
from dataclasses import replace
from decimal import Decimal

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.kraken_futures import KrakenFuturesExchange
from kraken_monitor.exchange.paper_futures import PaperFuturesExchange
from kraken_monitor.testing.futures_server import FuturesTestServer
from kraken_monitor.ui.futures_controller import FuturesController
from kraken_monitor.ui.futures_panel import COLUMNS, FuturesPanel
from kraken_monitor.worker.futures_watch import FuturesPoller
from kraken_monitor.worker.requests import ChangeLeverage

D = Decimal


def _controller(qtbot, factory, mode=AccountKind.DEMO):
    panel = FuturesPanel()
    qtbot.addWidget(panel)
    config = replace(MonitorConfig(), mode=mode)
    controller = FuturesController(panel, FuturesPoller(config, 0.2, factory=factory).start())
    controller.timer.start(50)
    return panel, controller


def _select(panel, pair):
    for row in range(panel.proxy.rowCount()):
        if panel.proxy.index(row, 1).data() == pair:
            panel.table.selectRow(row)
            return
    raise AssertionError(f"{pair} not in the table")


def _accept_dialog_with(text):
    def act():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, act)
            return
        dialog.leverage_edit.setText(text)
        dialog.accept()

    QTimer.singleShot(20, act)


def test_demo_positions_reach_the_table_and_leverage_changes(qtbot):
    panel, controller = _controller(qtbot, PaperFuturesExchange.demo)
    try:
        qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=5000)
        assert panel.proxy.index(0, 0).data() == "futures demo"  # the account column
        assert "margin level" in panel.level_label.text()
        _select(panel, "ETH/USD:USD")
        assert panel.leverage_button.isEnabled()
        _accept_dialog_with("2")
        panel.leverage_button.click()
        qtbot.waitUntil(lambda: "isolated at 2x" in panel.outcome_label.text(), timeout=5000)
        qtbot.waitUntil(lambda: any(panel.proxy.index(r, COLUMNS.index("Leverage")).data() == "2.00x"
                                    for r in range(panel.proxy.rowCount())), timeout=5000)
        # ...and back to cross: the PUT without a leverage
        def cross_button():
            dialog = QApplication.activeModalWidget()
            if dialog is None:
                QTimer.singleShot(20, cross_button)
                return
            dialog.cross_button.click()

        QTimer.singleShot(20, cross_button)
        panel.leverage_button.click()
        qtbot.waitUntil(lambda: "cross margin" in panel.outcome_label.text(), timeout=5000)
        qtbot.waitUntil(lambda: {panel.proxy.index(r, COLUMNS.index("Margin")).data()
                                 for r in range(panel.proxy.rowCount())} == {"cross"}, timeout=5000)
    finally:
        controller.stop()


@pytest.fixture
def server():
    with FuturesTestServer() as srv:
        srv.futures.add_position("PF_ETHUSD", "short", D(2), D(3100), leverage=D(5))
        srv.futures.set_mark("PF_ETHUSD", D(3500))
        yield srv


def test_a_refusal_from_kraken_is_shown_in_its_words(qtbot, server):
    # The dialog would not let 10x through (its own preview refuses it), so ask the poller directly, as a
    # stale preview could: Kraken's answer is what the trader sees.
    def live():
        return KrakenFuturesExchange(server.url, Credentials(server.api_key, server.api_secret), timeout_s=1)

    panel, controller = _controller(qtbot, live, AccountKind.LIVE)
    try:
        qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
        controller.poller.handle(ChangeLeverage("ETH/USD:USD", D(10)))
        qtbot.waitUntil(lambda: "Would cause liquidation" in panel.outcome_label.text(), timeout=5000)
        assert server.futures.leverage["PF_ETHUSD"] == D(5)
    finally:
        controller.stop()


def test_a_failed_read_shows_risk_unknown_and_keeps_the_rows(qtbot, server):
    def live():
        return KrakenFuturesExchange(server.url, Credentials(server.api_key, server.api_secret), timeout_s=1)

    panel, controller = _controller(qtbot, live, AccountKind.LIVE)
    try:
        qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
        server.inject_fault("openpositions", "missing_fields", None)
        qtbot.waitUntil(lambda: panel.level_label.text() == "RISK UNKNOWN", timeout=5000)
        assert panel.model.rowCount() == 1 and panel.proxy.index(0, len(COLUMNS) - 1).data() == "unknown"
        assert not panel.leverage_button.isEnabled()
    finally:
        controller.stop()


def test_screenshots(qtbot, tmp_path):
    """For a person to look at (KM_SCREENSHOT_DIR): 1400 px and a small laptop width, light and dark."""
    from PySide6.QtGui import QPalette

    from kraken_monitor.ui.resources import apply_theme

    out = os.environ.get("KM_SCREENSHOT_DIR", str(tmp_path))
    app = QApplication.instance()
    sheet, palette = app.styleSheet(), QPalette(app.palette())
    panel, controller = _controller(qtbot, PaperFuturesExchange.demo)
    try:
        qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=5000)
        _select(panel, "ETH/USD:USD")
        for theme in ("light", "dark"):
            apply_theme(app, theme)
            for width, height in ((1400, 260), (1024, 260)):
                panel.resize(width, height)
                panel.show()
                image = panel.grab()
                assert image.width() == width
                image.save(os.path.join(out, f"futures-panel-{theme}-{width}.png"))
    finally:
        controller.stop()
        app.setStyleSheet(sheet)
        app.setPalette(palette)


def test_the_window_shows_the_futures_account_beside_spot_and_the_session_stops_its_thread(qtbot, tmp_path):
    import threading

    from PySide6.QtCore import QSettings

    from kraken_monitor.testing.fakes import FakeMonitor
    from kraken_monitor.ui.main_window import MainWindow
    from kraken_monitor.ui.session import MonitorSession

    window = MainWindow("demo", settings=QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    session = MonitorSession(window, MonitorConfig(), monitor_factory=lambda config: FakeMonitor(), futures=True)
    session.start()
    panel = window.futures_dock.panel
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=5000)  # the demo futures book
    # The demo's isolated ETH short sits ~21 % from liquidation: a watch alert in the window's alert log
    log = window.alert_dock.model
    qtbot.waitUntil(lambda: any("futures demo" in (log.index(r, 3).data() or "") for r in range(log.rowCount())),
                    timeout=5000)
    assert window.futures_dock.isVisibleTo(window) and window.action_show_futures.shortcut().toString()
    session.restart(MonitorConfig())  # new settings: the futures thread is replaced, not doubled
    assert sum(t.name == "futures-poll" for t in threading.enumerate()) == 1
    session.stop()
    qtbot.waitUntil(lambda: not any(t.name == "futures-poll" for t in threading.enumerate()), timeout=5000)
    assert session.futures is None


def test_live_without_a_futures_key_says_the_account_is_not_watched(qtbot, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    panel, controller = _controller(qtbot, None, AccountKind.LIVE)  # the real factory: no key anywhere
    try:
        qtbot.waitUntil(lambda: panel.level_label.text() == "NOT WATCHED", timeout=5000)
        assert "KRAKEN_FUTURES_API_KEY" in panel.figures_label.text() and "not monitored" in panel.figures_label.text()
        assert panel.model.rowCount() == 0 and not panel.leverage_button.isEnabled()
    finally:
        controller.stop()


def test_a_poll_thread_that_stops_answering_turns_the_panel_to_risk_unknown(qtbot):
    """A read stuck past every deadline sends nothing: the GUI side notices the silence on the monotonic clock."""
    import threading

    from kraken_monitor.domain.models import Risk
    from kraken_monitor.ui import futures_controller as fc

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
    panel = FuturesPanel()
    qtbot.addWidget(panel)
    poller = FuturesPoller(replace(MonitorConfig(), mode=AccountKind.DEMO), 0.05, factory=stuck).start()
    controller = fc.FuturesController(panel, poller, monotonic=lambda: clock[0])
    try:
        qtbot.waitUntil(lambda: (controller.pump(), panel.model.rowCount() == 2)[1], timeout=5000)
        qtbot.waitUntil(lambda: Stuck.reads > 1, timeout=5000)
        assert not panel.model.stale
        clock[0] += fc.SILENT_AFTER_S  # exactly the window: not yet
        controller.pump()
        assert not panel.model.stale
        clock[0] += 1
        controller.pump()
        assert panel.model.stale and panel.model.rowCount() == 2  # the rows stay, their risk is unknown
        assert "no futures read for 46 s" in panel.status_label.text()
        assert {panel.model.data(panel.model.index(r, COLUMNS.index("Risk"))) for r in range(2)} == {Risk.UNKNOWN.label}
        assert not panel.leverage_button.isEnabled()
    finally:
        release.set()
        controller.stop()
