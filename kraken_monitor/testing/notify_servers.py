"""Local notification receivers for tests: a JSON webhook (apprise json://) and an SMTP server (mailto://), 127.0.0.1 only."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebhookServer:
    """Records every JSON POST; `fail_next(n)` answers the next n with HTTP 500 (a channel that is down)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.paths: list[str] = []
        self._failures = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length)
                with owner._lock:
                    if owner._failures > 0:
                        owner._failures -= 1
                        status = 500
                    else:
                        status = 200
                        owner.received.append(json.loads(payload or b"{}"))
                        owner.paths.append(self.path)
                        owner._arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet in tests
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook", daemon=True)

    def __enter__(self) -> WebhookServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def fail_next(self, n: int) -> None:
        with self._lock:
            self._failures = n

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[dict]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout_s)
            return list(self.received)


class SmtpServer:
    """aiosmtpd on 127.0.0.1 in its own thread, keeping every message it accepted."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[dict] = []
        self._arrived = threading.Condition()
        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                with owner._arrived:
                    owner.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                           "data": envelope.content.decode("utf-8", "replace")})
                    owner._arrived.notify_all()
                return "250 OK"

        self.port = _free_port()  # aiosmtpd's start-up self-check cannot connect to port 0
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[dict]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout_s)
            return list(self.messages)
