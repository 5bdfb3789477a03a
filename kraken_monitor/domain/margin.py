"""Kraken margin math: P&L, used margin, account margin level, margin-call and liquidation prices.

Sources: shared reference "Kraken margin" section 1 (spot cross margin; Kraken support 360030886332,
203325693, 203053156, 203325763) and section 2 (isolated positions; Kraken Futures support 360022835671).
Levels are percent. Nothing is quantized here: formatting belongs to the UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, fields
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain import costs
from kraken_monitor.domain.decimals import (
    HUNDRED,
    ZERO,
    check_position,
    engine_context,
    require_finite,
    require_positive,
)
from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.models import (
    AccountFigures,
    AccountState,
    Balance,
    MarginMode,
    PairRules,
    Position,
    PositionFigures,
    Side,
)

# Kraken's usual thresholds (support 203325763), used ONLY when no held pair has AssetPairs rules:
# the per-pair `margin_call` / `margin_stop` are the truth whenever they are known.
DEFAULT_MARGIN_CALL_LEVEL = Decimal(80)
DEFAULT_LIQUIDATION_LEVEL = Decimal(40)
# Enum member access is slow on Python 3.11 (a property per lookup); the hot loops use these.
_LONG, _CROSS = Side.LONG, MarginMode.CROSS
DEFAULT_MAINTENANCE_RATE = PairRules("", "", "", ZERO, ZERO).maintenance_rate


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


_LEVERAGE_SNAP = Decimal("1e-6")


def _leverage(cost: Decimal, margin: Decimal) -> Decimal:
    # Kraken opens at a whole leverage (AssetPairs leverage_buy/sell) but rounds `margin` in its
    # payloads, so cost / margin comes out as 5.0000000009: report the leverage the trader chose.
    ratio = cost / margin
    whole = ratio.to_integral_value()
    return whole if abs(ratio - whole) <= _LEVERAGE_SNAP * ratio else ratio


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


def _price(price: Decimal, pair: str) -> Decimal:
    if price is None:
        raise InvalidAmount(f"No price is known for {pair}.")
    return require_positive(price, f"Price of {pair}")


def allocated_margin(p: Position) -> Decimal:
    """Collateral backing an isolated position (reference section 2)."""
    # An isolated position the venue reported without an allocation holds exactly its opening margin.
    return p.allocated_margin if p.allocated_margin is not None else p.margin


def _short_slope(p: Position) -> Decimal:
    """d(used margin)/d(price) of a short = V / L = margin * V / cost (support 203053156)."""
    return p.margin * p.remaining_volume / p.cost


def _solve(equity: Decimal, used: Decimal, a: Decimal, b: Decimal, price: Decimal, level: Decimal):
    """Price where (equity + a*dP) / (used + b*dP) = level/100 (reference section 1, several positions).

    Equity and used margin are both linear in one pair's price, so the solve is exact from any
    starting price. None when the level does not depend on the price (a - x*b == 0) or P <= 0.
    """
    x = level / HUNDRED
    den = a - x * b
    if den == 0:
        return None
    result = price + (x * used - equity) / den
    return result if result > 0 else None


# -- isolated positions (reference section 2) --------------------------------------------------


@engine_context
def isolated_margin_level(p: Position, price: Decimal) -> Decimal | None:
    """(allocated + upnl) / used margin * 100: an isolated position is its own account (section 2)."""
    check_position(p)
    return _isolated_level(p, _price(price, p.pair))


def _isolated_level(p: Position, price: Decimal) -> Decimal:
    value = price * p.remaining_volume
    if p.side is _LONG:
        return (allocated_margin(p) + value - p.cost) / p.margin * HUNDRED
    return (allocated_margin(p) + p.cost - value) / (p.margin * value / p.cost) * HUNDRED


@engine_context
def isolated_trigger_price(p: Position, level: Decimal) -> Decimal | None:
    """Price where the isolated position's own level equals `level` (section 1 solve, tb = allocated).

    long: P = E + (x*M - A) / V; short: P = (A + V*E) / (V * (1 + x/L)). None when unreachable.
    """
    check_position(p)
    return _isolated_trigger(p, require_finite(level, "Margin level"))


def _isolated_trigger(p: Position, level: Decimal) -> Decimal | None:
    entry = p.cost / p.remaining_volume
    # At the entry price upnl is 0 and a short's used margin equals its opening margin.
    if p.side is _LONG:
        return _solve(allocated_margin(p), p.margin, p.remaining_volume, ZERO, entry, level)
    return _solve(allocated_margin(p), p.margin, -p.remaining_volume, _short_slope(p), entry, level)


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


def _isolated_liquidation(p: Position, rate: Decimal) -> Decimal | None:
    volume = p.remaining_volume
    allocated = allocated_margin(p)
    if p.side is _LONG:
        den = volume * (1 - rate)
        if den <= 0:
            return None
        result = (p.cost - allocated) / den
        return result if result > 0 else None
    return (allocated + p.cost) / (volume * (1 + rate))


def _isolated_figures(p: Position, price: Decimal, rules: PairRules | None):
    """(margin level, margin-call price, liquidation price) of one validated isolated position."""
    if rules is None:  # no AssetPairs/Futures rules known: Kraken's usual figures (see the defaults)
        call_level, rate = DEFAULT_MARGIN_CALL_LEVEL, DEFAULT_MAINTENANCE_RATE
    else:
        call_level, rate = rules.margin_call_level, rules.maintenance_rate
    return _isolated_level(p, price), _isolated_trigger(p, call_level), _isolated_liquidation(p, rate)


# -- cross account (reference section 1) -------------------------------------------------------


@engine_context
def distance_pct(price: Decimal, trigger: Decimal | None, side: Side = Side.LONG) -> Decimal | None:
    """|price - trigger| / price * 100, positive = room left (long: price above; short: below).

    Definition: docs/ARCHITECTURE.md "Margin engine" (a % of the current price, as traders read it).

    `side` is the direction that loses when the price moves: a position's side for an isolated
    position, the pair's net exposure for the cross account (see `compute`).
    """
    if trigger is None:
        return None
    price = require_positive(price, "Price")
    if side is _LONG:
        return (price - trigger) / price * HUNDRED
    return (trigger - price) / price * HUNDRED


def _cross(positions: Iterable[Position]) -> list[Position]:
    return [p for p in positions if p.margin_mode is _CROSS]


def liquidation_order(positions: Iterable[Position]) -> dict[str, int]:
    """Kraken liquidates the oldest position first, regardless of pair or profit (support 203325763)."""
    ordered = sorted(_cross(positions), key=lambda p: (p.opened_at, p.id))
    return {p.id: rank for rank, p in enumerate(ordered, start=1)}


def account_levels(positions: Iterable[Position], rules: Mapping[str, PairRules]) -> tuple[Decimal, Decimal]:
    """(margin-call, liquidation) levels of the cross account: the strictest (highest) of the pairs held.

    Kraken publishes them per pair (AssetPairs margin_call / margin_stop, support 203325763); the
    account has one level, so the highest threshold among held pairs is the one reached first.
    80/40 only when no held pair has known rules (nothing better is known).
    """
    known = [rules[pair] for pair in {p.pair for p in _cross(positions)} if pair in rules]
    if not known:
        return DEFAULT_MARGIN_CALL_LEVEL, DEFAULT_LIQUIDATION_LEVEL
    return max(r.margin_call_level for r in known), max(r.margin_stop_level for r in known)


class _Totals:
    """One pass over the cross positions: equity, used margin and per-pair price sensitivities."""

    __slots__ = ("equity", "used", "slopes")

    def __init__(self, balance: Balance, positions: Iterable[Position], prices: Mapping[str, Decimal]):
        equity = require_finite(balance.trade_balance, "Trade balance")
        used = ZERO
        slopes: dict[str, list[Decimal]] = {}  # pair -> [a, b]
        checked: dict[str, Decimal] = {}
        for p in positions:
            # Every position is validated and priced here, isolated ones too, so `compute` can
            # trust them afterwards.
            check_position(p)
            price = checked.get(p.pair)
            if price is None:
                price = checked[p.pair] = _price(prices.get(p.pair), p.pair)
            if p.margin_mode is not _CROSS:
                continue
            volume = p.remaining_volume
            value = price * volume
            ab = slopes.get(p.pair)
            if ab is None:
                ab = slopes[p.pair] = [ZERO, ZERO]
            if p.side is _LONG:
                equity += value - p.cost
                used += p.margin
                ab[0] += volume
            else:
                equity += p.cost - value
                used += p.margin * value / p.cost
                ab[0] -= volume
                ab[1] += p.margin * volume / p.cost
        self.equity = equity
        self.used = used
        self.slopes = slopes

    def trigger(self, pair: str, price: Decimal, level: Decimal) -> Decimal | None:
        ab = self.slopes.get(pair)
        if ab is None:
            return None
        return _solve(self.equity, self.used, ab[0], ab[1], price, level)

    def losing_side(self, pair: str) -> Side:
        """LONG if the account level falls with this pair's price, SHORT if it falls as the price rises."""
        a, b = self.slopes[pair]
        # d(e/m)/dP has the sign of a*m - b*e (quotient rule; both linear in P).
        return Side.SHORT if a * self.used - b * self.equity < 0 else Side.LONG


