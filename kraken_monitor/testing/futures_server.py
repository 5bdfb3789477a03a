"""Kraken Futures REST v3 on 127.0.0.1 for tests: APIKey/Authent checked as Kraken does, its error shapes, faults.

The fault queue, transport faults and lifecycle are the spot server's (KrakenTestServer); only the wire
protocol differs: paths under /derivatives/api/v3/, `{"result": "error", "error": ...}` answers, Authent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlsplit

from kraken_monitor.testing import transport_faults as tf
from kraken_monitor.testing.futures_orders import order_answer
from kraken_monitor.testing.futures_sim import FuturesApiError, FuturesSim
from kraken_monitor.testing.kraken_server import KrakenTestServer, _Fault, _Handler

PREFIX = "/derivatives/api/v3/"
# The "budget" each private endpoint spends from 500 per 10 s (docs.kraken.com/exchange/guides/futures/ratelimits).
COSTS = {("GET", "accounts"): 2, ("GET", "openpositions"): 2, ("GET", "openorders"): 2,
         ("GET", "leveragepreferences"): 2, ("PUT", "leveragepreferences"): 10, ("POST", "transfer"): 10,
         ("POST", "sendorder"): 10, ("POST", "editorder"): 10, ("POST", "cancelorder"): 10}
BUDGET, WINDOW_S = 500.0, 10.0
_ERRORS = {"rate_limit": "apiLimitExceeded", "unavailable": "unavailable", "busy": "Server Error",
           "invalid_nonce": "nonceBelowThreshold", "invalid_key": "authenticationError"}
# What the missing_fields fault removes: a whole list (ccxt must not read it as "flat") or fields of rows.
_MISSING = {"openpositions": ("openPositions",), "openorders": ("openOrders",), "accounts": ("marginEquity", "maintenanceMargin"),
            "tickers": ("markPrice",), "instruments": ("marginLevels",)}


def authent(post_data: str, nonce: str, endpoint_path: str, secret_b64: str) -> str:
    """Authent = base64(HMAC-SHA512(base64decode(secret), SHA256(postData + nonce + endpointPath)))."""
    digest = hashlib.sha256((post_data + nonce + endpoint_path).encode()).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), digest, hashlib.sha512).digest()).decode()


def _server_time() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class _FuturesHandler(_Handler):
    server: object

    def do_GET(self) -> None:  # noqa: N802
        self._futures("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._futures("PUT")

    def do_POST(self) -> None:  # noqa: N802
        self._futures("POST")

    def _futures(self, verb: str) -> None:
        owner: FuturesTestServer = self.server.owner  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        # ccxt sends every parameter in the query, POST included; Kraken signs whichever carries them.
        post_data = body or parts.query
        params = dict(parse_qsl(post_data, keep_blank_values=True))
        endpoint = parts.path.removeprefix(PREFIX) if parts.path.startswith(PREFIX) else ""
        owner._record(f"{verb} {endpoint or parts.path}", params)
        fault = owner._take_fault(endpoint)
        if fault is not None and self._apply_fault(fault, endpoint, parts.path, params):
            return
        try:
            if endpoint not in ("instruments", "tickers"):
                owner._check_authent(verb, endpoint, parts.path, post_data, self.headers)
            payload = owner._answer(verb, endpoint, params)
        except FuturesApiError as err:
            self._send_json(_error_body(err))
            return
        if fault is not None and fault.kind == "missing_fields":
            payload = _strip(endpoint, payload)
        if fault is not None and fault.kind in tf.BODY_KINDS:
            tf.send_dripping(self, json.dumps(payload).encode(), owner.transport, owner._stopping)
            return
        self._send_json(payload)

    def _apply_fault(self, fault: _Fault, method: str, path: str, params: dict[str, str]) -> bool:
        # Error answers take the futures shape; timeouts, resets, HTTP 500, malformed JSON and the transport
        # faults are the spot server's own, protocol-independent.
        if fault.kind in _ERRORS or fault.kind == "kraken_error":
            self._send_json(_error_body(FuturesApiError(fault.error or _ERRORS.get(fault.kind, "unknownError"))))
            return True
        if fault.kind == "empty_with_error":
            self._send_json({"result": "success", "serverTime": _server_time(),
                             "error": fault.error or "unknownError"})
            return True
        return super()._apply_fault(fault, method, path, params)


def _error_body(err: FuturesApiError) -> dict[str, object]:
    if err.code is not None:  # numbered errors (leveragepreferences, margin) come as errors[]
        return {"result": "error", "serverTime": _server_time(),
                "errors": [{"code": err.code, "message": err.error}]}
    return {"result": "error", "serverTime": _server_time(), "error": err.error}


def _strip(endpoint: str, payload: dict[str, object]) -> dict[str, object]:
    fields = _MISSING.get(endpoint, ())
    if endpoint in ("openpositions", "openorders"):
        return {k: v for k, v in payload.items() if k not in fields}
    if endpoint == "accounts":
        accounts = dict(payload["accounts"])  # type: ignore[arg-type]
        accounts["flex"] = {k: v for k, v in accounts["flex"].items() if k not in fields}
        return dict(payload, accounts=accounts)
    key = {"tickers": "tickers", "instruments": "instruments"}.get(endpoint)
    if key:
        return dict(payload, **{key: [{k: v for k, v in row.items() if k not in fields} for row in payload[key]]})
    return payload


class FuturesTestServer(KrakenTestServer):
    """Kraken Futures REST on 127.0.0.1:<free port>. `api_base` is what ccxt's urls['api'] should be.

    Scenario: `sim` (FuturesSim: marks, positions, leverage, quirks). Faults: inject_fault(endpoint, kind)
    with endpoint names such as "openpositions", "accounts", "tickers" or "*".
    """

    handler_class = _FuturesHandler

    def __init__(self, api_key: str = "TEST-FUTURES-KEY", api_secret: str | None = None,
                 timeout_sleep_s: float = 2.0, enforce_rate_limit: bool = True) -> None:
        super().__init__(api_key, api_secret, timeout_sleep_s, enforce_rate_limit)
        self.futures = FuturesSim()
        self.max_cost_seen = 0.0
        self._spent: list[tuple[float, float]] = []  # (monotonic time, cost) inside the window
        self._futures_nonces: dict[str, int] = {}
        self._sim_lock = threading.Lock()

    @property
    def api_base(self) -> str:
        return self.url + "/derivatives/api/"

    def requests_to(self, method: str) -> list[dict[str, str]]:
        """Parameters of every call to `method` ("GET openpositions", "PUT leveragepreferences", ...)."""
        with self._lock:
            return [params for path, params in self.requests if path == method]

    def cost_in_window(self) -> float:
        with self._lock:
            return self._window_cost(time.monotonic())

    def _window_cost(self, now: float) -> float:
        self._spent = [(at, c) for at, c in self._spent if now - at < WINDOW_S]
        return sum(c for _, c in self._spent)

    def _check_authent(self, verb: str, endpoint: str, path: str, post_data: str, headers: object) -> None:
        key = headers.get("APIKey") or ""  # type: ignore[attr-defined]
        sign = headers.get("Authent") or ""  # type: ignore[attr-defined]
        nonce = headers.get("Nonce") or ""  # type: ignore[attr-defined]
        with self._lock:
            secret = self._secrets.get(key)
            # Kraken signs the path without its /derivatives prefix: /api/v3/openpositions.
            expected = authent(post_data, nonce, path.removeprefix("/derivatives"), secret) if secret else ""
            if not secret or not sign or not hmac.compare_digest(sign, expected):
                raise FuturesApiError("authenticationError")
            if nonce:  # optional on Kraken Futures; when sent it must grow
                if not nonce.isdigit() or int(nonce) <= self._futures_nonces.get(key, 0):
                    raise FuturesApiError("nonceBelowThreshold")
                self._futures_nonces[key] = int(nonce)
            cost = COSTS.get((verb, endpoint), 1)
            now = time.monotonic()
            spent = self._window_cost(now)
            if self.enforce_rate_limit and spent + cost > BUDGET:
                raise FuturesApiError("apiLimitExceeded")
            self._spent.append((now, cost))
            self.max_cost_seen = max(self.max_cost_seen, spent + cost)

    def _answer(self, verb: str, endpoint: str, params: dict[str, str]) -> dict[str, object]:
        sim = self.futures
        ok = {"result": "success", "serverTime": _server_time()}
        if verb == "GET" and endpoint == "instruments":
            return dict(ok, instruments=sim.instruments_payload())
        if verb == "GET" and endpoint == "tickers":
            return dict(ok, tickers=sim.tickers_payload())
        if verb == "GET" and endpoint == "openpositions":
            return dict(ok, openPositions=sim.open_positions_payload())
        if verb == "GET" and endpoint == "accounts":
            return dict(ok, accounts=sim.accounts_payload())
        if verb == "GET" and endpoint == "openorders":
            with self._sim_lock, sim._lock:
                return dict(ok, openOrders=list(sim.open_orders) + sim.orders.rows())
        if verb == "POST" and endpoint in ("sendorder", "editorder", "cancelorder"):
            with self._sim_lock, sim._lock:
                return dict(ok, **order_answer(sim, endpoint, params, _server_time()))
        if verb == "GET" and endpoint == "leveragepreferences":
            return dict(ok, leveragePreferences=sim.leverage_payload(params.get("symbol")))
        if verb == "POST" and endpoint == "transfer":
            sim.transfer(params.get("fromAccount", ""), params.get("toAccount", ""), params.get("unit", ""),
                         params.get("amount", ""))
            return ok
        if verb == "PUT" and endpoint == "leveragepreferences":
            sim.set_leverage(params.get("symbol", "").upper(), _decimal(params.get("maxLeverage")))
            return ok
        raise FuturesApiError("notFound")


def _decimal(text: str | None) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise FuturesApiError("invalidArgument: maxLeverage") from None
