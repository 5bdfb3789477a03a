"""Issue 3 figures: real ccxt through KrakenExchange to the local Kraken-protocol server (signed private calls)."""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.kraken import KrakenExchange
from kraken_monitor.exchange.kraken_parse import CallCounter
from kraken_monitor.testing.kraken_server import KrakenTestServer

PAIRS = {"BTC/USD": Decimal("60000"), "ETH/USD": Decimal("3000"), "SOL/USD": Decimal("150"), "XRP/USD": Decimal("2")}


def roundtrip(repeats: int = 200) -> dict:
    with KrakenTestServer() as server:
        server.set_prices(PAIRS)
        server.load_docs_positions(live_calcs=True)
        exchange = KrakenExchange(server.url, Credentials(server.api_key, server.api_secret),
                                  public_interval_s=0.0, private_counter=CallCounter(limit=1e9))
        exchange.load_pair_rules()
        pairs = list(PAIRS)

        def median_ms(call) -> float:
            call()  # warm the keep-alive connection
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                call()
                times.append((time.perf_counter() - t) * 1000)
            return statistics.median(times)

        tickers = median_ms(lambda: exchange.fetch_tickers(pairs))
        account = median_ms(exchange.fetch_account)
        exchange.close()
    return {"kraken_fetch_tickers_ms": tickers, "kraken_fetch_account_ms": account}
