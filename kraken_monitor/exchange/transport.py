"""Hardened HTTP session for ccxt: a total deadline per request, a cap on the decoded body, no redirects."""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import Timeout
from urllib3 import exceptions as urllib3_errors
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from kraken_monitor.exchange.errors import BadResponse, ExchangeUnavailable
from kraken_monitor.exchange.text import printable

DEFAULT_DEADLINE_S = 10.0
# Kraken's largest answer (AssetPairs, ~1,400 pairs) is about 2 MiB of JSON; 16 MiB leaves room to grow
# while a decompression bomb stops at a few tens of MiB of memory instead of gigabytes.
DEFAULT_MAX_BYTES = 16 << 20
# Requests abandoned at their deadline whose threads have not ended yet; beyond this, refuse new ones
# (a server that holds every connection open must not make us open sockets without end).
MAX_ABANDONED = 4
_CHUNK = 64 << 10

_current = threading.local()  # the _Flight of the request running in this thread


class TransportTimeout(ExchangeUnavailable):
    """The request did not complete (connect + headers + body) within its total deadline."""


class ResponseTooLarge(BadResponse):
    """The body, after decompression, exceeded the cap."""


class RedirectRefused(BadResponse):
    """The server answered with a redirect; exchange sessions never follow one (credentials would travel)."""


