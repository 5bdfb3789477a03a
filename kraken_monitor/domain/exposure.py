"""The cross account across quote currencies: FX rates per currency, the trigger-price solve, FX sensitivity.

Shared reference "Kraken margin" sections 1 and 1b. A position's money is in its pair's quote
currency q and enters the account (currency A) at the rate r_q = fx(q -> A) of Kraken's own pairs:
    e = tb + sum_q r_q * U_q,   m = sum_q r_q * M_q
with U_q / M_q the unrealised P&L / used margin of the cross positions quoted in q (a long's used
margin is fixed in q; a short's is base-denominated, margin * V * P / cost, so it moves with P).

"Holding every other price constant" (the margin-call / liquidation price of pair X): every OTHER
pair keeps its price; X's own price moves everywhere it is used, also as an FX rate. So with a USD
account holding BTC/USD and ETH/BTC, BTC/USD's trigger price also revalues the ETH/BTC position
(r_BTC = the BTC/USD price): that is the level the account would really have at that price. With
t = P / P0, a currency whose FX path uses X directly has r_q(t) = r_q * t, inversely r_q / t. Then
    g(t) = e(t) - x * m(t) = sum_q r_q t^k_q [h_q + s_q P0 (t - 1)],  h_q = U_q - x M_q (tb in h_A),
s_q = a - x b for q = quote(X) (a, b: X's slopes), 0 otherwise; k_q in {-1, 0, 1} and quote(X)
never has k = +1 (X = B/q cannot convert q non-inverted), so t * g(t) is a quadratic in t.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal

from kraken_monitor.domain.decimals import HUNDRED, ONE, ZERO
from kraken_monitor.domain.fx import common_currency, fx_missing_pair, fx_path
from kraken_monitor.domain.models import FxSensitivity, PairRules

_TWO, _FOUR = Decimal(2), Decimal(4)
SENSITIVITY_MOVES = (Decimal(-10), Decimal(-5), Decimal(5), Decimal(10))
Path = tuple[tuple[str, bool], ...]

_local = threading.local()


def pair_currency(pair: str, rules: Mapping[str, PairRules] | None) -> str:
    """The quote currency (common code) of a unified symbol: its rules' quote, else the text after '/'."""
    rule = rules.get(pair) if rules is not None else None
    if rule is not None and rule.quote:
        return common_currency(rule.quote)
    _, sep, quote = pair.partition("/")
    return common_currency(quote.partition(":")[0]) if sep and quote else ""


def _paths(rules: Mapping[str, PairRules]) -> dict:
    """Per thread, per rules mapping: (from, to) -> path; rebuilt when another mapping is passed."""
    cache = getattr(_local, "paths", None)
    if cache is None or cache[0] is not rules or cache[1] != len(rules):
        cache = _local.paths = (rules, len(rules), {})
    return cache[2]


def currency_path(ccy: str, account: str, rules: Mapping[str, PairRules], prices: Mapping[str, Decimal]) -> Path | None:
    """fx.fx_path, cached per rules mapping; markets only in `prices` are tried when rules have no path."""
    cache = _paths(rules)
    key = (ccy, account)
    if key in cache:
        path = cache[key]
    else:
        path = cache[key] = fx_path(ccy, account, rules)
    if path is None:
        path = fx_path(ccy, account, rules, prices)  # an FX pair without rules: not cached (prices vary)
    return path


def currency_rates(
    currencies: Iterable[str], account: str, prices: Mapping[str, Decimal], rules: Mapping[str, PairRules]
) -> tuple[dict[str, Decimal | None], dict[str, Path], dict[str, str]]:
    """(rate per currency, its path, the missing pair per currency without a rate)."""
    rates: dict[str, Decimal | None] = {}
    paths: dict[str, Path] = {}
    missing: dict[str, str] = {}
    for ccy in currencies:
        if ccy == account:
            rates[ccy] = ONE
            paths[ccy] = ()
            continue
        path = currency_path(ccy, account, rules, prices)
        rate = None
        if path is not None:
            rate = ONE
            for symbol, inverted in path:
                price = prices.get(symbol)
                if price is None or not price.is_finite() or price <= 0:
                    rate = None
                    break
                rate = rate / price if inverted else rate * price
            paths[ccy] = path
        rates[ccy] = rate
        if rate is None:
            missing[ccy] = fx_missing_pair(ccy, account, rules, prices)
    return rates, paths, missing


def missing_reason(missing: Mapping[str, str], account: str) -> str:
    """'no price for EUR/USD (EUR -> USD)' for every currency without a rate, sorted."""
    parts = [f"no price for {pair} ({ccy} -> {account})" for ccy, pair in sorted(missing.items())]
    return "; ".join(parts)


