"""Demo mode's pushed prices: the embedded market's quotes handed out as they change, through the stream seam.

Threading contract: a `DemoStream` belongs to the price-stream thread's event loop; it reads the shared
`DemoPriceSource`, whose lock makes it safe beside the poll thread's reads (exchange/paper.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from kraken_monitor.domain.models import Ticker

MIN_GAP_S = 0.05  # an accelerated market (many steps a second) is pushed at most this often
STEP_MARGIN_S = 0.005  # wake just after the step is due, not just before it
MAX_WAIT_S = 1.5  # look at least this often whatever the market says (speed 0, a clock step)
HEARTBEAT_S = 1.0  # as Kraken: about once a second


class DemoStream:
    """`tickers(pairs)` returns the pairs' quotes each time the market stepped (speed 1: once a second).

    It sleeps until the market's next step is due (DemoMarket.seconds_to_next_step) instead of asking the
    market every few milliseconds: each look quotes every pair in Decimal and records it into the demo's
    candles, so 20 looks a second for one new quote were most of the stream thread's idle cost.
    """

    private = False

    def __init__(self, source: object, min_gap_s: float = MIN_GAP_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._source = source  # exchange.paper.DemoPriceSource
        self._min_gap_s = min_gap_s
        self._monotonic = monotonic
        self._last_step: int | None = None
        self._last_push = float("-inf")
        self.looks = 0  # how often the market was asked (diagnostics, tests)

    async def tickers(self, pairs: Sequence[str]) -> list[Ticker]:
        while True:
            if self._last_step is not None:  # after a push, the next step is not due yet: sleep first
                await asyncio.sleep(self.next_look_s())
            self.looks += 1
            step, quotes = self._source.stream_quotes(list(pairs))  # type: ignore[attr-defined]
            if step != self._last_step:
                self._last_step = step
                self._last_push = self._monotonic()
                return list(quotes.values())

    def next_look_s(self) -> float:
        """How long to sleep before asking the market again: until its next step, within [0, MAX_WAIT_S]."""
        due = self._source.market.seconds_to_next_step() + STEP_MARGIN_S  # type: ignore[attr-defined]
        gap = self._last_push + self._min_gap_s - self._monotonic()
        return min(max(due, gap, 0.0), MAX_WAIT_S)

    async def heartbeat(self) -> None:
        await asyncio.sleep(HEARTBEAT_S)

    async def account_event(self) -> str:  # pragma: no cover - `private` is False: never called
        raise NotImplementedError

    async def close(self) -> None:
        return None