class _Flight:
    """One request in flight: its deadline and the connection it uses, so it can be cut at the deadline."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.conn: Any = None
        self.done = threading.Event()
        self.response: requests.Response | None = None
        self.error: BaseException | None = None

    def cut(self) -> None:
        """Wake a thread blocked on the socket (shutdown interrupts recv; close alone does not)."""
        sock = getattr(self.conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _note_conn(conn: Any) -> Any:
    flight = getattr(_current, "flight", None)
    if flight is not None:
        flight.conn = conn
    return conn


class _HTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _note_conn(super()._get_conn(timeout))


class _HTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _note_conn(super()._get_conn(timeout))


class _Adapter(HTTPAdapter):
    """No retries of its own (the worker retries with backoff); pools that expose their connection."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class BoundedSession(requests.Session):
    """A requests.Session whose every request ends by `deadline_s` and reads at most `max_bytes` decoded.

    requests' own timeout is per socket read: a server that drips one byte every few seconds holds a
    plain session forever. Here the request runs in a short-lived daemon thread and the caller waits for
    it on the monotonic clock; at the deadline the socket is shut down and the caller gets
    TransportTimeout. The body is decoded here, in bounded steps, so a gzip bomb costs at most the cap.
    Redirects are never followed: a 3xx raises RedirectRefused (API-Key/API-Sign stay with their origin).
    One session per ccxt instance: public and private calls never share a pool, a lock or a thread.
    """

    def __init__(self, deadline_s: float = DEFAULT_DEADLINE_S, max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.deadline_s, self.max_bytes, self._clock = deadline_s, max_bytes, clock
        self.trust_env = False  # as ccxt's default: no ~/.netrc credentials, no proxy from the environment
        adapter = _Adapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self._abandoned: list[threading.Thread] = []
        self._abandoned_lock = threading.Lock()

    def get_redirect_target(self, resp: requests.Response) -> None:
        # Never a redirect to requests: it would read the 3xx body without a cap before we refuse it.
        return None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        origin = _origin(url)
        with self._abandoned_lock:
            self._abandoned = [t for t in self._abandoned if t.is_alive()]
            if len(self._abandoned) >= MAX_ABANDONED:
                raise TransportTimeout(f"{origin}: {len(self._abandoned)} earlier requests are still stuck; "
                                       "not opening another connection yet.")
        flight = _Flight(self._clock() + self.deadline_s)
        kwargs.update(allow_redirects=False, stream=True, timeout=Timeout(total=self.deadline_s))
        worker = threading.Thread(target=self._run, args=(flight, method, url, args, kwargs),
                                  name="kraken-http", daemon=True)
        worker.start()
        if not flight.done.wait(self.deadline_s):
            flight.cut()
            with self._abandoned_lock:
                self._abandoned.append(worker)
            raise TransportTimeout(f"{origin} did not answer within {self.deadline_s:g} s.")
        if flight.error is not None:
            raise flight.error
        assert flight.response is not None
        return flight.response

    def _run(self, flight: _Flight, method: str, url: str, args: tuple, kwargs: dict) -> None:
        _current.flight = flight
        try:
            response = super().request(method, url, *args, **kwargs)
            try:
                if 300 <= response.status_code < 400:
                    target = _origin(response.headers.get("Location", "") or "?")
                    raise RedirectRefused(f"{_origin(url)} answered HTTP {response.status_code} redirecting to "
                                          f"{target}; exchange requests never follow redirects.")
                response._content = self._read_body(response, flight, _origin(url))
                response._content_consumed = True
            finally:
                response.close()
            # The body is decoded already: requests must not decode it again.
            response.headers.pop("Content-Encoding", None)
            flight.response = response
        except (requests.Timeout, urllib3_errors.TimeoutError, TimeoutError):
            flight.error = TransportTimeout(f"{_origin(url)} did not answer within {self.deadline_s:g} s.")
        except (urllib3_errors.HTTPError, OSError) as exc:  # body reads bypass requests' own wrapping
            flight.error = ExchangeUnavailable(_unavailable(_origin(url), exc))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller, which raises it
            flight.error = exc
        finally:
            _current.flight = None
            flight.done.set()

    def _read_body(self, response: requests.Response, flight: _Flight, origin: str) -> bytes:
        declared = response.headers.get("Content-Length", "")
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLarge(f"{origin} announced {int(declared):,} bytes; the limit is {self.max_bytes:,}.")
        decoder = _decoder(encoding, origin)
        out = bytearray()
        raw = response.raw
        while True:
            if self._clock() >= flight.deadline:
                raise TransportTimeout(f"{origin} did not send its answer within {self.deadline_s:g} s.")
            chunk = raw.read(_CHUNK, decode_content=False)
            if not chunk:
                break
            decoder.feed(chunk, out, self.max_bytes - len(out))
            if len(out) > self.max_bytes or decoder.overflow:
                raise ResponseTooLarge(f"{origin} sent more than {self.max_bytes:,} bytes (decompressed).")
        decoder.finish(out, self.max_bytes - len(out))
        if len(out) > self.max_bytes or decoder.overflow:
            raise ResponseTooLarge(f"{origin} sent more than {self.max_bytes:,} bytes (decompressed).")
        return bytes(out)


class _Identity:
    overflow = False

    def feed(self, chunk: bytes, out: bytearray, room: int) -> None:
        out += chunk

    def finish(self, out: bytearray, room: int) -> None:
        pass


class _Inflate:
    """zlib in bounded steps: never more than `room` + 1 bytes out of one call, so a bomb cannot balloon."""

    def __init__(self, wbits: int) -> None:
        self._z = zlib.decompressobj(wbits)
        self.overflow = False

    def feed(self, chunk: bytes, out: bytearray, room: int) -> None:
        data = chunk
        while data and not self.overflow:
            piece = self._z.decompress(data, max(1, room + 1))
            out += piece
            room -= len(piece)
            self.overflow = room < 0
            data = self._z.unconsumed_tail

    def finish(self, out: bytearray, room: int) -> None:
        if not self.overflow:
            out += self._z.flush()  # what zlib still buffers: at most its window, checked by the caller


def _decoder(encoding: str, origin: str) -> _Identity | _Inflate:
    if encoding in ("", "identity"):
        return _Identity()
    if encoding in ("gzip", "x-gzip"):
        return _Inflate(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _Inflate(zlib.MAX_WBITS)
    raise BadResponse(f"{origin} sent an encoding the monitor did not ask for ({printable(encoding)[:20]}).")


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, printable: error texts name where, never the path or query."""
    parts = urlsplit(url)
    return printable(f"{parts.scheme}://{parts.netloc}" if parts.netloc else url)[:120]


def _unavailable(origin: str, exc: BaseException) -> str:
    """Why no answer came, in words: never connected (refused, unknown host) is not an answer broken off."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and all(cause is not seen for seen in chain) and len(chain) < 12:
        chain.append(cause)
        reason = getattr(cause, "reason", None)
        nested = [a for a in getattr(cause, "args", ()) if isinstance(a, BaseException)]
        cause = (reason if isinstance(reason, BaseException) else nested[0] if nested
                 else cause.__cause__ or cause.__context__)
    if any(isinstance(c, ConnectionRefusedError) for c in chain):
        return f"{origin} refused the connection (nothing listens there)."
    if any(isinstance(c, (socket.gaierror, urllib3_errors.NameResolutionError)) for c in chain):
        return f"{origin} could not be found (name lookup failed)."
    if any(isinstance(c, urllib3_errors.NewConnectionError) for c in chain):
        return f"{origin} could not be reached ({type(chain[-1]).__name__})."
    return f"{origin} broke off its answer ({type(exc).__name__})."
