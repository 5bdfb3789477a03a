"""The lifecycle the project's WebSocket test servers share: an aiohttp app on 127.0.0.1 in its own loop thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web


class LoopbackWsServer:
    """Serves `PATH` on a free loopback port from a daemon thread running its own event loop.

    Subclasses implement `_socket` (one client) and `_heartbeats` (the loop's periodic task) and keep their
    connections in `_conns` (objects with a `ws`); the scenario API calls into the loop with `_call`.
    """

    PATH = "/"
    THREAD_NAME = "ws-test-server"
    WHAT = "the WebSocket test server"

    def __init__(self) -> None:
        self.url = ""
        self._lock = threading.Lock()
        self._silent = False
        self._conns: list[Any] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._heartbeat_task: asyncio.Task | None = None

    # ----- lifecycle -----
    def start(self):  # noqa: ANN201 - the subclass
        self._thread = threading.Thread(target=self._serve, name=self.THREAD_NAME, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{self.WHAT} did not start")
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self._open())
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._close())
        loop.close()

    async def _open(self) -> None:
        app = web.Application()
        app.router.add_get(self.PATH, self._socket)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp exposes no public port getter
        self.url = f"ws://127.0.0.1:{port}{self.PATH}"
        self._heartbeat_task = asyncio.ensure_future(self._heartbeats())

    async def _close(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
        for conn in list(self._conns):
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def __enter__(self):  # noqa: ANN204 - the subclass
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- scenario API (any thread) -----
    def silence(self, silent: bool = True) -> None:
        """Connected but silent: no data, no heartbeat; pings are still answered (the socket looks healthy)."""
        with self._lock:
            self._silent = silent

    def drop_connections(self) -> None:
        """Close every client socket at once, as a network cut or a Kraken restart would."""
        self._call(self._drop_all)

    def open_connections(self) -> int:
        with self._lock:
            return len(self._conns)

    # ----- server loop -----
    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._loop is None:
            raise RuntimeError(f"{self.WHAT} is not running")
        self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(fn(*args)))

    async def _drop_all(self) -> None:
        with self._lock:
            conns, self._conns = list(self._conns), []
        for conn in conns:
            await conn.ws.close(code=1011, message=b"test server drop")  # 1011: retryable, as a restart

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        raise NotImplementedError

    async def _heartbeats(self) -> None:
        raise NotImplementedError
