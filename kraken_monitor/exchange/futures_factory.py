"""Which futures venue a run talks to: live Kraken Futures, paper (live marks, simulated money) or demo (offline)."""

from __future__ import annotations

from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.credentials import FUTURES, load_credentials
from kraken_monitor.exchange.demo_market import DemoMarket
from kraken_monitor.exchange.errors import CredentialsMissing
from kraken_monitor.exchange.futures_base import FuturesExchange
from kraken_monitor.exchange.kraken_futures import KrakenFuturesExchange
from kraken_monitor.exchange.paper_futures import PaperFuturesExchange


def create_futures_exchange(mode: AccountKind, api_url: str | None = None, *, demo_seed: int = 7,
                            demo_speed: float = 1.0) -> FuturesExchange:
    """Live reads the futures key (keyring, then KRAKEN_FUTURES_API_KEY/SECRET); paper and demo need none.

    The demo's marks follow their own seeded demo market at the spot demo's speed (`watch --speed`)."""
    if mode is AccountKind.LIVE:
        credentials = load_credentials(venue=FUTURES)
        if credentials is None:  # say so before any request: without a key there is nothing to read
            raise CredentialsMissing("No Kraken Futures API key is configured (keyring or "
                                     "KRAKEN_FUTURES_API_KEY/KRAKEN_FUTURES_API_SECRET).")
        return KrakenFuturesExchange(api_url, credentials)
    if mode is AccountKind.PAPER:
        public = KrakenFuturesExchange(api_url)  # no credentials: it can only read public marks and contracts
        return PaperFuturesExchange(AccountKind.PAPER, public.fetch_marks, public.load_contracts)
    return PaperFuturesExchange.demo(DemoMarket(("BTC/USD", "ETH/USD"), seed=demo_seed, speed=demo_speed))
