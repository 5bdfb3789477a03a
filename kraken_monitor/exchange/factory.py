"""Pick the exchange for a venue and account kind: demo (simulated market), paper (live public prices) or live Kraken."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.fx import common_currency
from kraken_monitor.domain.venue import AccountKind, Venue
from kraken_monitor.exchange.base import Exchange
from kraken_monitor.exchange.currency_view import InCurrency
from kraken_monitor.exchange.errors import AuthFailed, BadResponse

log = logging.getLogger(__name__)

PAPER_CURRENCY = "USD"  # the demo and paper accounts keep their collateral in USD

NO_CREDENTIALS = (
    "No Kraken API key found. Add a key in Settings, or set the KRAKEN_API_KEY and KRAKEN_API_SECRET "
    "environment variables (a query-only key is enough to monitor)."
)


def create_exchange(
    config: MonitorConfig, paper_state: Mapping | None = None, clock: Callable[[], datetime] | None = None
) -> Exchange:
    """The Exchange for `config.venue` (spot margin) and `config.mode` (the account kind).

    demo: PaperExchange over a seeded DemoMarket; paper: PaperExchange over live public Kraken prices.
    Both restore `paper_state` when it was saved in the same mode; otherwise they start from the demo
    portfolio (25,000 USD demo; 10,000 USD paper, the same book rescaled and opened at live prices --
    friendlier than an empty account, since the app itself does not open positions).
    live: KrakenExchange with the stored credentials; none -> AuthFailed with what to do.
    `clock` (UTC datetimes) drives the paper account and, in demo, the market too (tests).
    """
    if config.venue is not Venue.SPOT_MARGIN:
        raise ValueError(f"No exchange for venue {config.venue.value!r}")
    mode = config.mode
    if mode is AccountKind.LIVE:
        return _live(config)
    from kraken_monitor.exchange.paper import DemoPriceSource, KrakenPublicPriceSource, PaperExchange, utc_now

    source: Any
    if mode is AccountKind.DEMO:
        from kraken_monitor.exchange.demo_market import DEFAULT_PAIRS, DemoMarket

        market_kwargs: dict[str, Any] = {"seed": config.demo_seed, "speed": config.demo_speed}
        if clock is not None:
            market_kwargs["clock"] = lambda: clock().timestamp()
        pairs = tuple(dict.fromkeys((*DEFAULT_PAIRS, *_demo_watch_pairs(config))))
        market = DemoMarket(pairs, **market_kwargs)
        _script_scenario(market, config.demo_scenario)
        source = DemoPriceSource(market, now=clock or utc_now)
    else:
        source = KrakenPublicPriceSource(config.api_url)
    exchange = PaperExchange(source, account=None, mode=mode, clock=clock)
    if paper_state and paper_state.get("mode", mode.value) == mode.value:
        try:
            exchange.import_state(paper_state)
        except BadResponse as exc:
            # A damaged save must not keep the app from starting; the journal keeps the old row.
            log.warning("ignoring unreadable paper state, starting a fresh %s account: %s", mode, exc)
    currency = common_currency(config.collateral_currency or PAPER_CURRENCY)
    if currency != PAPER_CURRENCY:  # `--currency`: the USD paper account seen in CUR, as TradeBalance would
        return InCurrency(exchange, currency)
    return exchange


DEMO_SCENARIOS = ("", "crash")
CRASH_PAIR, CRASH_FACTOR, CRASH_SECONDS = "BTC/USD", Decimal("0.5"), 180


def _script_scenario(market: Any, scenario: str) -> None:
    """`crash`: BTC/USD halves over 3 simulated minutes, taking the demo book from its margin call
    through Kraken's liquidation level, so every alert level and the paper liquidation can be seen."""
    if scenario not in DEMO_SCENARIOS:
        raise ValueError(f"Unknown demo scenario {scenario!r}: expected one of {', '.join(filter(None, DEMO_SCENARIOS))}")
    if scenario == "crash":
        start = market.last_prices()[CRASH_PAIR]
        market.schedule_move(CRASH_PAIR, start * CRASH_FACTOR, CRASH_SECONDS)


def _demo_watch_pairs(config: MonitorConfig) -> tuple[str, ...]:
    """Watch pairs the demo can simulate (others are left out instead of failing start-up)."""
    from kraken_monitor.exchange.demo_market import DEMO_SUPPORTED_PAIRS

    return tuple(p for p in config.watch_pairs if p in DEMO_SUPPORTED_PAIRS)


def _live(config: MonitorConfig) -> Exchange:
    from kraken_monitor.exchange.credentials import load_credentials
    from kraken_monitor.exchange.kraken import KrakenExchange
    from kraken_monitor.exchange.process_guard import disable_core_dumps
    from kraken_monitor.exchange.urls import InvalidApiUrl, validate_api_url

    try:
        api_url = validate_api_url(config.api_url)  # before any connection, whoever built the config
    except InvalidApiUrl as exc:
        raise BadResponse(str(exc)) from None
    disable_core_dumps()  # before the key is in memory: a crash must not write it into a core file
    credentials = load_credentials()
    if credentials is None:
        raise AuthFailed(NO_CREDENTIALS)
    # Total deadline per request: within the price stale window where that is reasonable, so a hanging or
    # dripping answer ends (and the worker reports stale) soon after the window; 5-10 s covers real Kraken.
    deadline_s = min(10.0, max(5.0, config.price_stale_after_s()))
    return KrakenExchange(api_url=api_url, credentials=credentials, timeout_s=deadline_s,
                          collateral_currency=getattr(config, "collateral_currency", "USD") or "USD")
