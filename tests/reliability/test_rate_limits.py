"""Ten accelerated minutes of live polling stay under Kraken's Starter private counter (max 15, decay 0.33/s).

Accelerated, not scaled: one fake clock drives the client (its CallCounter and its sleeps) AND the test
server's counter decay, so 600 simulated seconds take about a second of wall time while the server applies
Kraken's real numbers. The server enforces the limit, so going over would show up as
`EAPI:Rate limit exceeded` answers as well as in `max_counter_seen`.
"""

from __future__ import annotations

import time as real_time
from decimal import Decimal
from types import SimpleNamespace

from reliability_support import POSITION_ID, PollLoop

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.errors import ExchangeError, RateLimited
from kraken_monitor.testing import kraken_server
from kraken_monitor.worker.cycle import Poller

RUN_S = 600


class TimerLoop(PollLoop):
    """The worker's two timers on the fake clock: prices every price_interval_s, account every account_interval_s."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.next_account = 0.0

    def cycle(self):
        self.clock.advance(self.step_s)
        if self.clock.monotonic() >= self.next_account:
            self.next_account = self.clock.monotonic() + self.poller.config.account_interval_s
            self._read(self.poller.poll_account)
        self._read(self.poller.poll_prices)
        snap = self.poller.build_snapshot(self.clock.now())
        self.poller.persist(snap)
        self.result.snapshots.append(snap)
        return snap


def test_ten_minutes_never_exceed_the_starter_counter(server, make_live, clock, monkeypatch):
    # The server's counter decays on the same fake clock as the client (both see accelerated time).
    monkeypatch.setattr(kraken_server, "time", SimpleNamespace(
        monotonic=clock.monotonic, time=real_time.time, strftime=real_time.strftime))
    server.enforce_rate_limit = True
    config = MonitorConfig(mode="live", api_url=server.url)  # the shipped defaults: 1 s prices, 3 s account
    poller = Poller(config, make_live(), journal=None, monotonic=clock.monotonic)
    loop = TimerLoop(poller, clock, step_s=config.price_interval_s)
    closes = 0
    while clock.monotonic() < RUN_S:
        loop.cycle()
        if closes < 3 and clock.monotonic() >= 150 * (closes + 1):
            try:  # an action in the middle of polling: its position lookup costs a counter point too
                poller.close(POSITION_ID, Decimal("0.01"))
            except ExchangeError as exc:
                loop.result.errors.append(exc)
            closes += 1
    server_refusals = [e for e in loop.result.errors if "EAPI:Rate limit" in str(e)]
    held_back = [e for e in loop.result.errors if isinstance(e, RateLimited)]
    account_reads = len(server.requests_to("TradeBalance"))
    stale = sum(s.stale for s in loop.result.snapshots)
    print(f"\nrate limits: {clock.monotonic():.0f} simulated s, counter peak {server.max_counter_seen:.2f}, "
          f"{account_reads} account reads, {len(server.requests_to('AddOrder'))} orders, "
          f"{len(held_back)} client hold-backs, {stale}/{len(loop.result.snapshots)} stale snapshots")
    assert clock.monotonic() >= RUN_S
    assert server.max_counter_seen <= 15
    assert server_refusals == [], server_refusals[:3]
    assert account_reads >= RUN_S / 10  # it kept polling the account (about every 6 s at steady state)
    assert len(server.requests_to("AddOrder")) == 3
