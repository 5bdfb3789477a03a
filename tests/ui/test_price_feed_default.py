"""Issue 17.4: the app streams prices by default in live and paper (Kraken's WebSocket) and in demo (the embedded
market through the same seam), at launch and after a Settings restart; constructed configs still poll."""

from __future__ import annotations

import asyncio

import pytest

from kraken_monitor.cli import build_config, build_parser
from kraken_monitor.config import APP_PRICE_FEED, MonitorConfig
from kraken_monitor.exchange.demo_stream import DemoStream
from kraken_monitor.exchange.stream_factory import price_stream_opener
from kraken_monitor.ui.settings_dialog import SettingsDialog
from kraken_monitor.ui.settings_store import load_config, open_settings
from kraken_monitor.worker.opening import create_exchange
from kraken_monitor.worker.runner import MonitorThread
from kraken_monitor.worker.stream_worker import StreamingPollWorker


@pytest.fixture
def settings(tmp_path):
    return open_settings(tmp_path / "kraken-monitor.ini")


def test_the_app_streams_without_a_flag_and_a_constructed_config_polls(settings):
    # `prices` is never saved (settings_store's _SESSION_ONLY): every launch takes it from APP_PRICE_FEED.
    launched = build_config(build_parser().parse_args([]), base=load_config(settings))
    assert APP_PRICE_FEED == "stream" and launched.prices == "stream"
    assert MonitorConfig().prices == "poll"  # tests and tools poll unless they ask (no wss://ws.kraken.com)


@pytest.mark.parametrize("mode", ["live", "paper"])
def test_live_and_paper_stream_from_kraken_by_default_and_keep_it_through_settings(mode, settings, qtbot):
    config = build_config(build_parser().parse_args(["--mode", mode]), base=load_config(settings))
    assert config.prices == "stream" and "prices" not in config.session_only
    assert isinstance(MonitorThread(config).worker, StreamingPollWorker)
    assert price_stream_opener(config, None) is not None  # Kraken's v2 socket (opened later, in the stream thread)
    dialog = SettingsDialog(config)  # the trader saves Settings: the restarted monitor still streams
    qtbot.addWidget(dialog)
    saved = dialog.save(settings)
    assert saved is not None and saved.prices == "stream"


def test_demo_streams_from_its_embedded_market(settings, tmp_path):
    config = build_config(build_parser().parse_args(["--mode", "demo", "--db", str(tmp_path / "d.sqlite3")]),
                          base=load_config(settings))
    assert config.prices == "stream"
    exchange = create_exchange(config)
    opener = price_stream_opener(config, exchange)
    assert opener is not None
    stream = opener()
    assert isinstance(stream, DemoStream)
    source = exchange.inner.price_source if hasattr(exchange, "inner") else exchange.price_source
    pushed = asyncio.run(stream.tickers(["BTC/USD"]))
    # The pushed quote is the market the paper account trades on (same source, same step).
    assert [t.pair for t in pushed] == ["BTC/USD"]
    assert pushed[0].last == source.market.last_prices()["BTC/USD"]
