"""Demo mode's pushed futures marks: the embedded market's marks handed out as it steps, through the futures stream seam.

What exchange/demo_stream.py is for the spot demo, for the demo futures account: a source for the futures
stream thread (worker/futures_stream.FuturesStreamThread) with no sockets. It pushes marks only: the paper
venue (exchange/paper_futures.py) stays the exchange, so its positions, account, triggers and liquidation
come from its own reads, and a push makes the poller read it at once (worker/futures_live.FuturesFeed
.take_push_read): one book per market step, its equity and triggers of the same step as its marks.

Threading contract: a `DemoFuturesStream` belongs to the futures stream thread's event loop; it reads the
paper venue's `DemoFuturesMarks`, whose lock makes it safe beside the futures poll thread's reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from kraken_monitor.exchange.paper_futures import DemoFuturesMarks

CHECK_EVERY_S = 0.05  # how soon a market step is pushed (the market steps once per simulated second)
HEARTBEAT_S = 1.0  # as Kraken Futures: about once a second
STEP_MARGIN_S = 0.005  # wake just after the step is due, not just before it
MAX_WAIT_S = 1.0  # look at least this often whatever the market says (speed 0, a clock step)


class DemoFuturesStream:
    """`marks(pairs)` returns the contracts' marks each time the demo market stepped (speed 1: once a second)."""

    private = False  # no positions or balances feeds: the paper venue's reads are the account

    def __init__(self, source: DemoFuturesMarks, check_every_s: float = CHECK_EVERY_S) -> None:
        self._source = source
        self._check_every_s = check_every_s
        self._last_step: int | None = None

    async def marks(self, pairs: Sequence[str]) -> dict[str, Decimal]:
        while True:
            step, marks = self._source.stream_marks(pairs)
            if step != self._last_step:
                self._last_step = step
                return marks
            await asyncio.sleep(self.next_look_s())

    def next_look_s(self) -> float:
        """Until the market's next step is due (each look quotes the market), within [check_every_s, MAX_WAIT_S],
        as exchange/demo_stream.py does for spot: looking 20 times a second cost ~0.75 % of a core idle."""
        due = self._source.market.seconds_to_next_step() + STEP_MARGIN_S
        return min(max(due, self._check_every_s), MAX_WAIT_S)

    async def positions(self) -> list[Any]:  # pragma: no cover - `private` is False: never called
        raise NotImplementedError

    async def flex(self) -> dict[str, Decimal]:  # pragma: no cover - `private` is False: never called
        raise NotImplementedError

    async def heartbeat(self) -> None:
        await asyncio.sleep(HEARTBEAT_S)

    async def close(self) -> None:
        return None


def demo_futures_stream_opener(config: Any, exchange: object) -> tuple[Callable[[], DemoFuturesStream], bool] | None:
    """(opener, private=False) for a demo config streaming prices (`--prices stream`) over a demo paper venue;
    None otherwise (`--prices poll`, live, paper, a venue without the embedded market)."""
    from kraken_monitor.domain.venue import AccountKind

    if config.prices != "stream" or config.mode is not AccountKind.DEMO:
        return None
    marks = getattr(exchange, "demo_marks", None)
    if not isinstance(marks, DemoFuturesMarks):
        return None
    return (lambda: DemoFuturesStream(marks)), False
