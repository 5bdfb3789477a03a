"""Reliability fixtures: a Kraken-protocol server with a known key pair, and the live adapter on a fake clock."""

from __future__ import annotations

import base64
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `import reliability_support`

from reliability_support import FakeClock  # noqa: E402

from kraken_monitor.exchange.credentials import Credentials  # noqa: E402
from kraken_monitor.testing.kraken_server import KrakenTestServer  # noqa: E402

# Known strings the secrets tests hunt for in every file and stream.
API_KEY = "RELIABILITY-apikey-7f3c9e1d2b4a6c8e0f1a3b5c7d9e0f2a4b6c8d0e2f4a6b8c"
SECRET_BYTES = b"reliability-secret-bytes-" + bytes(range(39))
API_SECRET = base64.b64encode(SECRET_BYTES).decode()
POSITION_ID = "TREL01-LONG-BTC"
CLIENT_TIMEOUT_S = 0.1  # the server's "timeout" fault sleeps longer than this


def seed(server: KrakenTestServer) -> None:
    """A 5x BTC long that is alive and far from liquidation: TB 10,000; 1 BTC bought at 20,000, now 19,000."""
    server.set_balance(Decimal("10000"))
    server.set_prices({"BTC/USD": Decimal("19000"), "ETH/USD": Decimal("2000")})
    server.add_position("BTC/USD", "long", Decimal("1"), Decimal("20000"), leverage=5, txid=POSITION_ID)


@pytest.fixture
def server():
    with KrakenTestServer(api_key=API_KEY, api_secret=API_SECRET, timeout_sleep_s=0.5) as srv:
        seed(srv)
        yield srv


@pytest.fixture
def credentials():
    return Credentials(API_KEY, API_SECRET)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_live(server, credentials, clock):
    """KrakenExchange against the server; its private counter and sleeps run on the fake clock."""
    from kraken_monitor.exchange.kraken import KrakenExchange
    from kraken_monitor.exchange.kraken_parse import CallCounter

    made = []

    def make(**kwargs):
        kwargs.setdefault("public_interval_s", 0)
        kwargs.setdefault("private_counter", CallCounter(clock=clock.monotonic))
        kwargs.setdefault("sleep", clock.sleep)
        ex = KrakenExchange(server.url, kwargs.pop("credentials", credentials), timeout_s=CLIENT_TIMEOUT_S, **kwargs)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.close()
