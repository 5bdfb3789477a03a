"""Moved to `kraken_monitor.config` (below the exchange that reads it); kept importable while callers move."""

from kraken_monitor.config import (
    ACCOUNT_POLL_COST,
    KRAKEN_TIERS,
    MODES,
    PRIVATE_COUNTER_DECAY,
    THEMES,
    MonitorConfig,
    parse_decimal_setting,
)

__all__ = [
    "ACCOUNT_POLL_COST",
    "KRAKEN_TIERS",
    "MODES",
    "PRIVATE_COUNTER_DECAY",
    "THEMES",
    "MonitorConfig",
    "parse_decimal_setting",
]
