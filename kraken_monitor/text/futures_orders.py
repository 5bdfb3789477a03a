"""Words for Kraken Futures protective orders: the Protect dialog's preview lines and its confirmation heading."""

from __future__ import annotations

from decimal import Decimal

from kraken_monitor.domain.models import PairRules
from kraken_monitor.text import numbers as fmt

FUTURES_TRIGGER_TIP = ("Kraken Futures triggerSignal: mark (the default here: Kraken liquidates on the mark), "
                       "last trade, or index")
NO_TRAILING_LIMIT = "Kraken Futures trailing stops fill at market: there is no trailing-stop-limit."


def relation_text(relation: str, liquidation: Decimal | None, rules: PairRules | None) -> str:
    """Where a futures stop sits against the liquidation price (no margin call on Kraken Futures)."""
    liq = fmt.fmt_price(liquidation, rules)
    return {
        "before_margin_call": f"Fires before liquidation ({liq}, on the mark).",
        "past_margin_call": f"Fires before liquidation ({liq}, on the mark).",
        "beyond_liquidation": (f"Fires only past liquidation ({liq}, on the mark): Kraken liquidates first, so this "
                               "stop never protects the position."),
        "profit_side": f"On the profit side (liquidation at {liq}, on the mark).",
        "unknown": "No liquidation price known for this position.",
    }.get(str(getattr(relation, "value", relation)), "")


def pnl_text(net: Decimal | None, at: Decimal | None, rate: Decimal, rules: PairRules | None) -> str:
    """'-1,515.75 USD at 55,000.0 (funding share and the 0.05 % taker fee included)'."""
    if net is None:
        return fmt.DASH
    where = f" at {fmt.fmt_price(at, rules)}" if at is not None else ""
    return (f"{fmt.fmt_money(net, 'USD', signed=True)}{where} (its share of the unrealized funding and "
            f"the {fmt.fmt_pct(rate * 100)} Kraken Futures fee included)")


def position_label(account: str, contract_id: str, side: str, volume: Decimal, pair: str) -> str:
    """'futures demo contract PF_XBTUSD (long 0.1 BTC/USD:USD)': names the account and the contract."""
    return f"{account} contract {contract_id} ({side} {fmt.fmt_plain(volume, 4)} {pair})"
