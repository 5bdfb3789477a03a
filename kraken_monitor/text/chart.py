"""Every string of the chart's controls and readouts."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.domain.models import PairRules
from kraken_monitor.text import numbers as fmt

# Range presets: (label, seconds shown).
RANGES: tuple[tuple[str, int], ...] = (("15m", 900), ("1h", 3600), ("4h", 14_400), ("24h", 86_400),
                                      ("7d", 604_800), ("30d", 2_592_000))
# The candle timeframe that suits each range (about 30 to 700 candles on screen).
RANGE_TIMEFRAME = {900: "1m", 3600: "1m", 14_400: "5m", 86_400: "30m", 604_800: "4h", 2_592_000: "1d"}
PAIR_TIP = "Pair shown: every pair held or watched"
TIMEFRAME_TIP = "Candle length"
CANDLES = "Candles"
CANDLES_TIP = "Candles (on) or the monitor's own price line (off)"
RANGE_TIP = "Show the last {label}"
NO_POSITION = "no position selected"
WATCHED = "{pair} \u00b7 watched (no position)"
STALE_TIP = "Shaded: the data was stale (risk unknown) then"


def readout(ts: float, price: float, rules: PairRules | None) -> str:
    """Crosshair text: '2026-02-01 14:03:07 · 61,234.5' (local time, the pair's price precision)."""
    when = fmt.fmt_datetime(datetime.fromtimestamp(ts, timezone.utc))
    return f"{when} \u00b7 {fmt.fmt_price(Decimal(repr(price)), rules)}"


def position_title(pair: str, side: str, volume: str, entry: str) -> str:
    return f"{pair} \u00b7 {side} {volume} @ {entry}"
DRAG_ORDER_TIP = "Drag to move this {name}; the monitor asks before it changes the order"
DRAGGING = "{name} \u2192 {price} (release to confirm)"
