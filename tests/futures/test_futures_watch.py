"""`watch --venue futures|all`: venue-tagged lines, stale on a failed read, an alert once per rise, auth stops."""

import io
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures import FlexAccount, FuturesBook, account_figures
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.errors import AuthFailed
from kraken_monitor.testing.futures_server import FuturesTestServer
from kraken_monitor.worker.cycle import utc_now
from kraken_monitor.worker.futures_watch import FuturesLinePrinter, FuturesPoller

ROOT = Path(__file__).resolve().parents[2]
D = Decimal


def _book(equity, maintenance=D(100), stale=False):
    flex = FlexAccount(equity, D(0), maintenance, D(0), equity, equity)
    account = None if stale else account_figures(flex, AlertThresholds())
    return FuturesBook("live", utc_now(), account, (), stale, "prices are 9 s old" if stale else "")


def _lines(printer_out):
    return [json.loads(line) for line in printer_out.getvalue().splitlines()]


def test_alert_once_when_the_margin_level_falls_through_a_line_and_stale_transitions():
    out = io.StringIO()
    printer = FuturesLinePrinter(True, out)
    # margin level 300 % (ok), 150 % (warning: <= 160), 149 % (still warning: no new alert), stale, fresh.
    for book in (_book(D(300)), _book(D(150)), _book(D(149)), _book(D(0), stale=True), _book(D(300))):
        printer.on_book(book)
    lines = _lines(out)
    assert all(line["venue"] == "futures" for line in lines)
    assert [(x["type"], x.get("level")) for x in lines if x["type"] == "alert"] == [("alert", "warning")]
    assert [x["type"] for x in lines if x["type"] in ("stale", "fresh")] == ["stale", "fresh"]
    heartbeat = [x for x in lines if x["type"] == "snapshot"]
    assert [x["risk"] for x in heartbeat] == ["ok", "warning", "warning", "unknown", "ok"]


@pytest.fixture
def server():
    with FuturesTestServer() as srv:
        srv.futures.add_position("PF_XBTUSD", "long", D("0.5"), D(58000))
        yield srv


def _env(srv):
    return {"KRAKEN_FUTURES_API_KEY": srv.api_key, "KRAKEN_FUTURES_API_SECRET": srv.api_secret}


