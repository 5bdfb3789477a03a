"""Demo mode's pushed prices: the embedded market's quotes handed out as they change, through the stream seam.

Threading contract: a `DemoStream` belongs to the price-stream thread's event loop; it reads the shared
`DemoPriceSource`, whose lock makes it safe beside the poll thread's reads (exchange/paper.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from kraken_monitor.domain.models import Ticker

CHECK_EVERY_S = 0.05  # how soon a market step is pushed (the market steps once per simulated second)
HEARTBEAT_S = 1.0  # as Kraken: about once a second


class DemoStream:
    """`tickers(pairs)` returns the pairs' quotes each time the market stepped (speed 1: once a second)."""

    private = False

    def __init__(self, source: object, check_every_s: float = CHECK_EVERY_S) -> None:
        self._source = source  # exchange.paper.DemoPriceSource
        self._check_every_s = check_every_s
        self._last_step: int | None = None

    async def tickers(self, pairs: Sequence[str]) -> list[Ticker]:
        while True:
            step, quotes = self._source.stream_quotes(list(pairs))  # type: ignore[attr-defined]
            if step != self._last_step:
                self._last_step = step
                return list(quotes.values())
            await asyncio.sleep(self._check_every_s)

    async def heartbeat(self) -> None:
        await asyncio.sleep(HEARTBEAT_S)

    async def account_event(self) -> str:  # pragma: no cover - `private` is False: never called
        raise NotImplementedError

    async def close(self) -> None:
        return None
