"""The local Kraken REST and WS v2 servers in a process of their own, driven through a pipe, as a real exchange
would be: their JSON, signing and socket work no longer shares the measured app's interpreter (and its GIL)."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any


def _serve(conn) -> None:
    from kraken_monitor.testing.kraken_server import KrakenTestServer
    from kraken_monitor.testing.ws_server import KrakenWsTestServer

    with KrakenTestServer() as rest, KrakenWsTestServer(rest.ws_token_valid) as ws:
        servers = {"rest": rest, "ws": ws}
        conn.send({"rest_url": rest.url, "ws_url": ws.url, "api_key": rest.api_key, "api_secret": rest.api_secret})
        while True:
            message = conn.recv()
            if message is None:
                break
            name, method, args, kwargs = message
            try:
                conn.send(("ok", getattr(servers[name], method)(*args, **kwargs)))
            except Exception as exc:  # noqa: BLE001 - told to the caller, who raises it
                conn.send(("error", repr(exc)))


class _Proxy:
    def __init__(self, owner: RemoteServers, name: str, **attrs: Any) -> None:
        self._owner, self._name = owner, name
        self.__dict__.update(attrs)

    def __getattr__(self, method: str):
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._owner.call(self._name, method, *args, **kwargs)

        return call


class RemoteServers:
    """`with RemoteServers() as (rest, ws):` the two servers' methods (set_prices, push_ticker, ...) by pipe."""

    def __enter__(self) -> tuple[_Proxy, _Proxy]:
        context = mp.get_context("spawn")  # a fresh interpreter: nothing of this one (Qt, threads) is copied
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        info = self._conn.recv()
        rest = _Proxy(self, "rest", url=info["rest_url"], api_key=info["api_key"], api_secret=info["api_secret"])
        ws = _Proxy(self, "ws", url=info["ws_url"])
        return rest, ws

    def call(self, name: str, method: str, *args: Any, **kwargs: Any) -> Any:
        self._conn.send((name, method, args, kwargs))
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"{name}.{method}: {value}")
        return value

    def __exit__(self, *exc: object) -> None:
        self._conn.send(None)
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
