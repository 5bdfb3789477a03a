"""Reliability fixtures: a Kraken-protocol server with a known key pair, and the live adapter on a fake clock."""

from __future__ import annotations

import pytest

# pytest's default (prepend) import mode puts this directory on the path for its test modules.
from reliability_support import API_KEY, API_SECRET, CLIENT_TIMEOUT_S, FakeClock, hanging_server, seed

from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.testing.kraken_server import KrakenTestServer


@pytest.fixture
def server():
    with KrakenTestServer(api_key=API_KEY, api_secret=API_SECRET, timeout_sleep_s=0.5) as srv:
        # Slow enough that only the client's total deadline (CLIENT_TIMEOUT_S) ends them; the bomb inflates
        # to more than the 16 MiB cap.
        srv.transport.drip_interval_s, srv.transport.hang_s, srv.transport.bomb_mib = 0.05, 2.0, 40
        seed(srv)
        yield srv


@pytest.fixture
def hang_server(monkeypatch):
    """The seeded server whose "timeout" fault hangs (reliability_support.HANG_S); this test's
    environment holds its key pair (the worker's `load_credentials()` reads it)."""
    monkeypatch.setenv("KRAKEN_API_KEY", API_KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", API_SECRET)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    with hanging_server() as srv:
        yield srv


@pytest.fixture
def live_server():
    """The seeded server, no faults: for the command-line tests."""
    with KrakenTestServer(api_key=API_KEY, api_secret=API_SECRET) as srv:
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


def pytest_terminal_summary(terminalreporter):
    """The fault matrix's figure, as the README's reliability table quotes it: cases tried / held."""
    reports = [r for r in terminalreporter.getreports("passed") + terminalreporter.getreports("failed")
               if "test_fault_matrix_poller" in r.nodeid and r.when == "call"]
    if reports:
        held = sum(r.passed for r in reports)
        transport = [r for r in reports if any(k in r.nodeid for k in ("drip", "hang_after", "redirect", "gzip"))]
        terminalreporter.write_line(f"fault matrix: {len(reports)} fault x endpoint cases tried, {held} held "
                                    f"({len(transport)} transport cases, {sum(r.passed for r in transport)} held)")
