"""The price-stream thread: one asyncio loop running a pushed price source, with liveness, reconnects and resubscribes.

Threading contract: `PriceStreamThread` is created and driven (start, set_pairs, stop) from one owner thread
(the poll worker's); the source it opens lives and dies inside the stream thread's event loop. Callbacks
(`on_ticks`, `on_state`, `on_account_event`) run in the stream thread and must be thread-safe: the poll worker
passes ones that take a lock or emit queued Qt signals.

Liveness is data age, never "the socket is open" (ccxt#29709: a socket, its auth and subscription can stay
healthy while nothing arrives): a session with neither a tick nor a heartbeat for `silence_s` is torn down and
reopened, which resubscribes (ccxt resubscribes nothing by itself after a disconnect, ccxt#20173).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kraken_monitor.domain.models import Ticker
from kraken_monitor.worker.backoff import Backoff

log = logging.getLogger(__name__)

WATCHDOG_MARGIN_S = 0.02  # the watchdog wakes this long after the silence limit would be reached
STOP_WAIT_S = 5.0


class StreamSource(Protocol):
    """What exchange/ offers (exchange/kraken_stream.KrakenStream, exchange/demo_stream.DemoStream)."""

    private: bool

    async def tickers(self, pairs: Sequence[str]) -> list[Ticker]: ...
    async def heartbeat(self) -> None: ...
    async def account_event(self) -> str: ...
    async def close(self) -> None: ...


@dataclass(frozen=True)
class StreamState:
    """The stream's state as the status bar tells it: `live` only after data actually arrived."""

    live: bool
    detail: str  # "live", "connecting", "no data for 2.5 s", "down: <reason>; retry in 2.0 s"


class StreamSilent(Exception):
    """The session delivered nothing (no tick, no heartbeat) for longer than the silence limit."""


