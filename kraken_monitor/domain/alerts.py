"""Alert rules: risk levels from margin level and distance to liquidation, with hysteresis (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class AlertThresholds:
    """Every threshold configurable; defaults chosen to warn well before Kraken acts.

    Account (cross) levels are percentage points relative to the pair's AssetPairs levels, so they
    follow Kraken's `margin_call` / `margin_stop` instead of hard-coding 80/40.
    """

    watch_above_call_pp: Decimal = Decimal("70")  # 80% call -> watch at 150%
    warning_above_call_pp: Decimal = Decimal("20")  # -> warning at 100%
    critical_above_call_pp: Decimal = Decimal("0")  # -> critical at the margin call itself
    liquidation_above_stop_pp: Decimal = Decimal("5")  # 40% stop -> liquidation alert at 45%
    watch_distance_pct: Decimal = Decimal("25")  # position: price within 25% of its liquidation price
    warning_distance_pct: Decimal = Decimal("15")
    critical_distance_pct: Decimal = Decimal("7.5")
    liquidation_distance_pct: Decimal = Decimal("2.5")
    rearm_margin_pp: Decimal = Decimal("5")  # a level re-arms after recovering this far past it
    rearm_distance_pct: Decimal = Decimal("2")
