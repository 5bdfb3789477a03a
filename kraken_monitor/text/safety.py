"""Sentences of the safety-net alerts: Kraken's figures disagree, margin rules changed, levels unknown."""

from __future__ import annotations

from decimal import Decimal

from kraken_monitor.domain.models import Alert


def _pct(value: object) -> str:
    if not isinstance(value, Decimal):
        return "?"
    text = f"{value:,.2f}"
    return text


def _level(value: object) -> str:
    """Thresholds without noise: 80 -> '80 %', 82.5 -> '82.5 %'."""
    return _pct(value).rstrip("0").rstrip(".") + " %" if isinstance(value, Decimal) else "?"


def safety_message(alert: Alert) -> str | None:
    """The sentence for a safety-net reason code, or None when the alert is not one of them."""
    if alert.reason == "figures_disagree":
        ours, kraken = alert.fact("ours"), alert.fact("kraken")
        judged = min(ours, kraken) if isinstance(ours, Decimal) and isinstance(kraken, Decimal) else None
        return (f"Figures disagree: ours {_pct(ours)} %, Kraken {_pct(kraken)} %. "
                f"Likely cause: {alert.fact('cause')}. Judged on {_pct(judged)} %.")
    if alert.reason == "rules_changed":
        return (f"{alert.pair} margin rules changed: call {_level(alert.fact('old_call'))} -> "
                f"{_level(alert.fact('new_call'))}, liquidation {_level(alert.fact('old_stop'))} -> "
                f"{_level(alert.fact('new_stop'))}. Applied now.")
    if alert.reason == "levels_unknown":
        return f"{alert.pair}: {alert.fact('note')}."
    return None