@engine_context
def account_figures(
    balance: Balance,
    positions: Iterable[Position],
    prices: Mapping[str, Decimal],
    rules: Mapping[str, PairRules],
) -> AccountFigures:
    """Cross account: e = tb + n, mf = e - m, ml = e / m * 100, None when m == 0 (support 203325693)."""
    positions = tuple(positions)
    totals = _Totals(balance, positions, prices)
    return _account(balance, totals, positions, rules)


def _account(balance: Balance, totals: _Totals, positions, rules, exchange_ml=None) -> AccountFigures:
    call_level, stop_level = account_levels(positions, rules)
    used = totals.used
    return AccountFigures(
        currency=balance.currency,
        trade_balance=balance.trade_balance,
        equity=totals.equity,
        used_margin=used,
        free_margin=totals.equity - used,
        margin_level=totals.equity / used * HUNDRED if used else None,
        margin_level_exchange=exchange_ml if exchange_ml is not None else balance.exchange_margin_level,
        margin_call_level=call_level,
        liquidation_level=stop_level,
    )


@engine_context
def cross_trigger_price(
    balance: Balance,
    positions: Iterable[Position],
    prices: Mapping[str, Decimal],
    pair: str,
    level: Decimal,
) -> Decimal | None:
    """Price of `pair` where the cross margin level equals `level`, other pairs held (section 1).

    Solves (e + a*dP) / (m + b*dP) = x with a = sum(+V long, -V short) and b = sum(V/L of shorts)
    over the cross positions on `pair`. Long alone: P = E - (TB - x*M)/V; short alone:
    P = (TB + V*E) / (V*(1 + x/L)) (support 203325763, 203053156).
    """
    require_finite(level, "Margin level")
    totals = _Totals(balance, positions, prices)
    if pair not in totals.slopes:
        return None
    return totals.trigger(pair, _price(prices.get(pair), pair), level)