def exponents(paths: Mapping[str, Path]) -> dict[str, dict[str, int]]:
    """pair -> {currency: +1 / -1}: how each currency's rate depends on that pair's price."""
    result: dict[str, dict[str, int]] = {}
    for ccy, path in paths.items():
        for symbol, inverted in path:
            result.setdefault(symbol, {})[ccy] = -1 if inverted else 1
    return result


def solve(
    groups: Mapping[str, tuple[Decimal, Decimal, Decimal]],
    quote: str,
    a: Decimal,
    b: Decimal,
    price: Decimal,
    level: Decimal,
    k: Mapping[str, int],
) -> tuple[Decimal | None, Decimal | None]:
    """(trigger price, signed distance %) of one pair: the positive root of t*g(t) = 0 nearest t = 1.

    `groups`: currency -> (rate, U, M), the account currency's U holding tb. `k`: the exponents of
    this pair (see `exponents`). Distance = |1 - t| * 100, positive while the level is above `level`
    now (room left), negative once it has been passed (any currency, any side). None: unreachable.
    """
    x = level / HUNDRED
    s = a - x * b
    sp = s * price
    c_m1 = c_0 = c_1 = ZERO  # coefficients of t^-1, t^0, t^1 in g(t)
    now = ZERO  # g(1) = e - x*m at the current price
    for ccy, (rate, upnl, used) in groups.items():
        h = upnl - x * used
        now += rate * h
        power = k.get(ccy, 0)
        base = rate * (h - sp) if ccy == quote else rate * h
        if power == 0:
            c_0 += base
        elif power == 1:
            c_1 += base
        else:
            c_m1 += base
        if ccy == quote and sp:
            if power == 0:
                c_1 += rate * sp
            else:  # power == -1 (quote(X) is never converted by X non-inverted)
                c_0 += rate * sp
    # t * g(t) = c_1 t^2 + c_0 t + c_m1
    roots: list[Decimal] = []
    if c_1 == 0:
        if c_0 != 0:
            roots.append(-c_m1 / c_0)
    elif c_m1 == 0:  # no 1/P term (the usual case): t = 0 (never positive) or t = -c_0 / c_1
        roots.append(-c_0 / c_1)
    else:
        disc = c_0 * c_0 - _FOUR * c_1 * c_m1
        if disc >= 0:
            sq = disc.sqrt()
            q = -(c_0 + sq) / _TWO if c_0 >= 0 else -(c_0 - sq) / _TWO
            if q != 0:
                roots.extend((q / c_1, c_m1 / q))
            else:
                roots.append(ZERO)
    positive = [t for t in roots if t > 0]
    if not positive:
        return None, None
    t = min(positive, key=lambda r: abs(r - ONE))
    distance = abs(ONE - t) * HUNDRED
    return price * t, distance if now >= 0 else -distance


def sensitivity(
    account: str,
    groups: Mapping[str, tuple[Decimal, Decimal, Decimal]],
    call_level: Decimal,
    stop_level: Decimal,
) -> FxSensitivity | None:
    """The account level as the account currency moves by `move` % against every position currency.

    k = 1 / (1 + move/100) scales every foreign rate: level(k) = (E_A + k E_f) / (M_A + k M_f).
    The move reaching level x: k = (x M_A - E_A) / (E_f - x M_f), move = (1/k - 1) * 100.
    Pair prices and the trade balance (in the account currency) are held constant.
    """
    e_a = m_a = e_f = m_f = ZERO
    foreign = []
    for ccy, (rate, upnl, used) in groups.items():
        if ccy == account:
            e_a += upnl
            m_a += used
        else:
            foreign.append(ccy)
            e_f += rate * upnl
            m_f += rate * used
    if not foreign:
        return None

    def move_to(level: Decimal) -> Decimal | None:
        x = level / HUNDRED
        den = e_f - x * m_f
        if den == 0:
            return None
        k = (x * m_a - e_a) / den
        return (ONE / k - ONE) * HUNDRED if k > 0 else None

    levels = []
    for move in SENSITIVITY_MOVES:
        k = ONE / (ONE + move / HUNDRED)
        used = m_a + k * m_f
        levels.append((move, (e_a + k * e_f) / used * HUNDRED if used > 0 else None))
    return FxSensitivity(
        account_currency=account,
        currencies=tuple(sorted(foreign)),
        margin_call_move_pct=move_to(call_level),
        liquidation_move_pct=move_to(stop_level),
        levels=tuple(levels),
    )
