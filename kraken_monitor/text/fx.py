"""Words for the collateral FX sensitivity (issue 11 item 4): how far the account currency may move."""

from __future__ import annotations

from kraken_monitor.domain.models import FxSensitivity
from kraken_monitor.text import numbers as fmt


def fx_sensitivity_text(sensitivity: FxSensitivity | None) -> str:
    """Tooltip lines; empty when every position is already in the account currency."""
    if sensitivity is None or not sensitivity.currencies:
        return ""
    cur = sensitivity.account_currency
    against = ", ".join(sensitivity.currencies)
    lines = [f"{cur} against {against}:"]
    for label, move in (("margin call", sensitivity.margin_call_move_pct),
                        ("liquidation", sensitivity.liquidation_move_pct)):
        if move is None:
            lines.append(f"  no move of {cur} reaches the {label}")
        else:
            lines.append(f"  {label} if {cur} moves {fmt.fmt_pct(move, signed=True)}")
    levels = ", ".join(f"{fmt.fmt_pct(move, signed=True, places=0)}: {fmt.fmt_level(level)}"
                       for move, level in sensitivity.levels)
    lines.append(f"  margin level at {levels}")
    return "\n".join(lines)
