"""Words for Net P&L and what is in it (domain/costs.PnlBreakdown): the table tooltip and the close dialog."""

from __future__ import annotations

from kraken_monitor.domain.costs import MAKER_FEE_RATE, TAKER_FEE_RATE, PnlBreakdown
from kraken_monitor.text import numbers as fmt

NET_PNL_MEANING = (
    "P&L after the trading fee, the margin opening fee, the rollovers charged so far and the estimated "
    "closing fee: what closing at market now would leave"
)


def fee_rate_name(rate) -> str:
    """'0.40 % taker' -- which of Kraken's base-tier rates an estimate assumed."""
    kind = {TAKER_FEE_RATE: " taker", MAKER_FEE_RATE: " maker"}.get(rate, "")
    return f"{fmt.fmt_pct(rate * 100)}{kind}"


def breakdown_lines(b: PnlBreakdown) -> list[str]:
    """One line per term of the net, each signed as it counts."""
    cur = b.currency
    marks = "1 mark" if b.rollover_count == 1 else f"{b.rollover_count} marks"
    return [
        f"Unrealised P&L {fmt.fmt_money(b.unrealized, cur, signed=True)}",
        f"Trading fee {fmt.fmt_money(-b.trading_fee, cur, signed=True)}",
        f"Margin opening fee {fmt.fmt_money(-b.opening_fee, cur, signed=True)}",
        f"Rollovers ({marks}) {fmt.fmt_money(-b.rollovers, cur, signed=True)}",
        f"Closing fee, est. at {fee_rate_name(b.closing_fee_rate)} {fmt.fmt_money(-b.closing_fee, cur, signed=True)}",
    ]


def net_pnl_tooltip(b: PnlBreakdown) -> str:
    """The table's Net P&L cell: the total, then its terms."""
    return "\n".join([f"Net P&L {fmt.fmt_money(b.net, b.currency, signed=True)} =", *("  " + line for line in breakdown_lines(b))])


def fees_summary(b: PnlBreakdown) -> str:
    """The close dialog's one line: every fee in the net, the closing fee estimate named."""
    so_far = b.trading_fee + b.opening_fee + b.rollovers
    return (
        f"{fmt.fmt_money(so_far + b.closing_fee, b.currency)}: {fmt.fmt_money(so_far, b.currency)} charged so far"
        f" + closing fee {fmt.fmt_money(b.closing_fee, b.currency)} at {fee_rate_name(b.closing_fee_rate)}"
    )
