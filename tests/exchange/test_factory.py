"""Exchange factory: demo/paper/live by mode, paper state restored per mode, clear error without credentials."""

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import keyring
import pytest
from keyring.backends.null import Keyring as NullKeyring

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.errors import AuthFailed
from kraken_monitor.exchange.factory import create_exchange
from kraken_monitor.exchange.paper import PaperExchange
from kraken_monitor.testing.kraken_server import KrakenTestServer

T0 = datetime(2026, 2, 5, 12, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


def test_demo_is_a_seeded_paper_exchange():
    clocks = [Clock(), Clock(), Clock()]
    exchanges = [
        create_exchange(MonitorConfig(mode="demo", demo_seed=seed), clock=c)
        for seed, c in zip((7, 7, 8), clocks, strict=True)
    ]
    assert all(isinstance(ex, PaperExchange) and ex.mode == "demo" for ex in exchanges)
    for c in clocks:
        c.now += timedelta(minutes=5)
    prices = [ex.fetch_tickers(["BTC/USD", "ETH/USD"]) for ex in exchanges]
    assert prices[0] == prices[1]
    assert prices[0]["BTC/USD"].last != prices[2]["BTC/USD"].last
    assert len(exchanges[0].fetch_account().positions) == 7  # the demo book (six pairs, BTC/USD twice), BTC- and EUR-quoted ones included


def test_paper_state_restored_for_the_same_mode_only():
    ex = create_exchange(MonitorConfig(mode="demo"), clock=Clock())
    ex.add_collateral(Decimal("1234"))
    saved = ex.export_state()
    restored = create_exchange(MonitorConfig(mode="demo"), paper_state=saved, clock=Clock())
    assert restored.fetch_account().balance == ex.fetch_account().balance
    fresh = create_exchange(MonitorConfig(mode="demo"), paper_state={**saved, "mode": "paper"}, clock=Clock())
    assert fresh.fetch_account().balance.trade_balance == ex.fetch_account().balance.trade_balance - Decimal("1234")
    damaged = create_exchange(MonitorConfig(mode="demo"), paper_state={"version": 1, "mode": "demo", "account": {}},
                              clock=Clock())
    assert len(damaged.fetch_account().positions) == 7  # started fresh (the 7-row demo book) instead of refusing to start


def test_paper_mode_uses_live_public_prices_and_a_10k_book():
    with KrakenTestServer() as server:
        ex = create_exchange(MonitorConfig(mode="paper", api_url=server.url), clock=Clock())
        try:
            state = ex.fetch_account()
            server_btc = server.sim.prices["BTC/USD"]
        finally:
            ex.close()
    assert ex.mode == "paper"
    assert Decimal("8000") < state.balance.trade_balance < Decimal("10000")
    btc = next(p for p in state.positions if p.pair == "BTC/USD")
    # Opened 8% above the server's price, sized at 1.2 x 10,000 USD.
    assert abs(btc.cost - Decimal("12000")) < Decimal("1")
    assert abs(btc.cost / btc.volume / server_btc - Decimal("1.08")) < Decimal("0.001")
    assert any(path.endswith("Ticker") for path, _ in server.requests)


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(NullKeyring())
    yield
    keyring.set_keyring(previous)


def test_live_without_credentials_says_what_to_do(no_keyring, monkeypatch):
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_API_SECRET", raising=False)
    with pytest.raises(AuthFailed) as err:
        create_exchange(MonitorConfig(mode="live"))
    assert "Settings" in str(err.value) and "KRAKEN_API_KEY" in str(err.value)


def test_live_with_environment_credentials_builds_kraken(no_keyring, monkeypatch):
    from kraken_monitor.exchange.kraken import KrakenExchange

    monkeypatch.setenv("KRAKEN_API_KEY", "key-for-test")
    monkeypatch.setenv("KRAKEN_API_SECRET", "c2VjcmV0LWZvci10ZXN0")
    ex = create_exchange(MonitorConfig(mode="live", api_url="http://127.0.0.1:9"))
    try:
        assert isinstance(ex, KrakenExchange)
    finally:
        ex.close()


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        create_exchange(MonitorConfig(mode="moon"))


def test_factory_imports_nothing_from_the_worker_at_runtime():
    code = "import sys, kraken_monitor.exchange.factory as f; print(any(m.startswith('kraken_monitor.worker') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert out.stdout.strip() == "False"
