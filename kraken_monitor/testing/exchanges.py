"""Exchange factories for `PollWorker(exchange_factory=...)` in tests and benchmarks: the real adapters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kraken_monitor.config import MonitorConfig


def unpaced_kraken(timeout_s: float = 10, credentials: Any = None) -> Callable[[MonitorConfig, Any], Any]:
    """The real live adapter (ccxt over HTTP to the config's API URL, e.g. a local KrakenTestServer)
    with its client-side pacing opened up for sub-second test intervals. Credentials: the given
    ones, else `load_credentials()` at creation (the environment / keyring of the test)."""

    def factory(config: MonitorConfig, paper_state: Any = None) -> Any:
        from kraken_monitor.exchange.credentials import load_credentials
        from kraken_monitor.exchange.kraken import KrakenExchange
        from kraken_monitor.exchange.kraken_parse import CallCounter

        return KrakenExchange(api_url=config.api_url, credentials=credentials or load_credentials(),
                              timeout_s=timeout_s, public_interval_s=0.0, private_counter=CallCounter(limit=1e9))

    return factory