# -- the per-cycle call ------------------------------------------------------------------------

_DEFAULTS = {f.name: f.default for f in fields(PositionFigures) if f.default is not MISSING}


def _figures(**values) -> PositionFigures:
    """A PositionFigures without the frozen dataclass __init__ (one object.__setattr__ per field).

    Same object, every field set; ~2-3 ms less per 1,000 positions (benchmarks/run.py recompute_1000_ms).
    """
    pf = object.__new__(PositionFigures)
    pf.__dict__.update(_DEFAULTS)
    pf.__dict__.update(values)
    return pf



@engine_context
def compute(
    state: AccountState,
    prices: Mapping[str, Decimal],
    rules: Mapping[str, PairRules],
    now: datetime,
    exchange_balance: Balance | None = None,
) -> tuple[AccountFigures, tuple[PositionFigures, ...]]:
    """Account and per-position figures for one poll cycle; risk left at OK (the alert engine sets it).

    Formulas: the functions above (reference sections 1 and 2) and costs.py (support 206161568).

    `exchange_balance`, when given, supplies the exchange's own reported margin level (TradeBalance
    `ml`, the truth when present) in place of `state.balance`'s. Cost: one pass for the account
    sums, one solve per pair, one pass for the positions -- O(positions + pairs).
    """
    positions = state.positions
    balance = state.balance
    totals = _Totals(balance, positions, prices)
    exchange_ml = exchange_balance.exchange_margin_level if exchange_balance is not None else None
    account = _account(balance, totals, positions, rules, exchange_ml)
    call_level, stop_level = account.margin_call_level, account.liquidation_level

    pair_triggers: dict[str, tuple] = {}
    for pair in totals.slopes:
        price = prices[pair]
        pair_triggers[pair] = (
            totals.trigger(pair, price, call_level),
            totals.trigger(pair, price, stop_level),
            totals.losing_side(pair),
        )

    order = liquidation_order(positions)
    rates: dict[str, Decimal] = {}  # terms -> rate: a few distinct strings across all positions
    out = []
    append = out.append
    for p in positions:  # validated and priced by _Totals
        price = prices[p.pair]
        volume = p.remaining_volume
        cost = p.cost
        margin = p.margin
        value = price * volume
        if p.side is _LONG:
            upnl = value - cost
            used = margin
        else:
            upnl = cost - value
            used = margin * value / cost
        terms = p.rollover_terms
        rate = rates.get(terms)
        if rate is None:
            rate = rates[terms] = costs.rollover_rate(p)
        fees, break_even, day_cost, upcoming = costs.cycle_costs(p, now, rate)
        if p.margin_mode is _CROSS:
            call_price, liq_price, side = pair_triggers[p.pair]
            level = None  # the cross account holds the level (AccountFigures)
        else:
            level, call_price, liq_price = _isolated_figures(p, price, rules.get(p.pair))
            side = p.side
        # distance_pct inlined: this loop runs for every position every cycle.
        sign = HUNDRED / price if side is _LONG else -HUNDRED / price
        append(
            _figures(
                position=p,
                price=price,
                entry_price=cost / volume,
                remaining_volume=volume,
                leverage=_leverage(cost, margin),
                valuation=value,
                unrealized_pnl=upnl,
                pnl_pct=upnl / margin * HUNDRED,
                used_margin=used,
                fees=fees,
                net_pnl=upnl - fees,
                break_even_price=break_even,
                margin_call_price=call_price,
                liquidation_price=liq_price,
                distance_to_margin_call_pct=None if call_price is None else (price - call_price) * sign,
                distance_to_liquidation_pct=None if liq_price is None else (price - liq_price) * sign,
                margin_level=level,
                next_rollover=upcoming,
                projected_cost_24h=day_cost,
                liquidation_order=order.get(p.id),
            )
        )
    return account, tuple(out)
