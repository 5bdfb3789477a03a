"""Currency conversion from Kraken's own pair prices: direct, inverse, or a cross through USD.

Shared reference "Kraken margin" section 1b: OpenPositions money is in the pair's quote currency and
TradeBalance converts it into the account currency at Kraken's current rates (XBT/USD, EUR/USD ...,
or a cross through USD where no direct pair exists). A missing rate is "unknown", never 1.

Currencies are common codes (BTC, not XBT; USD, not ZUSD): `common_currency` maps Kraken's legacy
names. Pairs are unified symbols ("ETH/BTC"); a pair's base and quote come from its PairRules when
known, else from the symbol text itself, so the FX pairs need no margin rules of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from kraken_monitor.domain.decimals import ONE, engine_context
from kraken_monitor.domain.models import PairRules

USD = "USD"

# Kraken's legacy asset names (Assets endpoint: "XXBT", "ZUSD", "XDG" ...) -> the common code ccxt uses.
_LEGACY = {"XBT": "BTC", "XXBT": "BTC", "XDG": "DOGE", "XXDG": "DOGE"}
_PREFIXED = {
    "ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZCHF", "ZAUD",
    "XETH", "XLTC", "XXRP", "XXLM", "XXMR", "XZEC", "XETC", "XREP", "XMLN",
}


def common_currency(code: str) -> str:
    """Kraken asset code -> common code: XBT/XXBT -> BTC, ZUSD -> USD, XETH -> ETH, XDG -> DOGE."""
    code = code.strip().upper()
    if code in _LEGACY:
        return _LEGACY[code]
    if code in _PREFIXED:
        return code[1:]
    return code


def _legs(symbol: str, rules: Mapping[str, PairRules]) -> tuple[str, str] | None:
    rule = rules.get(symbol)
    if rule is not None and rule.base and rule.quote:
        return common_currency(rule.base), common_currency(rule.quote)
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote:
        return None
    return common_currency(base), common_currency(quote.partition(":")[0])


def _index(symbols: Iterable[str], rules: Mapping[str, PairRules]) -> dict[tuple[str, str], str]:
    """(base, quote) -> symbol over every known market; the first symbol seen for a leg pair wins."""
    index: dict[tuple[str, str], str] = {}
    for symbol in symbols:
        legs = _legs(symbol, rules)
        if legs is not None and legs not in index:
            index[legs] = symbol
    return index


def _direct(frm: str, to: str, index: Mapping[tuple[str, str], str]) -> tuple[str, bool] | None:
    """(symbol, inverted) of a pair quoting one currency in the other, or None."""
    symbol = index.get((frm, to))
    if symbol is not None:
        return symbol, False
    symbol = index.get((to, frm))
    if symbol is not None:
        return symbol, True
    return None


def fx_path(from_ccy: str, to_ccy: str, rules: Mapping[str, PairRules],
            prices: Mapping[str, Decimal] | None = None) -> tuple[tuple[str, bool], ...] | None:
    """The pairs (symbol, inverted) whose product converts from_ccy into to_ccy; () when equal.

    Direct pair first (from/to), then inverse (to/from), then a cross through USD (each leg direct
    or inverse). None when no known market connects them. Markets = `rules` plus any symbol in `prices`.
    """
    frm, to = common_currency(from_ccy), common_currency(to_ccy)
    if frm == to:
        return ()
    symbols = list(rules)
    if prices is not None:
        symbols.extend(s for s in prices if s not in rules)
    index = _index(symbols, rules)
    direct = _direct(frm, to, index)
    if direct is not None:
        return (direct,)
    if USD in (frm, to):
        return None
    first, second = _direct(frm, USD, index), _direct(USD, to, index)
    if first is None or second is None:
        return None
    return first, second


def fx_missing_pair(from_ccy: str, to_ccy: str, rules: Mapping[str, PairRules],
                    prices: Mapping[str, Decimal] | None = None) -> str:
    """The pair to name when no rate is known: the first path pair without a price, else FROM/TO."""
    path = fx_path(from_ccy, to_ccy, rules, prices)
    if path:
        for symbol, _ in path:
            price = None if prices is None else prices.get(symbol)
            if price is None or not price.is_finite() or price <= 0:
                return symbol
    return f"{common_currency(from_ccy)}/{common_currency(to_ccy)}"


@engine_context
def fx_rate(from_ccy: str, to_ccy: str, prices: Mapping[str, Decimal],
            rules: Mapping[str, PairRules]) -> Decimal | None:
    """Units of to_ccy one unit of from_ccy is worth at Kraken's last prices; None when unknown.

    1 only when the currencies are the same. A pair price missing, non-finite or not positive
    makes the rate None, never a guess.
    """
    path = fx_path(from_ccy, to_ccy, rules, prices)
    if path is None:
        return None
    rate = ONE
    for symbol, inverted in path:
        price = prices.get(symbol)
        if price is None or not price.is_finite() or price <= 0:
            return None
        rate = rate / price if inverted else rate * price
    return rate


def fx_pairs_needed(currencies: Iterable[str], account_currency: str,
                    rules: Mapping[str, PairRules]) -> tuple[str, ...]:
    """Unified symbols whose prices convert every currency into the account currency (sorted, unique).

    The poller adds these to its one Ticker call. A currency no known market connects adds nothing:
    its rate stays unknown and the figures say which pair is missing.
    """
    needed: set[str] = set()
    for currency in currencies:
        path = fx_path(currency, account_currency, rules)
        if path:
            needed.update(symbol for symbol, _ in path)
    return tuple(sorted(needed))
