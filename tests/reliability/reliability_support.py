"""Shared helpers for the reliability tests: a fake clock, a worker-like poll loop, row-count checks,
a hanging Kraken-protocol server and the waits around its threads and requests."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.exchange.errors import AuthFailed, ExchangeError
from kraken_monitor.worker.cycle import Poller

# Known strings the secrets tests hunt for in every file and stream.
API_KEY = "RELIABILITY-apikey-7f3c9e1d2b4a6c8e0f1a3b5c7d9e0f2a4b6c8d0e2f4a6b8c"
SECRET_BYTES = b"reliability-secret-bytes-" + bytes(range(39))
API_SECRET = base64.b64encode(SECRET_BYTES).decode()
POSITION_ID = "TREL01-LONG-BTC"
CLIENT_TIMEOUT_S = 0.1  # the server's "timeout" fault sleeps longer than this
HANG_S = 60.0  # a hung answer is held this long (or until the server stops): longer than any test waits


@contextmanager
def hanging_server(hang_s: float = HANG_S) -> Iterator:
    """The seeded server whose "timeout" fault holds an answer `hang_s`; on exit, waits until the
    handler threads held in a hang are gone (later tests compare thread sets and counts)."""
    from kraken_monitor.testing.kraken_server import KrakenTestServer

    with KrakenTestServer(api_key=API_KEY, api_secret=API_SECRET, timeout_sleep_s=hang_s) as srv:
        seed(srv)
        threads = threading.active_count()
        yield srv
    wait_for_threads(threads)


def wait_for_threads(count: int, timeout_s: float = 15.0) -> None:
    """Until at most `count` threads run (the server's handler threads end after it stops)."""
    deadline = time.monotonic() + timeout_s
    while threading.active_count() > count and time.monotonic() < deadline:
        time.sleep(0.05)


def wait_for_requests(server, method: str, n: int, timeout_s: float) -> None:
    """Until the server has seen `n` requests to `method`; fails the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while len(server.requests_to(method)) < n:
        assert time.monotonic() < deadline, f"fewer than {n} {method} requests in {timeout_s} s"
        time.sleep(0.05)


def seed(server) -> None:
    """A 5x BTC long that is alive and far from liquidation: TB 10,000; 1 BTC bought at 20,000, now 19,000."""
    server.set_balance(Decimal("10000"))
    server.set_prices({"BTC/USD": Decimal("19000"), "ETH/USD": Decimal("2000")})
    server.add_position("BTC/USD", "long", Decimal("1"), Decimal("20000"), leverage=5, txid=POSITION_ID)

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    """Monotonic seconds + UTC datetimes that move only when told (sleep advances them): accelerated time."""

    def __init__(self, start: datetime = T0):
        self._start = start
        self._t = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._t

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += max(0.0, seconds)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())


@dataclass
class LoopResult:
    snapshots: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # typed ExchangeErrors seen, in order
    auth_stopped: str = ""


class PollLoop:
    """What PollWorker does per tick, minus Qt timers: account read, price read, snapshot, persist.

    Only typed ExchangeErrors are caught (as the worker's cycle does); anything else propagates and fails
    the test, which is the point: no other exception may escape the Poller.
    """

    def __init__(self, poller: Poller, clock: FakeClock, step_s: float):
        self.poller, self.clock, self.step_s = poller, clock, step_s
        self.result = LoopResult()

    def _read(self, read) -> None:
        try:
            read(self.clock.now())
        except AuthFailed as exc:
            self.result.errors.append(exc)
            self.result.auth_stopped = str(exc)
            self.poller.last_error = str(exc)
            self.poller.connection = "auth failed"
        except ExchangeError as exc:
            self.result.errors.append(exc)
            self.poller.last_error = str(exc) or type(exc).__name__
            self.poller.connection = "retrying"

    def account_due(self) -> bool:
        return True

    def cycle(self):
        self.clock.advance(self.step_s)
        if not self.result.auth_stopped and self.account_due():
            self._read(self.poller.poll_account)
        if not self.result.auth_stopped:
            self._read(self.poller.poll_prices)
        force = f"authentication failed: {self.result.auth_stopped}" if self.result.auth_stopped else ""
        snap = self.poller.build_snapshot(self.clock.now(), force_stale=force)
        self.poller.persist(snap)
        self.result.snapshots.append(snap)
        return snap


def row_counts(journal) -> dict[str, int]:
    return journal.row_counts()


def assert_not_decreased(before: dict[str, int], after: dict[str, int]) -> None:
    for table, count in before.items():
        assert after[table] >= count, f"{table} lost rows: {count} -> {after[table]}"
