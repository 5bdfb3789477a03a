"""The futures stream thread: Kraken Futures WS v1 marks, open_positions and balances, with the spot stream's liveness.

It is the price-stream thread (worker/price_stream.py) with other feeds: the same supervisor, session watchdog
(data age, never "the socket is open": ccxt#29709), reconnect with backoff and resubscribe by reopening the
source (ccxt#20173). Only what a session watches differs: marks of the contracts held (`ticker`) instead of
spot tickers, and `open_positions` + `balances` (challenge-signed) instead of executions/balances events.

Threading contract: as PriceStreamThread. Callbacks (`on_marks`, `on_positions`, `on_flex`, `on_state`) run in
the stream thread and must be thread-safe (worker/futures_live.FuturesPushStore takes a lock).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from kraken_monitor.worker.backoff import Backoff
from kraken_monitor.worker.price_stream import PriceStreamThread, StreamState

log = logging.getLogger(__name__)

THREAD_NAME = "kraken-monitor-futures-stream"


class FuturesStreamSource(Protocol):
    """What exchange/kraken_futures_stream.KrakenFuturesStream offers."""

    private: bool

    async def marks(self, pairs: Sequence[str]) -> dict[str, Decimal]: ...
    async def positions(self) -> list[Any]: ...  # list[PushedPosition]
    async def flex(self) -> dict[str, Decimal]: ...
    async def heartbeat(self) -> None: ...
    async def close(self) -> None: ...


class FuturesStreamThread(PriceStreamThread):
    """Runs `open_source()` sessions until stopped; pushes go to the callbacks with their monotonic arrival time."""

    def __init__(
        self,
        open_source: Callable[[], FuturesStreamSource],
        pairs: Sequence[str],
        on_marks: Callable[[dict[str, Decimal], float], None],
        on_positions: Callable[[list[Any], float], None],
        on_flex: Callable[[dict[str, Decimal], float], None],
        on_state: Callable[[StreamState], None],
        on_private_error: Callable[[str], None] = lambda reason: None,
        silence_s: float = 2.5,
        backoff: Backoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(open_source, pairs, lambda tickers, arrived: None, on_state,  # type: ignore[arg-type]
                         silence_s=silence_s, backoff=backoff, monotonic=monotonic)
        self._on_marks, self._on_positions, self._on_flex = on_marks, on_positions, on_flex
        self._on_private_error = on_private_error

    def start(self) -> None:
        if self._thread is None:  # its own name: the spot stream's tests and diagnostics look for theirs
            self._thread = threading.Thread(target=self._main, name=THREAD_NAME, daemon=True)
            self._thread.start()

    def _arrived(self) -> float:
        """Data arrived: the session is live (the backoff resets); returns the arrival time."""
        arrived = self._monotonic()
        self._last_data = arrived
        if not self._live:
            self._live = True
            self.backoff.succeeded()
            self._state(True, "live")
        return arrived

    async def _prices(self, source: FuturesStreamSource, pairs: tuple[str, ...]) -> None:  # type: ignore[override]
        while True:
            marks = await source.marks(pairs)
            arrived = self._arrived()
            if marks:
                self._on_marks(marks, arrived)

    async def _account_events(self, source: FuturesStreamSource) -> None:  # type: ignore[override]
        """The private feeds. One failing (no permission, a refused challenge) ends only them: marks keep
        streaming, positions and the account keep coming from REST (without Kraken's liquidation thresholds)."""
        try:
            await asyncio.gather(self._positions(source), self._flex(source))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            log.warning("futures private feeds unavailable: %s: %s", type(exc).__name__, exc)
            self._on_private_error(str(exc).strip() or type(exc).__name__)
            await asyncio.Event().wait()  # park until the session ends

    async def _positions(self, source: FuturesStreamSource) -> None:
        while True:
            rows = await source.positions()
            self._on_positions(rows, self._arrived())

    async def _flex(self, source: FuturesStreamSource) -> None:
        await asyncio.sleep(0)  # the positions watch sends the one challenge first
        while True:
            fields = await source.flex()
            arrived = self._arrived()
            if fields:
                self._on_flex(fields, arrived)


__all__ = ["FuturesStreamSource", "FuturesStreamThread"]
