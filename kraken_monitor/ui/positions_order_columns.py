"""The positions table's protective-order columns (issue 16 item 2): stop-loss, take-profit and protection warnings.

Kept apart from positions_columns.py, which appends these to its Column enum and delegates to them.
"""

from __future__ import annotations

from kraken_monitor.domain import protection
from kraken_monitor.domain.models import PairRules, PositionFigures
from kraken_monitor.domain.orders import OpenOrder
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text import orders as text

KEYS = ("stop_loss", "take_profit", "protection")  # in the order the Column enum appends them
HEADERS = (text.STOP_LOSS_HEADER, text.TAKE_PROFIT_HEADER, text.PROTECTION_HEADER)
HEADER_TIPS = (text.STOP_LOSS_HEADER_TIP, text.TAKE_PROFIT_HEADER_TIP, text.PROTECTION_HEADER_TIP)
SORT_VALUE = (
    lambda pf: pf.stop_loss_distance_pct,
    lambda pf: pf.take_profit_distance_pct,
    lambda pf: len(pf.warnings),
)
FIELDS = (
    "stop_loss_price stop_loss_distance_pct orders",
    "take_profit_price take_profit_distance_pct orders",
    "warnings",
)
NUMERIC = frozenset({"stop_loss", "take_profit"})


def _nearest(pf: PositionFigures, stops: bool) -> OpenOrder | None:
    found = protection.nearest(pf.orders, pf, stops=stops)
    return found[0] if found is not None else None


def _mark(order: OpenOrder | None) -> str:
    """', inferred' where Kraken omitted reduce_only and the monitor concluded it; ', not reduce-only' where it is not."""
    if order is None:
        return ""
    if order.reduce_only_inferred:
        return f", {text.INFERRED}"
    return "" if order.reduce_only else f", {text.NOT_REDUCE_ONLY}"


def cell_text(pf: PositionFigures, key: str, rules: PairRules | None) -> str:
    if pf.orders is None:  # a row whose orders are not read (a Kraken Futures row): unknown, not unprotected
        return fmt.DASH
    if key == "stop_loss":
        return text.trigger_cell(pf.stop_loss_price, pf.stop_loss_distance_pct, rules) + (
            _mark(_nearest(pf, True)) if pf.stop_loss_price is not None else "")
    if key == "take_profit":
        return text.trigger_cell(pf.take_profit_price, pf.take_profit_distance_pct, rules) + (
            _mark(_nearest(pf, False)) if pf.take_profit_price is not None else "")
    return text.warnings_cell(pf.warnings) or ("ok" if pf.orders else fmt.DASH)


def cell_tooltip(pf: PositionFigures, key: str, rules: PairRules | None) -> str | None:
    if pf.orders is None:  # orders not read for this row's venue: no "unprotected" warning either
        return None
    if key == "protection":
        return text.warnings_tooltip(pf.warnings)
    stops = key == "stop_loss"
    order = _nearest(pf, stops)
    if order is None:
        return text.WARNING_TEXT[text.UNPROTECTED] if stops else None
    pnl = pf.stop_loss_pnl if stops else pf.take_profit_pnl
    lines = [f"{text.order_summary(order, rules)} (order {order.id})",
             f"Net P&L if it fills: {fmt.fmt_money(pnl, pf.account_currency, signed=True)}"]
    if order.reduce_only_inferred:
        lines.append(text.INFERRED_TIP)
    if stops and text.STOP_BEYOND_LIQUIDATION in pf.warnings:
        lines.append(text.WARNING_TEXT[text.STOP_BEYOND_LIQUIDATION])
    return "\n".join(lines)
