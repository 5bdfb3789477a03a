"""Kraken margin math: P&L, used margin, account margin level, margin-call and liquidation prices.

Sources: shared reference "Kraken margin" section 1 (spot cross margin; Kraken support 360030886332,
203325693, 203053156, 203325763) and section 2 (isolated positions; Kraken Futures support 360022835671).
Levels are percent. Nothing is quantized here: formatting belongs to the UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal

from kraken_monitor.domain.decimals import (
    HUNDRED,
    ONE,
    ZERO,
    check_position,
    engine_context,
    require_finite,
    require_positive,
)
from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.exposure import (
    currency_rates,
    exponents,
    missing_reason,
    pair_currency,
    sensitivity,
    solve,
)

# The kernels and cross-account helpers live in kernels.py, the per-cycle `compute` in figures.py (its
# caches in figure_books.py), for this module's size limit; re-exported here, where callers have always found them.
from kraken_monitor.domain.figures import compute
from kraken_monitor.domain.fx import common_currency
from kraken_monitor.domain.kernels import (
    _CROSS,
    _LONG,
    DEFAULT_LIQUIDATION_LEVEL,
    DEFAULT_MAINTENANCE_RATE,
    DEFAULT_MARGIN_CALL_LEVEL,
    _isolated_level,
    _isolated_liquidation,
    _isolated_trigger,
    _leverage,
    _price,
    _solve,
    account_levels,
    account_record,
    allocated_margin,
    liquidation_order,
    unknown_account,
)
from kraken_monitor.domain.models import (
    AccountFigures,
    Balance,
    PairRules,
    Position,
    Side,
)

__all__ = [
    "DEFAULT_LIQUIDATION_LEVEL",
    "DEFAULT_MAINTENANCE_RATE",
    "DEFAULT_MARGIN_CALL_LEVEL",
    "account_figures",
    "account_levels",
    "allocated_margin",
    "compute",
    "cross_trigger_price",
    "distance_pct",
    "entry_price",
    "isolated_liquidation_price",
    "isolated_margin_level",
    "isolated_trigger_price",
    "leverage",
    "liquidation_order",
    "pnl_pct",
    "unrealized_pnl",
    "used_margin",
    "valuation",
]

# -- one position ------------------------------------------------------------------------------


@engine_context
def entry_price(p: Position) -> Decimal:
    """cost / remaining volume (reference section 3: cost describes the remaining volume)."""
    check_position(p)
    return p.cost / p.remaining_volume


@engine_context
def leverage(p: Position) -> Decimal:
    """cost / margin (reference section 3; support 203325693: used margin = cost / leverage)."""
    check_position(p)
    return _leverage(p.cost, p.margin)


@engine_context
def valuation(p: Position, price: Decimal) -> Decimal:
    """price * remaining volume (support 203325693 "current valuation")."""
    check_position(p)
    return _price(price, p.pair) * p.remaining_volume


@engine_context
def unrealized_pnl(p: Position, price: Decimal) -> Decimal:
    """valuation - cost for a long, cost - valuation for a short, fees excluded (support 203325693)."""
    check_position(p)
    value = _price(price, p.pair) * p.remaining_volume
    return value - p.cost if p.side is _LONG else p.cost - value


@engine_context
def pnl_pct(p: Position, price: Decimal) -> Decimal:
    """Unrealised P&L in % of the margin used at opening (support 203325693: margin = cost / leverage)."""
    return unrealized_pnl(p, price) / p.margin * HUNDRED


@engine_context
def used_margin(p: Position, price: Decimal) -> Decimal:
    """Long: margin (fixed in quote). Short: margin * price / entry, held in the borrowed base (support 203053156)."""
    check_position(p)
    if p.side is _LONG:
        return p.margin
    return p.margin * (_price(price, p.pair) * p.remaining_volume) / p.cost  # same order as compute


@engine_context
def isolated_margin_level(p: Position, price: Decimal) -> Decimal | None:
    """(allocated + upnl) / used margin * 100: an isolated position is its own account (section 2)."""
    check_position(p)
    return _isolated_level(p, _price(price, p.pair))


@engine_context
def isolated_trigger_price(p: Position, level: Decimal) -> Decimal | None:
    """Price where the isolated position's own level equals `level` (section 1 solve, tb = allocated).

    long: P = E + (x*M - A) / V; short: P = (A + V*E) / (V * (1 + x/L)). None when unreachable.
    """
    check_position(p)
    return _isolated_trigger(p, require_finite(level, "Margin level"))


@engine_context
def isolated_liquidation_price(p: Position, maintenance_rate: Decimal) -> Decimal | None:
    """Price where allocated + upnl = rate * V * P (Kraken Futures maintenance margin, section 2).

    long: P = (V*E - A) / (V*(1 - rate)); short: P = (A + V*E) / (V*(1 + rate)).
    None when no positive price liquidates it (a long whose allocation covers its whole cost).
    """
    check_position(p)
    rate = require_finite(maintenance_rate, "Maintenance margin rate")
    if rate < 0:
        raise InvalidAmount(f"Maintenance margin rate cannot be negative (got {rate}).")
    return _isolated_liquidation(p, rate)


# -- cross account (reference section 1) -------------------------------------------------------


@engine_context
def distance_pct(price: Decimal, trigger: Decimal | None, side: Side = Side.LONG) -> Decimal | None:
    """|price - trigger| / price * 100, positive = room left (long: price above; short: below).

    Definition: docs/ARCHITECTURE.md "Margin engine" (a % of the current price, as traders read it).

    `side` is the direction that loses when the price moves: a position's side for an isolated
    position, the pair's net exposure for the cross account (see `figures.compute`).
    """
    if trigger is None:
        return None
    price = require_positive(price, "Price")
    if side is _LONG:
        return (price - trigger) / price * HUNDRED
    return (trigger - price) / price * HUNDRED


class _Totals:
    """One pass over the cross positions: equity, used margin, per-pair slopes, per quote currency.

    Positions quoted in the account currency are summed straight into equity / used margin (the
    single-currency engine, digit for digit); the others per quote currency, converted at Kraken's
    FX pairs (exposure.py). A currency without a rate leaves `missing` non-empty: the account is unknown.
    """

    __slots__ = ("equity", "used", "slopes", "ccy", "account_ccy", "groups", "powers", "missing")

    def __init__(self, balance: Balance, positions: Iterable[Position], prices: Mapping[str, Decimal],
                 rules: Mapping[str, PairRules] | None = None):
        equity = require_finite(balance.trade_balance, "Trade balance")
        used = ZERO
        slopes: dict[str, list[Decimal]] = {}  # pair -> [a, b]
        checked: dict[str, Decimal] = {}
        account_ccy = common_currency(balance.currency)
        ccy_of: dict[str, str] = {}
        foreign: dict[str, list[Decimal]] = {}
        for p in positions:
            # Every position is validated and priced here, isolated ones too, so `compute` can
            # trust them afterwards.
            check_position(p)
            price = checked.get(p.pair)
            if price is None:
                price = checked[p.pair] = _price(prices.get(p.pair), p.pair)
                ccy_of[p.pair] = pair_currency(p.pair, rules) or account_ccy
            if p.margin_mode is not _CROSS:
                continue
            volume = p.remaining_volume
            value = price * volume
            ab = slopes.get(p.pair)
            if ab is None:
                ab = slopes[p.pair] = [ZERO, ZERO]
            if p.side is _LONG:
                upnl, margin_used = value - p.cost, p.margin
                ab[0] += volume
            else:
                upnl, margin_used = p.cost - value, p.margin * value / p.cost
                ab[0] -= volume
                ab[1] += p.margin * volume / p.cost
            ccy = ccy_of[p.pair]
            if ccy == account_ccy:
                equity += upnl
                used += margin_used
            else:
                sums = foreign.setdefault(ccy, [ZERO, ZERO])
                sums[0] += upnl
                sums[1] += margin_used
        rates, paths, missing = currency_rates(sorted(foreign), account_ccy, prices, rules or {})
        self.missing = {ccy: missing[ccy] for ccy in foreign if ccy in missing}
        self.groups = None
        if foreign and not self.missing:
            self.groups = {account_ccy: (ONE, equity, used)}
            for ccy, (upnl, margin_used) in foreign.items():
                self.groups[ccy] = (rates[ccy], upnl, margin_used)
                equity += rates[ccy] * upnl
                used += rates[ccy] * margin_used
        self.equity = equity
        self.used = used
        self.slopes = slopes
        self.ccy = ccy_of
        self.account_ccy = account_ccy
        self.powers = exponents(paths)

    def trigger(self, pair: str, price: Decimal, level: Decimal) -> Decimal | None:
        ab = self.slopes.get(pair)
        if ab is None or self.missing:
            return None
        if self.groups is None:
            return _solve(self.equity, self.used, ab[0], ab[1], price, level)
        return solve(self.groups, self.ccy[pair], ab[0], ab[1], price, level, self.powers.get(pair, {}))[0]

    def losing_side(self, pair: str) -> Side:
        """LONG if the account level falls with this pair's price, SHORT if it falls as the price rises."""
        a, b = self.slopes[pair]
        # d(e/m)/dP has the sign of a*m - b*e (quotient rule; both linear in P; one currency).
        return Side.SHORT if a * self.used - b * self.equity < 0 else Side.LONG


