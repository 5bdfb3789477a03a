"""End to end in live mode against the project's Kraken server: Ctrl+P places a stop through the real worker and
ccxt, the next read shows it in the table, the Orders dock and the chart, and the dock's cancel removes it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.ui import actions
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.positions_model import Column
from kraken_monitor.ui.protect_dialog import ProtectDialog
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.runner import MonitorThread

D = Decimal


@pytest.fixture
def server(monkeypatch):
    with KrakenTestServer() as srv:
        monkeypatch.setenv("KRAKEN_API_KEY", srv.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", srv.api_secret)
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        srv.set_balance(D("10000"))
        srv.set_prices({"BTC/USD": D("17000")})
        srv.add_position("BTC/USD", "long", D("1"), D("20000"), leverage=5, txid="TPOS1-LONG-BTC")
        yield srv


@pytest.fixture
def messages(monkeypatch):
    m = Messages(sound_enabled=False)
    m.asked, m.shown = [], []
    monkeypatch.setattr(m, "confirm", lambda parent, title, body: m.asked.append(body) or True)
    monkeypatch.setattr(m, "info", lambda parent, title, body: m.shown.append(("info", body)))
    monkeypatch.setattr(m, "error", lambda parent, title, body: m.shown.append(("error", body)))
    monkeypatch.setattr(Messages, "_instance", m)
    yield m
    m.close_all_popups()


def test_protect_then_cancel_through_the_real_worker(server, messages, qtbot, tmp_path, monkeypatch):
    config = MonitorConfig(mode="live", api_url=server.url, db_path=tmp_path / "journal.sqlite3",
                           price_interval_s=0.05, account_interval_s=0.1, stale_after_intervals=3.0,
                           backoff_cap_s=0.4, kraken_tier="local", live_trading_enabled=True, sound_enabled=False)
    window = MainWindow("live")
    qtbot.addWidget(window)
    controller = actions.install(window, config)
    monitor = MonitorThread(config)
    MonitorSession(window, config, controller).attach(monitor)

    def fill_and_accept(dialog):
        dialog.trigger_edit.setText("16000")
        dialog.accept()  # asks (answered yes above)
        return dialog.result()

    monkeypatch.setattr(ProtectDialog, "exec", fill_and_accept)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: window.positions_model.rowCount() == 1, timeout=15_000)
        window.positions_view.select_position("TPOS1-LONG-BTC")
        window.action_protect.trigger()
        dock = window.orders_dock.model
        qtbot.waitUntil(lambda: dock.rowCount() == 1, timeout=15_000)
        body = server.requests_to("AddOrder")[-1]
        assert (body["ordertype"], body["type"], body["price"], body["reduce_only"]) == (
            "stop-loss", "sell", "16000", "true")
        assert "Stop-loss sell 1.00000000 BTC at 16,000.0 (last trade)" in messages.asked[0]
        model = window.positions_model
        # (17,000 - 16,000) / 17,000 = 5.88 % of the price now.
        # Kraken's OpenOrders omits reduce_only (the order was sent with it): the table says it was inferred.
        cell = "16,000.0 (5.88 %), inferred"
        qtbot.waitUntil(lambda: model.data(model.index(0, Column.STOP_LOSS)) == cell, timeout=5_000)
        assert window.chart.visible_line_values()["stop_loss"] == 16000.0
        window.orders_dock.view.selectRow(0)
        window.orders_dock.cancel_button.click()
        qtbot.waitUntil(lambda: dock.rowCount() == 0, timeout=15_000)
        assert server.requests_to("CancelOrder")
        assert model.data(model.index(0, Column.PROTECTION)) == "no stop-loss"
    finally:
        assert monitor.stop()
    assert not [m for m in messages.shown if m[0] == "error"], messages.shown
