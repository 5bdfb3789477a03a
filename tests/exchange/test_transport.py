"""The hardened transport against the real test server: total deadlines, size cap after decompression,
no redirects, and public/private reads that never wait for each other."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest
import requests

from kraken_monitor.exchange.errors import BadResponse, ExchangeUnavailable
from kraken_monitor.exchange.kraken import KrakenExchange
from kraken_monitor.exchange.kraken_parse import CallCounter
from kraken_monitor.exchange.transport import (
    BoundedSession,
    RedirectRefused,
    ResponseTooLarge,
    TransportTimeout,
)

DEADLINE_S = 1.0
SLACK_S = 1.0  # thread start-up, shutdown and a loaded CI machine; far below what each fault would take


@pytest.fixture
def live(server, credentials):
    made = []

    def make(deadline_s=DEADLINE_S, **kwargs):
        ex = KrakenExchange(server.url, credentials, timeout_s=deadline_s, public_interval_s=0,
                            private_counter=CallCounter(limit=10**9), **kwargs)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.close()


def _timed(fn):
    start = time.monotonic()
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - returned for the test to inspect
        return exc, time.monotonic() - start
    return None, time.monotonic() - start


def test_dripping_body_ends_at_the_total_deadline(server, live):
    # The real Ticker answer (~700 bytes) at one byte per 0.2 s would take over two minutes; every single
    # read returns well within requests' per-read timeout, so only a total deadline ends it.
    server.transport.drip_interval_s = 0.2
    kraken = live()
    kraken.load_pair_rules()
    server.inject_fault("Ticker", "drip")
    err, elapsed = _timed(lambda: kraken.fetch_tickers(["BTC/USD"]))
    assert isinstance(err, TransportTimeout) and isinstance(err, ExchangeUnavailable), err
    assert DEADLINE_S * 0.9 <= elapsed < DEADLINE_S + SLACK_S
    assert "did not" in str(err) and "1 s" in str(err)
    # The fault was once-only: the next read is served normally on the same exchange object.
    assert kraken.fetch_tickers(["BTC/USD"])["BTC/USD"].last > 0


def test_hang_after_headers_ends_at_the_deadline(server, live):
    server.transport.hang_s = 30
    kraken = live()
    kraken.load_pair_rules()
    server.inject_fault("TradeBalance", "hang_after_headers")
    err, elapsed = _timed(kraken.fetch_account)
    assert isinstance(err, TransportTimeout), err
    assert elapsed < DEADLINE_S + SLACK_S


def test_order_cut_at_the_deadline_says_its_outcome_is_unknown(server, live):
    server.transport.hang_s = 30
    kraken = live()
    txid = server.add_position("BTC/USD", "long", Decimal("0.5"), Decimal("60000"))
    kraken.load_pair_rules()
    server.inject_fault("AddOrder", "hang_after_headers")
    err, _ = _timed(lambda: kraken.close_position(txid, Decimal("0.1")))
    assert isinstance(err, TransportTimeout) and "outcome is unknown" in str(err)


def test_stuck_account_read_never_holds_prices_up_nor_the_reverse(server, live):
    server.transport.hang_s = 30
    kraken = live(deadline_s=3.0)
    kraken.load_pair_rules()

    def stuck(call, box):
        box["error"], box["elapsed"] = _timed(call)

    for endpoint, blocked, free in (("TradeBalance", kraken.fetch_account, lambda: kraken.fetch_tickers(["BTC/USD"])),
                                    ("Ticker", lambda: kraken.fetch_tickers(["BTC/USD"]), kraken.fetch_account)):
        server.inject_fault(endpoint, "hang_after_headers")
        box: dict = {}
        thread = threading.Thread(target=stuck, args=(blocked, box))
        thread.start()
        time.sleep(0.2)  # the stuck request is in flight
        for _ in range(5):
            err, elapsed = _timed(free)
            assert err is None, err
            assert elapsed < 1.0, f"{endpoint} stuck: the other side waited {elapsed:.2f} s"
        assert thread.is_alive(), f"the {endpoint} request should still be in flight"
        thread.join(10)
        assert isinstance(box["error"], TransportTimeout)


def test_redirect_is_refused_and_credentials_never_travel(server, live):
    kraken = live()
    kraken.load_pair_rules()
    foreign = server.foreign_origin()
    for endpoint, call in (("TradeBalance", kraken.fetch_account),
                           ("Ticker", lambda: kraken.fetch_tickers(["BTC/USD"]))):
        server.inject_fault(endpoint, "redirect")
        with pytest.raises(RedirectRefused, match="307") as info:
            call()
        assert isinstance(info.value, BadResponse)
        assert foreign.url.rsplit(":", 1)[1] in str(info.value)  # names where it pointed
    assert foreign.received() == [], "a request followed the redirect"


def test_plain_requests_would_forward_the_key_on_that_redirect(server):
    """Control for the test above: the fault really is a cross-origin 307 that leaks API-Key/API-Sign."""
    server.inject_fault("TradeBalance", "redirect")
    requests.post(server.url + "/0/private/TradeBalance", data="nonce=1", timeout=5,
                  headers={"API-Key": "k", "API-Sign": "s"})
    got = server.foreign_origin().received()
    assert len(got) == 1 and got[0]["headers"].get("API-Key") == "k" and got[0]["headers"].get("API-Sign") == "s"


def test_gzip_bomb_stops_at_the_cap(server, live):
    server.transport.bomb_mib = 64
    kraken = live(deadline_s=10, max_response_bytes=4 << 20)
    kraken.load_pair_rules()
    server.inject_fault("Ticker", "gzip_bomb")
    with pytest.raises(ResponseTooLarge, match="decompressed") as info:
        kraken.fetch_tickers(["BTC/USD"])
    assert isinstance(info.value, BadResponse)
    assert kraken.fetch_tickers(["BTC/USD"])["BTC/USD"].last > 0


_RSS_CHILD = """
import json, resource, sys
from kraken_monitor.exchange.kraken import KrakenExchange
from kraken_monitor.exchange.transport import ResponseTooLarge
ex = KrakenExchange(sys.argv[1], None, public_interval_s=0)
ex.fetch_tickers(["BTC/USD"])  # warm: imports, markets, one normal answer
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("ready", flush=True)
sys.stdin.readline()  # the parent injects the bomb now
try:
    ex.fetch_tickers(["BTC/USD"])
    outcome = "parsed"
