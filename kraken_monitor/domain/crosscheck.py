"""Kraken's own TradeBalance as a safety net: the lower margin level judges risk; contradictions fail closed.

Shared reference section 1 / 1b: when the exchange reports a figure (`ml`, `e`, `m`) it is the truth and
our recomputation is a cross-check; where they disagree the lower level is the safe one to judge by.
Issue 11, item 5: a gap of more than 2 percentage points (or 2 % relative, whichever is larger, so a
level of 5,000 % does not alarm on rounding) is a "figures disagree" alert naming both and the likely
cause; m > 0 with no positions listed, or e far from tb + n, make the risk unknown, never "flat".
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from kraken_monitor.domain.models import Balance, Position

GAP_PP = Decimal(2)  # percentage points
GAP_RELATIVE = Decimal("0.02")  # of the larger level
# Kraken's own e = tb + n (support 203325693); each is rounded to the asset's decimals, so allow a
# little more than rounding, relative to the account's size, before calling it a contradiction.
EQUITY_TOLERANCE = Decimal("0.001")
MARGIN_TOLERANCE = Decimal("0.02")  # Kraken's m above ours by more than this: it holds a position we lack

FIGURES_DISAGREE = "figures_disagree"  # reason code (alert key)
CAUSE_MISSING_POSITION = "missing position"
CAUSE_MISSING_FX = "missing FX rate"
CAUSE_STALE_PRICE = "stale price"


def contradiction(balance: Balance, positions: Sequence[Position]) -> str:
    """Why Kraken's account read contradicts itself ("" when it does not): then nothing can be judged."""
    used = balance.exchange_used_margin
    cur = balance.currency
    if used is not None and used > 0 and not positions:
        return f"Kraken reports used margin {_amount(used)} {cur} but lists no open positions"
    equity, pnl, tb = balance.exchange_equity, balance.exchange_unrealized_pnl, balance.trade_balance
    if equity is not None and pnl is not None:
        expected = tb + pnl
        scale = max(abs(tb), abs(equity), abs(pnl), Decimal(1))
        if abs(equity - expected) > EQUITY_TOLERANCE * scale:
            return (f"Kraken's equity {_amount(equity)} {cur} is far from trade balance + P&L "
                    f"{_amount(expected)} {cur}")
    return ""


def judged_level(ours: Decimal | None, kraken: Decimal | None) -> Decimal | None:
    """The margin level risk is judged on: the lower of ours and Kraken's (either alone if one is missing)."""
    known = [level for level in (ours, kraken) if level is not None]
    return min(known) if known else None


def disagree(ours: Decimal | None, kraken: Decimal | None) -> bool:
    """True when both are known and differ by more than 2 pp and more than 2 % of the larger one."""
    if ours is None or kraken is None:
        return False
    gap = abs(ours - kraken)
    return gap > GAP_PP and gap > GAP_RELATIVE * max(abs(ours), abs(kraken))


def likely_cause(balance: Balance, our_used_margin: Decimal | None, foreign_currencies: bool,
                 prices_older_than_account: bool) -> str:
    """Best guess, in this order: Kraken holds margin we do not see; an FX rate; a price moved since."""
    used = balance.exchange_used_margin
    if used is not None and our_used_margin is not None and used > our_used_margin * (1 + MARGIN_TOLERANCE):
        return CAUSE_MISSING_POSITION
    if prices_older_than_account:
        return CAUSE_STALE_PRICE
    if foreign_currencies:
        return CAUSE_MISSING_FX
    return CAUSE_STALE_PRICE


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:,.8f}"
