"""Fixtures for exchange tests: a real Kraken-protocol server on 127.0.0.1 and a KrakenExchange pointed at it."""

import pytest

from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.kraken import KrakenExchange
from kraken_monitor.exchange.kraken_parse import CallCounter
from kraken_monitor.testing.kraken_server import KrakenTestServer

CLIENT_TIMEOUT_S = 1.0  # a total deadline (connect + headers + body): loaded CI machines need room; the "timeout" fault sleeps longer


@pytest.fixture
def server():
    with KrakenTestServer(timeout_sleep_s=2.5) as srv:
        yield srv


@pytest.fixture
def credentials(server):
    return Credentials(server.api_key, server.api_secret)


@pytest.fixture
def make_kraken(server):
    """Build KrakenExchange instances against the server; no pacing waits unless a test asks for them."""
    made = []

    def make(credentials=None, **kwargs):
        kwargs.setdefault("public_interval_s", 0)
        kwargs.setdefault("private_counter", CallCounter(limit=10**9))
        ex = KrakenExchange(server.url, credentials, timeout_s=CLIENT_TIMEOUT_S, **kwargs)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.close()


@pytest.fixture
def kraken(make_kraken, credentials):
    return make_kraken(credentials)
