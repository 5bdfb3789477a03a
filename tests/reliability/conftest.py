"""Reliability fixtures: a Kraken-protocol server with a known key pair, and the live adapter on a fake clock."""

from __future__ import annotations

import pytest

# pytest's default (prepend) import mode puts this directory on the path for its test modules.
from reliability_support import API_KEY, API_SECRET, CLIENT_TIMEOUT_S, FakeClock, seed

from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.testing.kraken_server import KrakenTestServer


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