except ResponseTooLarge:
    outcome = "capped"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "before_kib": before, "after_kib": after}))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="resource.getrusage is POSIX")
def test_gzip_bomb_costs_at_most_tens_of_mib_in_a_real_process(server):
    # 300 MiB of JSON in a ~300 KiB gzip body: a plain session holds it (and its text, and its parse) at once.
    server.transport.bomb_mib = 300
    compressed = len(server.transport.gzip_bomb())
    child = subprocess.Popen([sys.executable, "-c", _RSS_CHILD, server.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        server.inject_fault("Ticker", "gzip_bomb")
        out, _ = child.communicate("go\n", timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0
    result = json.loads(out)
    growth_mib = (result["after_kib"] - result["before_kib"]) / 1024  # ru_maxrss is KiB on Linux
    print(f"\ngzip bomb: {compressed / 1024:.0f} KiB compressed, 300 MiB inflated; "
          f"peak RSS growth {growth_mib:.1f} MiB ({result['outcome']})")
    assert result["outcome"] == "capped"
    assert growth_mib < 64  # the cap is 16 MiB decoded; a parsed 300 MiB body would add > 600 MiB


def test_bounded_session_decodes_deflate_and_refuses_announced_oversize(server):
    import zlib
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    payload = json.dumps({"error": [], "result": {"x": "y" * 5000}}).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            body = zlib.compress(payload) if self.path == "/deflate" else payload
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) if self.path != "/liar" else 10**9))
            if self.path == "/deflate":
                self.send_header("Content-Encoding", "deflate")
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        session = BoundedSession(deadline_s=5, max_bytes=6000)
        assert session.get(base + "/deflate").content == payload
        assert session.get(base + "/plain").json()["result"]["x"] == "y" * 5000
        with pytest.raises(ResponseTooLarge, match="announced"):
            session.get(base + "/liar")
        with pytest.raises(ResponseTooLarge):
            BoundedSession(deadline_s=5, max_bytes=4000).get(base + "/deflate")
    finally:
        httpd.shutdown()
        httpd.server_close()



def test_a_refused_connection_says_so_rather_than_a_broken_answer():
    """Nothing listens on the port: the reason the trader reads is "refused", which points at the URL or a proxy,
    not "broke off its answer", which points at Kraken."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ExchangeUnavailable) as caught:
        BoundedSession(5.0).get(f"http://127.0.0.1:{port}/0/public/Time")
    assert str(caught.value) == f"http://127.0.0.1:{port} refused the connection (nothing listens there)."
