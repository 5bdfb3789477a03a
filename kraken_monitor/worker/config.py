"""Monitor configuration declared once, typed, with the defaults a careful trader would choose."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from kraken_monitor.domain.alerts import AlertThresholds

MODES = ("demo", "paper", "live")


@dataclass(frozen=True)
class MonitorConfig:
    """Everything the poll worker needs; secrets are NOT here (they come from the keyring at use)."""

    mode: str = "demo"
    db_path: Path | None = None  # None = <data dir>/kraken-monitor.sqlite3
    api_url: str | None = None  # override Kraken's base URL (tests, proxies)
    price_interval_s: float = 1.0
    account_interval_s: float = 3.0  # TradeBalance + OpenPositions = 2 private-counter points
    stale_after_intervals: float = 3.0  # data older than this many intervals -> stale, risk unknown
    demo_speed: float = 1.0  # demo market seconds per wall second
    demo_seed: int = 7
    full_resolution_days: float = 7.0  # journal retention: full resolution window, older downsampled
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    live_trading_enabled: bool = False
    sound_enabled: bool = True
    collateral_currency: str = "USD"
    watch_pairs: tuple[str, ...] = ()  # pairs priced even when no position is held in them
    paper_save_every_cycles: int = 10  # paper account state is also saved after every action
    history_hours: float = 24.0  # chart history loaded from the journal at start
    backoff_cap_s: float = 60.0  # longest wait between retries of a failing exchange

    def price_stale_after_s(self) -> float:
        return self.price_interval_s * self.stale_after_intervals

    def account_stale_after_s(self) -> float:
        return self.account_interval_s * self.stale_after_intervals


def parse_decimal_setting(text: str, default: Decimal) -> Decimal:
    """Settings files hold strings; a bad value falls back to the default instead of crashing start-up."""
    from decimal import InvalidOperation

    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return default
    return value if value.is_finite() else default