class PriceStreamThread:
    """Runs `open_source()` sessions until stopped; each tick batch goes to `on_ticks(tickers, arrival_mono)`."""

    def __init__(
        self,
        open_source: Callable[[], StreamSource],
        pairs: Sequence[str],
        on_ticks: Callable[[list[Ticker], float], None],
        on_state: Callable[[StreamState], None],
        on_account_event: Callable[[str], None] = lambda kind: None,
        silence_s: float = 2.5,
        backoff: Backoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_source = open_source
        self._pairs = tuple(sorted(set(pairs)))
        self._on_ticks, self._on_state, self._on_account_event = on_ticks, on_state, on_account_event
        self.silence_s = silence_s
        self.backoff = backoff or Backoff(0.5, 30.0)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self.sessions = 0  # sessions opened (each one subscribes again)

    # -- owner thread --------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name="kraken-monitor-stream", daemon=True)
            self._thread.start()

    def set_pairs(self, pairs: Sequence[str]) -> None:
        """A new set of pairs: the session ends and the next one subscribes to exactly these."""
        wanted = tuple(sorted(set(pairs)))
        with self._lock:
            if wanted == self._pairs:
                return
            self._pairs = wanted
        self._poke()

    def pairs(self) -> tuple[str, ...]:
        with self._lock:
            return self._pairs

    def stop(self, timeout_s: float = STOP_WAIT_S) -> bool:
        """End the session (its source closes its socket) and the thread; True when the thread ended."""
        self._stopping.set()
        self._poke()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout_s)
        return not thread.is_alive()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # the loop closed between the check and the call
                pass

    # -- stream thread -------------------------------------------------------------------------
    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._wake = asyncio.Event()
            self._loop = loop
            loop.run_until_complete(self._supervise())
        except Exception as exc:  # never die silently: the worker falls back to polling on "down"
            log.error("price stream thread failed: %s: %s", type(exc).__name__, exc, exc_info=True)
            self._state(False, f"down: {type(exc).__name__}")
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                self._loop = None
                loop.close()

    def _state(self, live: bool, detail: str) -> None:
        try:
            self._on_state(StreamState(live, detail))
        except Exception as exc:  # a callback bug must not end the stream
            log.error("stream state callback failed: %s: %s", type(exc).__name__, exc)

    async def _supervise(self) -> None:
        while not self._stopping.is_set():
            pairs = self.pairs()
            if not pairs:
                self._state(False, "no pairs to stream")
                await self._sleep(None)
                continue
            source: StreamSource | None = None
            try:
                self._state(False, "connecting")
                source = self._open_source()
                self.sessions += 1
                await self._session(source, pairs)
            except Exception as exc:
                delay = self.backoff.failed(self._monotonic())
                reason = str(exc).strip() or type(exc).__name__
                log.warning("price stream down: %s; retrying in %.1f s", reason, delay)
                self._state(False, f"down: {reason}; retry in {delay:.1f} s")
                await self._close(source)
                source = None
                await self._sleep(delay)
            finally:
                await self._close(source)
        self._state(False, "stopped")

    async def _close(self, source: StreamSource | None) -> None:
        if source is not None:
            try:
                await asyncio.wait_for(source.close(), 3)
            except Exception as exc:  # noqa: BLE001 - the session is over either way
                log.debug("closing the stream source: %s: %s", type(exc).__name__, exc)

    async def _sleep(self, seconds: float | None) -> None:
        """Until `seconds` pass (None: forever), the pairs change or stop() is called."""
        assert self._wake is not None
        self._wake.clear()
        if self._stopping.is_set():
            return
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _session(self, source: StreamSource, pairs: tuple[str, ...]) -> None:
        """Returns when the pairs change or stop() is called; raises when the source fails or goes silent."""
        self._last_data = self._monotonic()
        self._live = False
        tasks = [asyncio.ensure_future(self._prices(source, pairs)), asyncio.ensure_future(self._heartbeats(source))]
        if source.private:
            tasks.append(asyncio.ensure_future(self._account_events(source)))
        watchdog = asyncio.ensure_future(self._watch(pairs))
        try:
            done, _pending = await asyncio.wait([*tasks, watchdog], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                exc = task.exception()
                if exc is not None:
                    raise exc
        finally:
            for task in (*tasks, watchdog):
                task.cancel()
            await asyncio.gather(*tasks, watchdog, return_exceptions=True)

    async def _watch(self, pairs: tuple[str, ...]) -> None:
        """Returns when the pairs change or stop() is called (both wake it at once), raises once the session
        has been silent for `silence_s`. Between, it sleeps until that moment: it looked 10 times a second in
        each stream thread, idle (issue 17.7)."""
        while not self._stopping.is_set() and self.pairs() == pairs:
            quiet = self._monotonic() - self._last_data
            if quiet > self.silence_s:
                raise StreamSilent(f"no data for {quiet:.1f} s")
            await self._sleep(self.silence_s - quiet + WATCHDOG_MARGIN_S)

    async def _prices(self, source: StreamSource, pairs: tuple[str, ...]) -> None:
        while True:
            tickers = await source.tickers(pairs)
            arrived = self._monotonic()  # ccxt tickers carry no timestamp: the arrival time is the age
            self._last_data = arrived
            if not self._live:
                self._live = True
                self.backoff.succeeded()
                self._state(True, "live")
            if tickers:
                self._on_ticks(tickers, arrived)

    async def _heartbeats(self, source: StreamSource) -> None:
        while True:
            await source.heartbeat()
            self._last_data = self._monotonic()

    async def _account_events(self, source: StreamSource) -> None:
        """A private channel failing (no permission) ends only itself: prices keep streaming, REST keeps polling."""
        try:
            while True:
                kind = await source.account_event()
                self._on_account_event(kind)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            log.warning("private stream unavailable: %s: %s", type(exc).__name__, exc)
            await asyncio.Event().wait()  # park until the session ends


__all__ = ["PriceStreamThread", "StreamSilent", "StreamSource", "StreamState"]
