"""Demo stream: one look at the embedded market per simulated step, pushed just after the step is due."""

from __future__ import annotations

import asyncio

from kraken_monitor.exchange import demo_stream
from kraken_monitor.exchange.demo_market import DemoMarket
from kraken_monitor.exchange.demo_stream import MIN_GAP_S, STEP_MARGIN_S, DemoStream
from kraken_monitor.exchange.paper import DemoPriceSource


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _stream(speed: float = 1.0):
    clock = Clock()
    source = DemoPriceSource(DemoMarket(clock=clock, speed=speed))
    return clock, source, DemoStream(source, monotonic=clock)


def test_the_market_says_when_its_next_step_is_due():
    clock, source, _ = _stream()
    market = source.market
    assert market.seconds_to_next_step() == 1.0  # created at t=100.0: the first whole second ends at 101.0
    clock.t = 100.3
    source.tickers(["BTC/USD"])  # 0.3 s elapsed: no step yet, carry 0.3
    assert market.simulated_seconds == 0
    assert abs(market.seconds_to_next_step() - 0.7) < 1e-9  # 101.0 - 100.3
    clock.t = 101.25
    source.tickers(["BTC/USD"])  # 0.3 + 0.95 = 1.25 simulated s: one step, carry 0.25
    assert market.simulated_seconds == 1
    assert abs(market.seconds_to_next_step() - 0.75) < 1e-9  # next whole second at 102.0


def test_one_look_per_step_instead_of_twenty(monkeypatch):
    # The stream sleeps until the step is due (+ STEP_MARGIN_S), so a look finds a new step every time;
    # before, it looked every 50 ms: 20 looks (each quoting every pair in Decimal) per pushed second.
    clock, source, stream = _stream()
    slept = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.t += seconds

    monkeypatch.setattr(demo_stream.asyncio, "sleep", fake_sleep)

    async def five_pushes():
        return [(await stream.tickers(["BTC/USD", "ETH/USD"]), clock.t) for _ in range(5)]

    pushes = asyncio.run(five_pushes())
    assert [len(t) for t, _ in pushes] == [2] * 5
    assert source.market.simulated_seconds == 4  # the first push is the starting quote (step 0), then steps 1..4
    # The first look pushes at once; each later one is one sleep of ~1 s landing just past the step.
    assert stream.looks == 5
    assert all(abs(s - (1.0 + STEP_MARGIN_S)) < 0.01 for s in slept[1:]), slept
    assert all(0 < (t - 100.0) % 1.0 <= 2 * STEP_MARGIN_S + 1e-9 for _, t in pushes[1:]), pushes


def test_an_accelerated_market_is_pushed_at_most_every_min_gap():
    # At 100 simulated seconds per second a step is due every 10 ms: the stream waits MIN_GAP_S after a push.
    clock, source, stream = _stream(speed=100.0)
    asyncio.run(stream.tickers(["BTC/USD"]))  # pushed at t=100.0
    assert abs(stream.next_look_s() - MIN_GAP_S) < 1e-9
    clock.t += MIN_GAP_S  # the gap has passed and 5 steps are due: look now
    assert stream.next_look_s() == 0.0
