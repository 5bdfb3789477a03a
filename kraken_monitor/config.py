"""Monitor configuration declared once, typed, with the defaults a careful trader would choose.

It sits just above the domain so every layer that reads it (exchange, storage, worker, ui) imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from kraken_monitor.domain.alerts import AlertThresholds
from kraken_monitor.domain.venue import MODES, AccountKind, Venue
from kraken_monitor.paths import default_db_path

THEMES = ("system", "light", "dark")
PRICE_FEEDS = ("stream", "poll")
# What a person running the app gets (issue 17.4): every launch (cli.build_config, the GUI's too) streams prices
# in every mode (live and paper: Kraken's WebSocket v2; demo: the embedded market through the same seam).
# A constructed MonitorConfig (tests, tools) polls unless it asks, so no test opens wss://ws.kraken.com.
APP_PRICE_FEED = "stream"

__all__ = ["ACCOUNT_POLL_COST", "APP_PRICE_FEED", "KRAKEN_TIERS", "MODES", "PRICE_FEEDS", "PRIVATE_COUNTER_DECAY", "THEMES", "MonitorConfig", "parse_decimal_setting"]

# Kraken's private API counter decay per second by verification tier (shared reference section 3).
# One account poll (TradeBalance + OpenPositions + OpenOrders) costs 3 points, so a tier sustains one poll every
# 3 / decay seconds; polling faster only empties the counter and ends in `EAPI:Rate limit exceeded`.
# "local" is a Kraken-protocol server of your own (tests, simulations): no floor.
PRIVATE_COUNTER_DECAY = {"starter": 0.33, "intermediate": 0.5, "pro": 1.0}
KRAKEN_TIERS = (*PRIVATE_COUNTER_DECAY, "local")
ACCOUNT_POLL_COST = 3  # TradeBalance + OpenPositions + OpenOrders (issue 16: orders are read with the account)


@dataclass(frozen=True)
class MonitorConfig:
    """Everything the poll worker needs; secrets are NOT here (they come from the keyring at use)."""

    mode: AccountKind = AccountKind.DEMO  # "mode" is the CLI/JSON word; strings are parsed on construction
    db_path: Path | None = None  # None = <data dir>/kraken-monitor-<mode>.sqlite3 (see journal_path)
    api_url: str | None = None  # override Kraken's base URL (tests, proxies)
    price_interval_s: float = 1.0
    # "stream": prices pushed by the WebSocket (demo: the embedded market) with REST polling as the fallback
    # while the socket is down; "poll": REST Ticker every price_interval_s. Every launch (cli.build_config)
    # uses APP_PRICE_FEED; constructed configs (tests, tools) poll unless they ask.
    prices: str = "poll"
    ws_url: str | None = None  # override Kraken's WebSocket v2 URL (tests, proxies); see exchange/urls.py
    futures_ws_url: str | None = None  # override Kraken Futures' WebSocket v1 URL (tests, proxies), as ws_url
    # Kraken Futures' REST base URL when both venues are watched (the window, `watch --venue all`): its own
    # host, so the spot api_url never applies to it (tests, proxies).
    futures_api_url: str | None = None
    account_interval_s: float = 3.0  # TradeBalance + OpenPositions + OpenOrders = 3 private-counter points
    kraken_tier: str = "starter"  # live: account polls are never scheduled faster than this tier sustains
    stale_after_intervals: float = 3.0  # data older than this many intervals -> stale, risk unknown
    demo_speed: float = 1.0  # demo market seconds per wall second
    demo_seed: int = 7
    demo_scenario: str = ""  # "crash": BTC/USD falls through the margin call to liquidation (see factory)
    full_resolution_days: float = 7.0  # journal retention: full resolution window, older downsampled
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    live_trading_enabled: bool = False
    sound_enabled: bool = True
    alarm_volume: int = 80  # percent
    alarm_repeat_liquidation: bool = True  # a LIQUIDATION alarm loops until the alert is acknowledged
    escalate_after_s: float = 60.0  # a critical/liquidation popup unacknowledged this long goes to the channels
    collateral_currency: str = "USD"
    watch_pairs: tuple[str, ...] = ()  # pairs priced even when no position is held in them
    paper_save_every_cycles: int = 10  # paper account state is also saved after every action
    history_hours: float = 24.0  # chart history loaded from the journal at start
    backoff_cap_s: float = 60.0  # longest wait between retries of a failing exchange
    theme: str = "system"  # "system", "light" or "dark"
    # Fields set by command-line flags for this run only: Settings never saves them (a one-off
    # `--api-url` or `--mode live` must not become every later launch's default).
    session_only: frozenset[str] = frozenset()
    venue: Venue = Venue.SPOT_MARGIN  # the only venue today; futures will be the second

    def __post_init__(self) -> None:
        # Callers at the edge (CLI, settings, tests) may pass "paper"; inside, the kind is typed.
        object.__setattr__(self, "mode", AccountKind.parse(self.mode))
        object.__setattr__(self, "venue", Venue(self.venue))
        if self.prices not in PRICE_FEEDS:
            raise ValueError(f"prices must be one of {', '.join(PRICE_FEEDS)}, not {self.prices!r}")

    def price_stale_after_s(self) -> float:
        return self.price_interval_s * self.stale_after_intervals

    def effective_account_interval_s(self) -> float:
        """The account poll interval actually used: in live mode never faster than the tier's decay allows."""
        if self.mode.simulated or self.kraken_tier == "local":
            return self.account_interval_s
        decay = PRIVATE_COUNTER_DECAY.get(self.kraken_tier, PRIVATE_COUNTER_DECAY["starter"])
        sustainable = ACCOUNT_POLL_COST / decay
        return max(self.account_interval_s, round(sustainable + 0.05, 2))

    def account_stale_after_s(self) -> float:
        return self.effective_account_interval_s() * self.stale_after_intervals

    def journal_path(self) -> Path:
        """`db_path`, else one journal per mode, so demo prices never mix into live chart history."""
        if self.db_path is not None:
            return Path(self.db_path)
        return default_db_path(self.mode.value)


def parse_decimal_setting(text: str, default: Decimal) -> Decimal:
    """Settings files hold strings; a bad value falls back to the default instead of crashing start-up."""
    from decimal import InvalidOperation

    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return default
    return value if value.is_finite() else default
