"""Per-pair freshness and monotonic ages, through the Poller and the live adapter against the test server.

The loop runs on a fake monotonic clock; the wall clock (what the snapshot shows and the journal keeps)
can be stepped independently, as NTP or a user changing the time would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from reliability_support import POSITION_ID, FakeClock, PollLoop

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Risk
from kraken_monitor.worker.cycle import Poller

# Prices every 1 s, stale after 3 s; the account is read every cycle here (window 3 x 6 s = 18 s).
CONFIG = MonitorConfig(mode="live", price_interval_s=1.0, account_interval_s=6.0, stale_after_intervals=3.0,
                       kraken_tier="local", watch_pairs=("ETH/USD",))
CASES = {"tried": 0, "held": 0}


class SteppedClock(FakeClock):
    """FakeClock whose wall clock can jump while the monotonic clock runs on evenly."""

    def __init__(self):
        super().__init__()
        self.wall_offset = timedelta(0)

    def step_wall(self, seconds: float) -> None:
        self.wall_offset += timedelta(seconds=seconds)

    def now(self):
        return super().now() + self.wall_offset


@pytest.fixture
def stepped():
    return SteppedClock()


@pytest.fixture
def loop(server, make_live, stepped):
    poller = Poller(replace(CONFIG, api_url=server.url), make_live(), journal=None, monotonic=stepped.monotonic)
    return PollLoop(poller, stepped, step_s=1.0)


def _count(held: bool) -> None:
    CASES["tried"] += 1
    CASES["held"] += int(held)


def test_held_pair_missing_from_the_ticker_answer_goes_unknown_after_the_window(server, loop):
    for _ in range(3):
        assert not loop.cycle().stale
    server.hide_from_ticker("BTC/USD")
    # Kraken keeps answering (ETH/USD is fresh), but BTC/USD, the pair held, is no longer in the answer.
    seen = [loop.cycle() for _ in range(5)]
    # Ages after the last BTC/USD price: 1, 2, 3 s (inside the 3 s window), then 4, 5 s (stale).
    assert [s.stale for s in seen] == [False, False, False, True, True]
    last = seen[-1]
    assert "no fresh price for BTC/USD" in last.stale_reason and "ETH/USD" not in last.stale_reason
    assert last.account.risk == Risk.UNKNOWN and {pf.risk for pf in last.positions} == {Risk.UNKNOWN}
    assert [pf.position.id for pf in last.positions] == [POSITION_ID]  # still shown, never "flat"
    # BTC falls below the liquidation price meanwhile: the monitor must not report the old price as ok.
    server.set_prices({"BTC/USD": Decimal("15000")})
    assert loop.cycle().stale
    server.hide_from_ticker()
    back = loop.cycle()
    assert not back.stale and back.tickers["BTC/USD"].last == Decimal("15000")
    _count(True)


def test_needed_fx_pair_missing_from_the_ticker_answer_goes_unknown_after_the_window(server, loop):
    # An ETH/EUR long in a USD account is converted at EUR/USD: the figures depend on that price too.
    server.set_prices({"ETH/EUR": Decimal("2700"), "EUR/USD": Decimal("1.10000")})
    server.add_position("ETH/EUR", "buy", Decimal("1"), Decimal("2700"), leverage=2)
    for _ in range(3):
        assert not loop.cycle().stale
    server.hide_from_ticker("EUR/USD")  # every held pair still answers; only the conversion rate is gone
    seen = [loop.cycle() for _ in range(5)]
    # Ages after the last EUR/USD price: 1, 2, 3 s (inside the 3 s window), then 4, 5 s (stale).
    assert [s.stale for s in seen] == [False, False, False, True, True]
    assert "no fresh price for EUR/USD" in seen[-1].stale_reason
    assert seen[-1].account.risk == Risk.UNKNOWN
    server.hide_from_ticker()
    assert not loop.cycle().stale
    _count(True)


def test_unheld_watched_pair_missing_does_not_make_the_account_unknown(server, loop):
    loop.cycle()
    server.hide_from_ticker("ETH/USD")  # watched, not held: the figures do not depend on it
    snaps = [loop.cycle() for _ in range(6)]
    assert not any(s.stale for s in snaps), snaps[-1].stale_reason
    _count(True)


def test_wall_clock_stepping_back_does_not_hide_an_outage(server, loop, stepped):
    loop.cycle()
    server.inject_fault("Ticker", "http500", count=None)
    stepped.step_wall(-120)  # the wall clock jumps back two minutes as the exchange goes down
    snaps = [loop.cycle() for _ in range(5)]
    # Monotonic price ages 1..5 s: stale from the 4th cycle, as without the step (wall ages would be negative).
    assert [s.stale for s in snaps] == [False, False, False, True, True]
    assert "prices are 4.0 s old" in snaps[3].stale_reason
    _count(True)


def test_wall_clock_stepping_forward_raises_no_false_alarm(server, loop, stepped):
    loop.cycle()
    stepped.step_wall(600)  # ten minutes forward, exchange healthy
    snaps = [loop.cycle() for _ in range(5)]
    assert not any(s.stale for s in snaps), snaps[-1].stale_reason
    assert not any(a.stale for s in snaps for a in s.alerts)
    # The wall time is still what the snapshot shows (display and journal).
    assert snaps[-1].as_of - snaps[0].as_of == timedelta(seconds=4)
    _count(True)


def test_print_freshness_figures():
    print(f"\nfreshness cases: {CASES['tried']} tried, {CASES['held']} held")
    assert CASES["tried"] == CASES["held"]
