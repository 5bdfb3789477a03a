"""The futures WebSocket in a real offscreen window: Kraken's liquidation price without "(est.)", the feed named."""

from dataclasses import replace
from decimal import Decimal

from PySide6.QtCore import QSettings

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.kraken_futures import KrakenFuturesExchange
from kraken_monitor.exchange.kraken_futures_stream import KrakenFuturesStream
from kraken_monitor.testing.fakes import FakeMonitor
from kraken_monitor.testing.futures_server import FuturesTestServer
from kraken_monitor.testing.futures_ws_server import FuturesWsTestServer
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.positions_model import Column
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.backoff import Backoff
from kraken_monitor.worker.futures_live import FuturesFeed
from kraken_monitor.worker.futures_watch import FuturesPoller

D = Decimal


def _liquidation_cell(window, pair):
    model = window.positions_model
    for row in range(model.rowCount()):
        if model.index(row, Column.ACCOUNT).data().startswith("futures") and \
                model.index(row, Column.PAIR).data().startswith(pair):
            return model.index(row, Column.LIQUIDATION_PRICE).data()
    return None


def test_the_window_shows_krakens_liquidation_price_and_says_the_futures_feed_is_live(qtbot, tmp_path):
    with FuturesTestServer() as rest:
        rest.futures.add_position("PF_XBTUSD", "long", D("0.5"), D(58000))
        with FuturesWsTestServer(rest.futures, {rest.api_key: rest.api_secret}, heartbeat_s=0.1) as ws:
            ws.set_liquidation_threshold("PF_XBTUSD", D("38123.5"))
            creds = Credentials(rest.api_key, rest.api_secret)

            def poller(config, interval):
                feed = FuturesFeed(lambda: KrakenFuturesStream(rest.url, ws.url, creds, timeout_s=3), True, 30.0,
                                   silence_s=0.6, backoff=Backoff(0.05, 0.2))
                return FuturesPoller(config, 30.0, factory=lambda: KrakenFuturesExchange(rest.url, creds), feed=feed)

            window = MainWindow("live", settings=QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat))
            qtbot.addWidget(window)
            session = MonitorSession(window, replace(MonitorConfig(), mode=AccountKind.LIVE),
                                     monitor_factory=lambda c: FakeMonitor(), futures=True,
                                     lock_journal=lambda c: None, futures_poller=poller)
            session.start()
            try:
                bar = window.futures_bar
                qtbot.waitUntil(lambda: (_liquidation_cell(window, "BTC/USD:USD") or "").startswith("38,123.5"),
                                timeout=15000)
                assert "(est.)" not in _liquidation_cell(window, "BTC/USD:USD")
                assert bar.feed_label.isVisibleTo(window) and bar.feed_label.text() == "futures: streaming"
                ws.silence()  # the socket goes quiet: back to our estimate, the bar says REST polls
                qtbot.waitUntil(lambda: "(est.)" in (_liquidation_cell(window, "BTC/USD:USD") or ""), timeout=15000)
                qtbot.waitUntil(lambda: bar.feed_label.text().startswith("futures: polling"), timeout=5000)
            finally:
                session.stop()
