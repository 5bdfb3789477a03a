"""Every string the chart shows for a Kraken Futures position (issue 16 item 4 on futures)."""

from __future__ import annotations

from kraken_monitor.text import numbers as fmt

LIQUIDATION_ESTIMATE = "liquidation (est.)"  # our estimate: the futures feed's liquidation_threshold is not read
LIQUIDATION_KRAKEN = "liquidation (Kraken)"  # Kraken's own liquidation threshold
STALE_SUFFIX = " \u00b7 STALE, last read"  # a line whose book is not fresh any more: never shown as current
MARGIN_AXIS = "futures margin %"  # liquidation at 100 % (the red band)
SPOT_MARGIN_AXIS = "margin level %"
STALE_TIP = "Shaded: the futures data was stale (risk unknown) then"
NOT_MOVABLE_STALE = "Cannot move the order: the futures figures are stale; wait for a fresh read."
NOT_MOVABLE_REPLAY = "Cannot move the order: a replayed moment is shown; press Esc to go back to live."
NOT_OPEN = "Order {order_id} is not open any more."
NO_FRESH = "No fresh futures figures for this position yet; try after the next read."


def title(pair: str, account: str, side: str, volume: str, entry: str, stale_reason: str | None) -> str:
    """'BTC/USD:USD · futures demo · long 0.5000 @ 60,000.0 (mark)', with the stale reason when stale."""
    text = f"{pair} \u00b7 {account} \u00b7 {side} {volume} @ {entry} (mark price)"
    if stale_reason is not None:
        text += f" \u00b7 STALE: {stale_reason or 'no fresh read'}"
    return text


def liquidation_label(estimate: bool, price: str, stale: bool) -> str:
    name = LIQUIDATION_ESTIMATE if estimate else LIQUIDATION_KRAKEN
    return f"{name} {price}" + (STALE_SUFFIX if stale else "")


def volume(value) -> str:
    return fmt.fmt_plain(value, 4)
