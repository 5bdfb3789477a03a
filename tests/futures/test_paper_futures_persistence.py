"""A paper futures account survives a restart (like the spot paper account): saved in its own 0600 SQLite file
beside the journal, restored by the next futures poll thread; a damaged save is never overwritten."""

import os
import queue
import time
from dataclasses import replace
from decimal import Decimal

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.futures_paper import DamagedState, PaperFuturesBook, PaperFuturesPosition
from kraken_monitor.domain.models import Side
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.storage.futures_paper_store import FuturesPaperStore, futures_paper_path
from kraken_monitor.testing.futures_server import FuturesTestServer
from kraken_monitor.worker.futures_watch import FuturesNotice, FuturesPoller, TransferOutcome
from kraken_monitor.worker.requests import TransferToFlex

D = Decimal
BTC, ETH = "BTC/USD:USD", "ETH/USD:USD"


def test_the_saved_state_is_exact():
    book = PaperFuturesBook(D("10000.125"), {
        BTC: PaperFuturesPosition(BTC, Side.LONG, D("0.5"), D(58000), unrealized_funding=D("-0.42")),
        ETH: PaperFuturesPosition(ETH, Side.SHORT, D(2), D(3100), D("2.5")),
    }, cash=D("4321.09"))
    assert PaperFuturesBook.from_state(book.to_state()) == book


@pytest.mark.parametrize("damage", [
    {"version": 99},
    {"collateral": "NaN"},
    {"cash": "12x"},
    {"positions": [{"pair": BTC, "side": "up", "size": "1", "entry": "1", "leverage": None,
                    "unrealized_funding": "0"}]},
    {"positions": [{"pair": BTC, "side": "long", "size": "-1", "entry": "1", "leverage": None,
                    "unrealized_funding": "0"}]},
    {"positions": None},
])
def test_a_damaged_state_is_refused_with_its_reason(damage):
    state = dict(PaperFuturesBook(D(10000)).to_state(), **damage)
    with pytest.raises(DamagedState):
        PaperFuturesBook.from_state(state)


@pytest.fixture
def server():
    with FuturesTestServer() as srv:
        yield srv


def _config(server, tmp_path):
    # Paper: the test server's public marks and instruments (through ccxt), simulated money.
    return replace(MonitorConfig(), mode=AccountKind.PAPER, api_url=server.url, db_path=tmp_path / "paper.sqlite3")


def _next(poller, kind, timeout_s=10.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            item = poller.results.get(timeout=0.1)
        except queue.Empty:
            continue
        if isinstance(item, kind) and not (isinstance(item, FuturesBook) and item.stale):
            return item
    raise AssertionError(f"no {kind.__name__}")


def test_a_paper_futures_account_survives_a_restart(server, tmp_path):
    config = _config(server, tmp_path)
    first = FuturesPoller(config, 0.2).start()
    try:
        assert _next(first, FuturesBook).account.flex.margin_equity == D(10000)  # a fresh paper account
        first.handle(TransferToFlex(D(1200)))  # paper cash 5000 -> 3800, collateral 10000 -> 11200
        assert _next(first, TransferOutcome).ok
    finally:
        assert first.stop()
    path = futures_paper_path(tmp_path / "paper.sqlite3")
    assert path.name == "paper-futures.sqlite3" and oct(os.stat(path).st_mode & 0o777) == "0o600"

    second = FuturesPoller(config, 0.2).start()
    try:
        assert _next(second, FuturesBook).account.flex.margin_equity == D(11200)
        second.handle(TransferToFlex(D("3800.01")))  # the restored cash wallet holds 3800
        refused = _next(second, TransferOutcome)
        assert not refused.ok and "insufficientFunds" in refused.message
    finally:
        second.stop()


def test_a_damaged_save_starts_fresh_says_so_and_is_left_as_it_was(server, tmp_path):
    config = _config(server, tmp_path)
    store = FuturesPaperStore.open(futures_paper_path(config.journal_path()))
    store.save("paper", {"version": 99, "collateral": "123"})
    store.close()
    poller = FuturesPoller(config, 0.2).start()
    try:
        notice = _next(poller, FuturesNotice)
        assert "could not be restored" in notice.message and "unknown version 99" in notice.message
        assert _next(poller, FuturesBook).account.flex.margin_equity == D(10000)
        poller.handle(TransferToFlex(D(100)))
        assert _next(poller, TransferOutcome).ok
    finally:
        poller.stop()
    store = FuturesPaperStore.open(futures_paper_path(config.journal_path()))
    try:
        assert store.load("paper") == {"version": 99, "collateral": "123"}  # not overwritten
    finally:
        store.close()