@engine_context
def account_figures(
    balance: Balance,
    positions: Iterable[Position],
    prices: Mapping[str, Decimal],
    rules: Mapping[str, PairRules],
) -> AccountFigures:
    """Cross account: e = tb + n, mf = e - m, ml = e / m * 100, None when m == 0 (support 203325693).

    In the account currency (`balance.currency`); unknown (`unknown_reason`) when a rate is missing.
    """
    positions = tuple(positions)
    totals = _Totals(balance, positions, prices, rules)
    return _account(balance, totals, positions, rules)


def _account(balance: Balance, totals: _Totals, positions, rules, exchange_ml=None) -> AccountFigures:
    levels = account_levels(positions, rules)
    if totals.missing:
        return unknown_account(balance, levels, missing_reason(totals.missing, totals.account_ccy), exchange_ml)
    account = account_record(balance, totals.equity, totals.used, levels, exchange_ml)
    if totals.groups is not None:
        account = replace(account, fx_sensitivity=sensitivity(totals.account_ccy, totals.groups, *levels))
    return account


@engine_context
def cross_trigger_price(
    balance: Balance,
    positions: Iterable[Position],
    prices: Mapping[str, Decimal],
    pair: str,
    level: Decimal,
    rules: Mapping[str, PairRules] | None = None,
) -> Decimal | None:
    """Price of `pair` where the cross margin level equals `level`, other pairs held (section 1).

    Solves (e + a*dP) / (m + b*dP) = x with a = sum(+V long, -V short) and b = sum(V/L of shorts)
    over the cross positions on `pair`. Several quote currencies: exposure.solve (`rules` say each
    pair's quote currency; without them the symbol text does). Long alone: P = E - (TB - x*M)/V; short alone:
    P = (TB + V*E) / (V*(1 + x/L)) (support 203325763, 203053156).
    """
    require_finite(level, "Margin level")
    totals = _Totals(balance, positions, prices, rules)
    if pair not in totals.slopes:
        return None
    return totals.trigger(pair, _price(prices.get(pair), pair), level)


