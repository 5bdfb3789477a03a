"""Which markets FX conversion may use: the margin pairs' rules plus the venue's other listed pairs."""

from __future__ import annotations

from collections.abc import Mapping

from kraken_monitor.domain.kernels import DEFAULT_LIQUIDATION_LEVEL, DEFAULT_MARGIN_CALL_LEVEL
from kraken_monitor.domain.models import PairRules


def fx_markets(rules: Mapping[str, PairRules], listed: Mapping[str, tuple[str, str]]) -> dict[str, PairRules]:
    """Every market FX conversion may use: the margin pairs' rules, plus listed non-margin pairs.

    A listed-only pair (GBP/EUR) gets a PairRules carrying just its base and quote, with Kraken's usual
    levels marked unknown; it is only ever used to find conversion paths, never to judge margin.
    """
    markets = {symbol: PairRules(symbol, base, quote, DEFAULT_MARGIN_CALL_LEVEL, DEFAULT_LIQUIDATION_LEVEL,
                                 levels_unknown="not a margin pair")
               for symbol, (base, quote) in listed.items() if symbol not in rules and base and quote}
    markets.update(rules)
    return markets

