"""Kraken-REST-speaking HTTP server on 127.0.0.1 for tests and benchmarks: signed private calls, faults, call counter."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from kraken_monitor.testing import transport_faults as tf
from kraken_monitor.testing.kraken_candles import add_trades, ohlc_payload
from kraken_monitor.testing.kraken_closed_orders import closed_orders_payload, liquidate_position
from kraken_monitor.testing.kraken_sim import KrakenApiError, KrakenSim
from kraken_monitor.testing.kraken_trades import ledgers_payload, query_trades_payload, trades_history_payload

FAULT_KINDS = ("timeout", "reset", "http500", "rate_limit", "unavailable", "busy", "malformed", "missing_fields",
               "empty_with_error", "invalid_nonce", "invalid_key", "kraken_error", *tf.TRANSPORT_KINDS)
_ERROR_FAULTS = {"rate_limit": "EAPI:Rate limit exceeded", "unavailable": "EService:Unavailable",
                 "busy": "EService:Busy", "invalid_nonce": "EAPI:Invalid nonce", "invalid_key": "EAPI:Invalid key"}
# Fields removed by the "missing_fields" fault, per endpoint (rows of keyed results, or the result itself).
_MISSING = {"Ticker": ("c", "a", "b"), "AssetPairs": ("margin_call", "pair_decimals"), "Assets": ("decimals",),
            "OpenPositions": ("vol", "cost"), "TradeBalance": ("tb", "e", "m"), "AddOrder": ("txid",),
            "BalanceEx": ("ZUSD",)}
# Kraken's private counter: +1 per call, +2 for ledger/trade history; trading calls have their own limiter.
# https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits
_COUNTER_COST = {"Ledgers": 2, "QueryLedgers": 2, "TradesHistory": 2, "QueryTrades": 2}
_NOT_COUNTED = {"AddOrder", "AddOrderBatch", "EditOrder", "CancelOrder", "CancelAll", "CancelOrderBatch"}


def kraken_signature(urlpath: str, nonce: str, postdata: str, secret_b64: str) -> str:
    """API-Sign = base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + postdata)))."""
    digest = hashlib.sha256((nonce + postdata).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), urlpath.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class _Fault:
    kind: str
    remaining: int | None  # None = until cleared
    error: str


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: KrakenTestServer

    def get_request(self):  # noqa: ANN201 - socketserver signature
        sock, addr = super().get_request()
        # Without TCP_NODELAY, Nagle + delayed ACK cost ~40 ms per keep-alive request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as api.kraken.com
    server: _HTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
        pass

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        self._json_body = False
        self._dispatch(parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), "")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self._json_body = self.headers.get("Content-Type", "").startswith("application/json")
        if self._json_body:
            try:
                params = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in json.loads(body).items()}
            except (ValueError, AttributeError):
                params = {}
        else:
            params = dict(parse_qsl(body, keep_blank_values=True))
        self._dispatch(urlsplit(self.path).path, params, body)

    def _dispatch(self, path: str, params: dict[str, str], body: str) -> None:
        owner = self.server.owner
        owner._record(path, params)
        method = path.rsplit("/", 1)[-1]
        fault = owner._take_fault(method)
        if fault is not None and self._apply_fault(fault, method, path, params):
            return
        try:
            if path.startswith("/0/private/"):
                owner._authenticate(method, path, params, body, self.headers.get("API-Key"),
                                    self.headers.get("API-Sign"))
            result = owner._handle(method, path, params, getattr(self, "_json_body", False))
        except KrakenApiError as err:
            self._send_json({"error": [str(err)], "result": {}})
            return
        if fault is not None and fault.kind == "missing_fields":
            result = _strip(method, result)
        if fault is not None and fault.kind in tf.BODY_KINDS:
            body = json.dumps({"error": [], "result": result}).encode()
            tf.send_dripping(self, body, owner.transport, owner._stopping)
            return
        self._send_json({"error": [], "result": result})

    def _apply_fault(self, fault: _Fault, method: str, path: str, params: dict[str, str]) -> bool:
        """Act out a fault; False means 'answer normally, then mangle' (missing_fields)."""
        kind = fault.kind
        if kind == "timeout":
            self.server.owner._stopping.wait(self.server.owner.timeout_sleep_s)
            self.close_connection = True
        elif kind == "reset":
            # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif kind == "http500":
            self._send_raw(500, b"<html><body>500 Internal Server Error</body></html>", "text/html")
        elif kind == "malformed":
            self._send_raw(200, b'{"error":[],"result":{"tb":"12', "application/json")
        elif kind in ("missing_fields", *tf.BODY_KINDS):
            return False
        elif kind in tf.EARLY_KINDS:
            self.server.owner._act_transport(self, kind)
        elif kind == "empty_with_error":
            self._send_json({"error": [fault.error or "EGeneral:Unknown error"], "result": {}})
        else:
            self._send_json({"error": [fault.error or _ERROR_FAULTS[kind]]})
        return True

    def _send_json(self, payload: object) -> None:
        self._send_raw(200, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def _send_raw(self, status: int, data: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # client gave up (timeout) or went away
            self.close_connection = True


def _strip(method: str, result: object) -> object:
    fields = _MISSING.get(method, ())
    if isinstance(result, dict) and method in ("Ticker", "AssetPairs", "Assets", "OpenPositions"):
        if not result and method == "OpenPositions":
            return {"TSTRIP-PED00-000000": {"pair": "XXBTZUSD", "type": "buy"}}
        return {k: {f: v for f, v in row.items() if f not in fields} if isinstance(row, dict) else row
                for k, row in result.items()}
    if isinstance(result, dict):
        return {k: v for k, v in result.items() if k not in fields}
    return result


class KrakenTestServer:
    """Kraken REST on 127.0.0.1:<free port>; use as a context manager. `url` is the base ccxt should use.

    Scenario calls (set_prices, add_position, ...) are thread-safe and may run while clients poll.
    """

    handler_class: type[BaseHTTPRequestHandler] = _Handler  # the futures server speaks its own protocol

    def __init__(self, api_key: str = "TEST-KEY-kraken-monitor", api_secret: str | None = None,
                 timeout_sleep_s: float = 2.0, enforce_rate_limit: bool = False,
                 counter_limit: float = 15, counter_decay_per_s: float = 0.33) -> None:
        self.api_key = api_key
        self.api_secret = api_secret or base64.b64encode(os.urandom(64)).decode()
        self._secrets = {api_key: self.api_secret}
        self.timeout_sleep_s = timeout_sleep_s
        self.enforce_rate_limit = enforce_rate_limit
        self.counter_limit, self.counter_decay_per_s = counter_limit, counter_decay_per_s
        self.sim = KrakenSim()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.max_counter_seen = 0.0
        self._counters: dict[str, tuple[float, float]] = {}  # key -> (level, at)
        self._nonces: dict[str, int] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._ws_tokens: set[str] = set()  # minted by GetWebSocketsToken, checked by testing/ws_server.py
        self._hidden_pairs: set[str] = set()  # unified symbols left out of Ticker answers (hide_from_ticker)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.transport = tf.TransportSettings()  # drip interval, hang time, gzip bomb size
        self._foreign: tf.ForeignOrigin | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ----- lifecycle -----
    def start(self) -> KrakenTestServer:
        self._httpd = _HTTPServer(("127.0.0.1", 0), self.handler_class)
        self._httpd.owner = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="kraken-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._foreign is not None:
            self._foreign.stop()

    def __enter__(self) -> KrakenTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- scenario API (delegates to the simulator) -----
    def set_prices(self, prices: Mapping[str, Decimal]) -> None:
        self.sim.set_prices(prices)

    def script_prices(self, pair: str, prices: Iterable[Decimal]) -> None:
        self.sim.script_prices(pair, prices)

    def add_trades(self, pair: str, trades: Iterable[tuple]) -> None:
        """(ts, price[, volume]) trades; OHLC is then aggregated from them (see kraken_candles.add_trades)."""
        add_trades(self.sim, pair, trades)

    def step(self) -> None:
        self.sim.step()

    def set_balance(self, trade_balance: Decimal, asset: str = "ZUSD") -> None:
        self.sim.set_balance(trade_balance, asset)

    def add_position(self, pair: str, side: str, volume: Decimal, price: Decimal, **kwargs: object) -> str:
        return self.sim.add_position(pair, side, volume, price, **kwargs)  # type: ignore[arg-type]

    def set_positions(self, rows: Mapping[str, Mapping[str, object]], live_calcs: bool = False) -> None:
        self.sim.set_positions(rows, live_calcs)

    def load_docs_positions(self, live_calcs: bool = False) -> None:
        self.sim.load_docs_positions(live_calcs)

    def liquidate(self, txid: str, price: Decimal | None = None) -> str:
        """Kraken liquidates `txid` itself (ClosedOrders then shows misc "liquidated")."""
        return liquidate_position(self.sim, txid, price)

    def add_key(self, key: str, secret: str) -> None:
        with self._lock:
            self._secrets[key] = secret

    def set_last_nonce(self, key: str, nonce: int) -> None:
        """Pretend another client already used `nonce` with this key (next lower nonce is rejected)."""
        with self._lock:
            self._nonces[key] = nonce

    def inject_fault(self, endpoint: str, kind: str, count: int | None = 1, error: str = "") -> None:
        """Make the next `count` calls (None = all, until cleared) of `endpoint` ('*' = any) fail as `kind`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self._lock:
            self._faults.setdefault(endpoint, []).append(_Fault(kind, count, error))

    def hide_from_ticker(self, *pairs: str) -> None:
        """Leave these pairs (unified symbols, e.g. 'BTC/USD') out of every Ticker answer; none = show all again."""
        with self._lock:
            self._hidden_pairs = set(pairs)

    def _without_hidden(self, result: object) -> object:
        with self._lock:
            hidden = set(self._hidden_pairs)
        if not hidden or not isinstance(result, dict):
            return result
        ids = {self.sim.spec(symbol).id for symbol in hidden}
        return {k: v for k, v in result.items() if k not in ids}

    def ws_token_valid(self, token: str) -> bool:
        """Whether GetWebSocketsToken minted `token` (the WS test server's private-channel check)."""
        with self._lock:
            return token in self._ws_tokens

    def _mint_ws_token(self) -> dict[str, object]:
        token = base64.b64encode(os.urandom(30)).decode()
        with self._lock:
            self._ws_tokens.add(token)
        return {"token": token, "expires": 900}  # Kraken: valid 15 minutes for a first connection

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # ----- transport faults (tests of the hardened client) -----
    def foreign_origin(self) -> tf.ForeignOrigin:
        """The other origin the `redirect` fault points at (started on first use); it records what reached it."""
        with self._lock:
            if self._foreign is None:
                self._foreign = tf.ForeignOrigin()
            return self._foreign

    def _act_transport(self, handler: BaseHTTPRequestHandler, kind: str) -> None:
        origin = self.foreign_origin().url if kind == "redirect" else ""
        tf.act_early(handler, kind, self.transport, self._stopping, origin)

    def counter(self, key: str | None = None) -> float:
        with self._lock:
            return self._decayed(key or self.api_key)

    def requests_to(self, method: str) -> list[dict[str, str]]:
        with self._lock:
            return [params for path, params in self.requests if path.rsplit("/", 1)[-1] == method]

    # ----- request handling (handler threads) -----
    def _record(self, path: str, params: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((path, dict(params)))

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for name in (method, "*"):
                queue = self._faults.get(name)
                if queue:
                    fault = queue[0]
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            queue.pop(0)
                    return fault
        return None

    def _decayed(self, key: str) -> float:
        level, at = self._counters.get(key, (0.0, time.monotonic()))
        now = time.monotonic()
        level = max(0.0, level - (now - at) * self.counter_decay_per_s)
        self._counters[key] = (level, now)
        return level

    def _authenticate(self, method: str, path: str, params: dict[str, str], body: str,
                      key: str | None, sign: str | None) -> None:
        with self._lock:
            secret = self._secrets.get(key or "")
            if secret is None:
                raise KrakenApiError("EAPI:Invalid key")
            nonce = params.get("nonce", "")
            if not sign or not hmac.compare_digest(sign, kraken_signature(path, nonce, body, secret)):
                raise KrakenApiError("EAPI:Invalid signature")
            if not nonce.isdigit() or int(nonce) <= self._nonces.get(key, 0):
                raise KrakenApiError("EAPI:Invalid nonce")
            self._nonces[key] = int(nonce)
            if method in _NOT_COUNTED:
                return
            cost = _COUNTER_COST.get(method, 1)
            level = self._decayed(key)
            if self.enforce_rate_limit and level + cost > self.counter_limit:
                raise KrakenApiError("EAPI:Rate limit exceeded")
            self._counters[key] = (level + cost, time.monotonic())
            self.max_counter_seen = max(self.max_counter_seen, level + cost)

    def _handle(self, method: str, path: str, params: dict[str, str], json_body: bool = False) -> object:
        sim = self.sim
        public = {
            "Assets": lambda: sim.assets_payload(),
            "AssetPairs": lambda: sim.asset_pairs_payload(params.get("pair")),
            "Ticker": lambda: self._without_hidden(sim.ticker_payload(params.get("pair"))),
            "OHLC": lambda: ohlc_payload(sim, params.get("pair", ""), int(params.get("interval") or 1),
                                             int(params["since"]) if params.get("since") else None),
            "Time": lambda: {"unixtime": int(time.time()), "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000")},
            "SystemStatus": lambda: {"status": "online", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ")},
        }
        private = {
            "TradeBalance": lambda: sim.trade_balance_payload(params.get("asset") or "ZUSD"),
            "OpenPositions": lambda: sim.positions_payload(params),
            "AddOrder": lambda: sim.add_order(params, json_body),
            "OpenOrders": lambda: sim.open_orders_payload(),
            "CancelOrder": lambda: sim.cancel_order(params),
            "AmendOrder": lambda: sim.amend_order(params),
            "BalanceEx": lambda: sim.balance_ex_payload(),
            "Balance": lambda: {k: v["balance"] for k, v in sim.balance_ex_payload().items()},
        }
        private["ClosedOrders"] = lambda: closed_orders_payload(sim, params)
        private["TradesHistory"] = lambda: trades_history_payload(sim, params)  # issue 18: live history
        private["Ledgers"] = lambda: ledgers_payload(sim, params)
        private["QueryTrades"] = lambda: query_trades_payload(sim, params)
        private["GetWebSocketsToken"] = self._mint_ws_token
        table = private if path.startswith("/0/private/") else public
        if method not in table:
            raise KrakenApiError("EGeneral:Unknown method")
        return table[method]()