def _first(poller, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not poller.results.empty():
            return poller.results.get()
        time.sleep(0.02)
    raise AssertionError("the poller produced nothing")


def test_a_failed_read_queues_a_stale_book_never_an_empty_one(server, monkeypatch):
    monkeypatch.setenv("KRAKEN_FUTURES_API_KEY", server.api_key)
    monkeypatch.setenv("KRAKEN_FUTURES_API_SECRET", server.api_secret)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    server.inject_fault("openpositions", "unavailable", None)
    config = replace(MonitorConfig(), mode=AccountKind.LIVE, api_url=server.url)
    poller = FuturesPoller(config, 0.2).start()
    try:
        book = _first(poller)
    finally:
        poller.stop()
    assert book.stale and book.account is None and "unavailable" in book.stale_reason


def test_rejected_credentials_stop_the_poller(server, monkeypatch):
    monkeypatch.setenv("KRAKEN_FUTURES_API_KEY", server.api_key)
    monkeypatch.setenv("KRAKEN_FUTURES_API_SECRET", "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    config = replace(MonitorConfig(), mode=AccountKind.LIVE, api_url=server.url)
    poller = FuturesPoller(config, 0.2).start()
    try:
        assert isinstance(_first(poller), AuthFailed)
    finally:
        poller.stop()


def run_cli(args, home, extra_env=None):
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "kraken_monitor", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=ROOT)


def test_watch_futures_live_prints_futures_lines_and_sends_nothing(server, tmp_path):
    result = run_cli(["watch", "--venue", "futures", "--mode", "live", "--api-url", server.url, "--json",
                      "--duration", "2.5", "--interval", "1"], tmp_path, _env(server))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and all(line["venue"] == "futures" for line in lines)
    assert {line["type"] for line in lines} == {"snapshot"}  # 0.5 BTC on 10000 USD: calm, fresh from the start
    assert not [path for path, _ in server.requests if not path.startswith("GET ")]


def test_watch_all_demo_prints_both_venues(tmp_path):
    result = run_cli(["watch", "--venue", "all", "--json", "--duration", "3", "--interval", "0.5"], tmp_path)
    assert result.returncode == 0, result.stderr
    venues = {json.loads(line)["venue"] for line in result.stdout.splitlines()}
    assert venues == {"spot", "futures"}


def test_the_tracker_fires_once_per_rise_rearms_after_a_fall_and_names_the_account():
    from kraken_monitor.domain.futures_alerts import FuturesAlertTracker
    from kraken_monitor.text.alerts import alert_message

    tracker = FuturesAlertTracker("futures live")
    levels = []
    # 300 % ok, 150 % warning, 130 % critical (<= 140), 300 % ok again (silent), 150 % warning again (re-armed)
    for equity in (D(300), D(150), D(130), D(300), D(150)):
        levels.append([a.level.label for a in tracker.update(_book(equity))])
    assert levels == [[], ["warning"], ["critical"], [], ["warning"]]
    assert tracker.update(_book(D(0), stale=True)) == ()  # stale: nothing fired, nothing forgotten
    (alert,) = FuturesAlertTracker("futures live").update(_book(D(150)))
    assert alert_message(alert).startswith("futures live: Futures margin level 150")


def test_watch_all_live_sends_each_venue_to_its_own_server(server, tmp_path):
    """`--api-url` is the spot host and `--futures-api-url` the futures one: before the flag the futures poller
    was handed the spot URL and read Kraken Futures' endpoints from the spot server (always stale)."""
    from kraken_monitor.testing.kraken_server import KrakenTestServer

    with KrakenTestServer() as spot:
        spot.set_balance(D(10000))
        spot.set_prices({"BTC/USD": D(60000)})
        env = {**_env(server), "KRAKEN_API_KEY": spot.api_key, "KRAKEN_API_SECRET": spot.api_secret}
        result = run_cli(["watch", "--venue", "all", "--mode", "live", "--api-url", spot.url, "--futures-api-url",
                          server.url, "--prices", "poll", "--json", "--duration", "4", "--interval", "1"],
                         tmp_path, env)
        spot_paths = [path for path, _ in spot.requests]
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    futures = [line for line in lines if line["venue"] == "futures" and line["type"] == "snapshot"]
    assert futures and not any(line["stale"] for line in futures)  # read from the futures server
    assert any(line["venue"] == "spot" and line["type"] == "snapshot" and not line["stale"] for line in lines)
    assert not [p for p in spot_paths if "derivatives" in p]  # no futures request reached the spot server
    assert server.requests_to("GET accounts")  # the futures server was read


class _CountingRequests(__import__("queue").Queue):
    """The poller's request queue, counting how often the poll thread looks into it."""

    looks = 0

    def get_nowait(self):
        type(self).looks += 1
        return super().get_nowait()


def test_an_idle_poll_thread_sleeps_until_a_request_wakes_it():
    """Between reads the poll thread sleeps on one event (issue 17.7) instead of looking 10 times a second: with
    a 60 s interval it looks once per wake-up, and a leverage change still goes at once."""
    from kraken_monitor.exchange.paper_futures import PaperFuturesExchange
    from kraken_monitor.worker.futures_watch import LeverageOutcome
    from kraken_monitor.worker.requests import ChangeLeverage

    poller = FuturesPoller(MonitorConfig(mode="demo", prices="poll"), 60.0, factory=PaperFuturesExchange.demo)
    poller._requests = _CountingRequests()  # before start: the only queue the thread will look into
    poller.start()
    try:
        assert isinstance(_first(poller), FuturesBook)
        time.sleep(0.5)  # the old loop looked every 0.1 s: about 5 looks by now
        assert _CountingRequests.looks == 1
        poller.handle(ChangeLeverage("BTC/USD:USD", D(10)))
        end, outcome = time.monotonic() + 10, None
        while outcome is None and time.monotonic() < end:  # the interval is 60 s: only the wake-up sends it
            item = poller.results.get(timeout=10)
            outcome = item if isinstance(item, LeverageOutcome) else None
        assert outcome is not None and outcome.ok and outcome.pair == "BTC/USD:USD"
    finally:
        poller.stop()
