"""Transport-level faults the test server acts out: drip, hang after headers, cross-origin redirect, gzip bomb."""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Faults answered before the request is handled (no body needed) and faults that mangle the real answer.
EARLY_KINDS = ("hang_after_headers", "redirect", "gzip_bomb")
BODY_KINDS = ("drip",)
TRANSPORT_KINDS = (*EARLY_KINDS, *BODY_KINDS)

_BOMB_PREFIX = b'{"error":[],"result":{"pad":"'
_BOMB_SUFFIX = b'"}}'


@dataclass
class TransportSettings:
    """How long the slow faults take; tests shorten them (a real attacker would not)."""

    drip_interval_s: float = 3.0  # one body byte every this many seconds
    hang_s: float = 60.0  # hang_after_headers holds the connection this long (or until the server stops)
    bomb_mib: int = 300  # decompressed size of the gzip bomb (compressed it is ~0.1 % of that)
    _bomb: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def gzip_bomb(self) -> bytes:
        """A gzip body that inflates to `bomb_mib` MiB of valid JSON; compressed once, in 1 MiB steps."""
        with self._lock:
            if self._bomb is None:
                comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                parts = [comp.compress(_BOMB_PREFIX)]
                chunk = b"0" * (1 << 20)
                parts += [comp.compress(chunk) for _ in range(self.bomb_mib)]
                parts += [comp.compress(_BOMB_SUFFIX), comp.flush()]
                self._bomb = b"".join(parts)
            return self._bomb


def act_early(handler: BaseHTTPRequestHandler, kind: str, settings: TransportSettings, stopping: threading.Event,
              redirect_origin: str) -> None:
    """Answer with a transport fault instead of Kraken's reply."""
    try:
        if kind == "hang_after_headers":
            _headers(handler, 200, "application/json", 1000)
            stopping.wait(settings.hang_s)
        elif kind == "redirect":
            handler.send_response(307)
            handler.send_header("Location", redirect_origin + handler.path)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        elif kind == "gzip_bomb":
            body = settings.gzip_bomb()
            _headers(handler, 200, "application/json", len(body), encoding="gzip")
            handler.wfile.write(body)
    except OSError:  # the client gave up (its deadline) or went away
        pass
    handler.close_connection = True


def send_dripping(handler: BaseHTTPRequestHandler, body: bytes, settings: TransportSettings,
                  stopping: threading.Event) -> None:
    """Headers at once, then the real body one byte every `drip_interval_s` (until done, or the client leaves)."""
    try:
        _headers(handler, 200, "application/json; charset=utf-8", len(body))
        for i in range(len(body)):
            handler.wfile.write(body[i:i + 1])
            handler.wfile.flush()
            if stopping.wait(settings.drip_interval_s):
                break
    except OSError:
        pass
    handler.close_connection = True


def _headers(handler: BaseHTTPRequestHandler, status: int, content_type: str, length: int,
             encoding: str = "") -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(length))
    if encoding:
        handler.send_header("Content-Encoding", encoding)
    handler.end_headers()
    handler.wfile.flush()


class ForeignOrigin:
    """A second listener (another port = another origin) that records every request a redirect brought it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode(errors="replace") if length else ""
                with origin._lock:
                    origin.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                data = b'{"error":[],"result":{}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _record  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="kraken-test-foreign-origin", daemon=True)
        self._thread.start()

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.requests)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
