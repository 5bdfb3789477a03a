"""The history dock in live mode: its venue request, answered by the real poller from the Kraken-protocol server,
merges Kraken's closing trades (a partial close included) over the journal's row; a failed read says so."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from PySide6.QtCore import QSettings

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.testing.exchanges import unpaced_kraken
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.text import history as text
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.worker.opening import open_poller
from kraken_monitor.worker.requests import FetchClosedHistory


def _cycle(poller, now):
    poller.poll_account(now)
    poller.poll_prices(now)
    poller.persist(poller.build_snapshot(now))


def test_the_dock_shows_kraken_partial_closes_and_says_when_kraken_cannot_be_read(qtbot, tmp_path):
    window = MainWindow("live", settings=QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat),
                        defer_chart=True)
    qtbot.addWidget(window)
    asked: list = []
    window.data_requested.connect(asked.append)
    with KrakenTestServer() as srv:
        srv.set_balance(Decimal("50000"))
        srv.set_prices({"ETH/USD": Decimal("3000")})
        eth = srv.add_position("ETH/USD", "long", Decimal("2"), Decimal("3000"), leverage=4)
        config = MonitorConfig(mode="live", api_url=srv.url, db_path=tmp_path / "live.sqlite3", kraken_tier="local")
        poller = open_poller(config, exchange_factory=unpaced_kraken(credentials=Credentials(srv.api_key, srv.api_secret))).poller
        t0 = datetime.now(timezone.utc)
        try:
            _cycle(poller, t0)
            srv.set_prices({"ETH/USD": Decimal("3100")})
            poller.exchange.close_position(eth, Decimal("0.5"))
            _cycle(poller, t0 + timedelta(seconds=1))  # the journal sees 1.5 open: a partial close, no history row
            srv.set_prices({"ETH/USD": Decimal("3200")})
            poller.exchange.close_position(eth, Decimal("1.5"))
            _cycle(poller, t0 + timedelta(seconds=2))
            window.history_dock.set_journal(config.journal_path())
            (request,) = [r for r in asked if isinstance(r, FetchClosedHistory)]  # asked when pointed at a journal
            assert request.since < t0
            assert [r.volume for r in window.history_dock.model.rows()] == [Decimal("1.5")]  # the journal alone
            # The worker's answer, as its read slot emits it on history_ready.
            window.chart_history({request.key: request.apply(poller, t0)})
            rows = window.history_dock.model.rows()
            assert [(r.id, r.volume, r.exit_price) for r in rows] == [(eth, Decimal("1.5"), Decimal("3200")),
                                                                        (eth, Decimal("0.5"), Decimal("3100"))]
            # (3100 - 3000) x 0.5 = 50 gross on the partial close, less its fees: a positive realised P&L.
            assert Decimal(0) < rows[1].realized_pnl < Decimal(50)
            srv.inject_fault("TradesHistory", "unavailable", count=None)
            window.chart_history({request.key: request.apply(poller, t0)})
        finally:
            poller.flush()
    assert [r.volume for r in window.history_dock.model.rows()] == [Decimal("1.5")]
    assert text.VENUE_FAILED.split("(")[0] in window.history_dock.summary.text()
