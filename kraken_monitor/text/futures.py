"""Sentences about Kraken Futures: leverage-change refusals and previews, in the words Kraken uses."""

from __future__ import annotations

from decimal import Decimal

from kraken_monitor.domain.futures_liquidation import LeveragePreview, Refusal
from kraken_monitor.domain.models import Alert
from kraken_monitor.text.numbers import fmt_level, fmt_leverage, fmt_money, fmt_pct

_REFUSALS = {
    Refusal.NOT_POSITIVE: "Leverage must be a positive number.",
    Refusal.ABOVE_MAXIMUM: "Kraken allows at most {maximum} for this position's size.",
    Refusal.WOULD_CAUSE_LIQUIDATION: ("Kraken refuses this leverage: it would cause liquidation (error 41). "
                                      "The position's margin plus its P&L would not cover its maintenance margin."),
    Refusal.INSUFFICIENT_MARGIN: ("Insufficient margin for the requested leverage: it needs {change} more margin, "
                                  "the account has {available} available."),
}


def refusal_message(preview: LeveragePreview, currency: str = "USD") -> str | None:
    """Why the change cannot be made, or None when Kraken should accept it."""
    if preview.refusal is None:
        return None
    return _REFUSALS[preview.refusal].format(maximum=fmt_leverage(preview.maximum_leverage),
                                             change=fmt_money(preview.margin_change, currency),
                                             available=fmt_money(preview.available_margin, currency))


def preview_message(preview: LeveragePreview, currency: str = "USD") -> str:
    """One line: what the change moves, where liquidation goes, what stays available."""
    refusal = refusal_message(preview, currency)
    if refusal is not None:
        return refusal
    verb = "adds" if preview.margin_change >= 0 else "releases"
    return (f"{fmt_leverage(preview.leverage)} {verb} {fmt_money(abs(preview.margin_change), currency)} margin "
            f"(allocated {fmt_money(preview.allocated_margin, currency)}); estimated liquidation at mark "
            f"{fmt_money(preview.liquidation_price, currency)}; available margin "
            f"{fmt_money(preview.available_margin, currency)}.")


def account_alert_message(margin_level: Decimal | None) -> str:
    return (f"Futures margin level {fmt_level(margin_level)}: Kraken liquidates at 100 % "
            "(margin equity down to the maintenance margin).")


def position_alert_message(pair: str, distance_pct: Decimal | None, liquidation: Decimal | None,
                           source: str) -> str:
    label = "" if source == "exchange" else " (estimate)"
    return (f"{pair} mark is {fmt_pct(distance_pct)} from liquidation at {fmt_money(liquidation, 'USD')}{label}.")


def futures_alert_message(alert: Alert) -> str | None:
    """The sentence of a futures alert (reasons from domain/futures_alerts.py), None for any other alert."""
    account = alert.fact("account") or "futures"
    if alert.reason == "futures_margin_level":
        return f"{account}: {account_alert_message(alert.margin_level)}"
    if alert.reason == "futures_distance":
        price = alert.fact("liquidation_price")
        sentence = position_alert_message(
            f"{alert.pair} {alert.fact('side')}", alert.distance_to_liquidation_pct,
            price if isinstance(price, Decimal) else None, str(alert.fact("source") or "estimate"))
        if alert.fact("unprotected"):  # as spot words it: "... (estimate); no stop-loss", never ".; no stop-loss"
            sentence = sentence.removesuffix(".") + "; no stop-loss"
        return f"{account}: {sentence}"
    return None


def futures_stale_message(reason: str) -> str:
    return f"futures data stale: risk unknown ({reason})"


CHANGE_LEVERAGE_INTRO = (
    "Kraken Futures has no \"add margin\" for one position: an isolated position's margin is set by its "
    "leverage. Lower leverage moves margin from the account's available margin into the position (its "
    "liquidation price moves away); higher leverage releases margin (it moves closer). Kraken refuses a change "
    "that would cause liquidation or needs more margin than is available. A cross position becomes isolated at "
    "the leverage you set, with that margin taken from the available margin.")


def change_leverage_title(pair: str, isolated: bool) -> str:
    return f"Change leverage: {pair} (isolated)" if isolated else f"Make isolated: {pair} (cross now)"
