"""Per-cycle margin figures (`margin.compute`), from the margin kernels (kernels.py) over cached books (figure_books.py).

Sources: shared reference "Kraken margin" sections 1 and 2 (support 360030886332, 203325693, 203053156,
203325763; Kraken Futures 360022835671) and costs.py (support 206161568).

Why caches: a poll cycle usually moves a few prices of an account that did not change, yet every
record must be rebuilt (the account equity moves every cross trigger price). What depends only on
the positions is computed once per positions tuple (a "book"); what depends on a position and its
pair's price, or on the 4-hour rollover count, is kept until that price object or that count
changes. Every cached value is computed by the same expressions, in the same order, as a cold
computation, so results are identical (same Decimal digits and exponents), not merely close.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.domain.decimals import (
    HUNDRED,
    ONE,
    ZERO,
    engine_context,
    require_finite,
)
from kraken_monitor.domain.exposure import (
    currency_rates,
    exponents,
    missing_reason,
    sensitivity,
    solve,
)
from kraken_monitor.domain.figure_books import book_for
from kraken_monitor.domain.fx import common_currency
from kraken_monitor.domain.kernels import _levels, _solve, account_record, unknown_account
from kraken_monitor.domain.models import (
    AccountFigures,
    AccountState,
    Balance,
    PairRules,
    PositionFigures,
)

# -- the per-cycle call ------------------------------------------------------------------------

_new = object.__new__
_set = object.__setattr__
# Money fields of a position record, converted from the quote into the account currency.
_MONEY = (
    "valuation", "unrealized_pnl", "used_margin", "fees", "closing_fee", "net_pnl", "projected_cost_24h", "cost"
)
_TRIGGERS = ("margin_call_price", "liquidation_price", "distance_to_margin_call_pct", "distance_to_liquidation_pct")
_NO_TRIGGERS = dict.fromkeys(_TRIGGERS)
_NO_MONEY = dict.fromkeys(_MONEY)


@engine_context
def compute(
    state: AccountState,
    prices: Mapping[str, Decimal],
    rules: Mapping[str, PairRules],
    now: datetime,
    exchange_balance: Balance | None = None,
) -> tuple[AccountFigures, tuple[PositionFigures, ...]]:
    """Account and per-position figures for one poll cycle; risk left at OK (the alert engine sets it).

    Same contract as `margin.compute` (which is this function). Per cycle: one pass summing the
    cross equity and used margin per quote currency, one solve per pair, one pass building records.
    Money is converted into the account currency (`balance.currency`) at Kraken's own FX pairs
    (exposure.py); a currency without a rate makes its positions' money None and, if a cross
    position is quoted in it, the account unknown (`unknown_reason` names the pair).
    A pair whose quote currency cannot be read ("" : no rules, no "/") counts as the account's.
    """
    balance = state.balance
    equity = require_finite(balance.trade_balance, "Trade balance")
    positions = state.positions
    if type(positions) is not tuple:
        positions = tuple(positions)
    book = book_for(positions, prices)
    px = {pair: prices[pair] for pair in book.pairs}
    account_ccy = common_currency(balance.currency)
    pair_ccy, quoted = book.currencies(rules)
    currencies = quoted | {account_ccy}
    rates, paths, missing = currency_rates(sorted(currencies), account_ccy, prices, rules)
    rates[""] = ONE
    single = currencies == {account_ccy}  # the common case: no conversion anywhere
    if not single:
        book.stable_rates(rates, paths, account_ccy, prices)

    used = ZERO
    foreign: dict[str, list[Decimal]] = {}  # quote currency -> [upnl, used margin] in that currency
    if single:
        for r in book.cross_rows:
            price = px[r.pair]
            cur = r.cur
            if cur[0] is not price:
                cur = r.terms(price)
            equity += cur[2]
            used += cur[3]
    else:
        for r in book.cross_rows:
            price = px[r.pair]
            cur = r.cur
            if cur[0] is not price:
                cur = r.terms(price)
            ccy = pair_ccy[r.pair]
            if ccy == account_ccy or not ccy:
                equity += cur[2]
                used += cur[3]
            else:
                sums = foreign.get(ccy)
                if sums is None:
                    sums = foreign[ccy] = [ZERO, ZERO]
                sums[0] += cur[2]
                sums[1] += cur[3]

    levels = _levels(book.cross_pairs, rules)
    exchange_ml = exchange_balance.exchange_margin_level if exchange_balance is not None else None
    call_level, stop_level = levels
    cross_missing = {ccy: missing[ccy] for ccy in foreign if ccy in missing}
    # Per quote currency: the currency fields every record of it carries this cycle.
    ccy_fields = {
        ccy: {"quote_currency": ccy or account_ccy, "account_currency": account_ccy, "fx_rate": rates[ccy]}
        for ccy in currencies | {""}
    }
    pair_fields: dict[str, dict] = {}
    if cross_missing:
        account = unknown_account(balance, levels, missing_reason(cross_missing, account_ccy), exchange_ml)
        for pair in book.slopes:
            pair_fields[pair] = _NO_TRIGGERS | ccy_fields[pair_ccy[pair]]
    elif foreign:
        groups = {account_ccy: (ONE, equity, used)}
        for ccy, (upnl, margin_used) in foreign.items():
            rate = rates[ccy]
            groups[ccy] = (rate, upnl, margin_used)
            equity += rate * upnl
            used += rate * margin_used
        account = account_record(balance, equity, used, levels, exchange_ml)
        _set(account, "fx_sensitivity", sensitivity(account_ccy, groups, call_level, stop_level))  # new record
        powers = exponents(paths)
        no_powers: dict[str, int] = {}
        for pair, (a, b) in book.slopes.items():
            price = px[pair]
            ccy = pair_ccy[pair]
            k = powers.get(pair, no_powers)
            call_price, call_distance = solve(groups, ccy or account_ccy, a, b, price, call_level, k)
            liq_price, liq_distance = solve(groups, ccy or account_ccy, a, b, price, stop_level, k)
            pair_fields[pair] = {
                "margin_call_price": call_price,
                "liquidation_price": liq_price,
                "distance_to_margin_call_pct": call_distance,
                "distance_to_liquidation_pct": liq_distance,
                **ccy_fields[ccy],
            }
    else:
        account = account_record(balance, equity, used, levels, exchange_ml)
        # A cross position's trigger prices and distances are the same for every position on its pair.
        for pair, (a, b) in book.slopes.items():
            price = px[pair]
            call_price = _solve(equity, used, a, b, price, call_level)
            liq_price = _solve(equity, used, a, b, price, stop_level)
            # The losing side: d(e/m)/dP has the sign of a*m - b*e (quotient rule; both linear in P).
            sign = -HUNDRED / price if a * used - b * equity < 0 else HUNDRED / price
            pair_fields[pair] = {
                "margin_call_price": call_price,
                "liquidation_price": liq_price,
                "distance_to_margin_call_pct": None if call_price is None else (price - call_price) * sign,
                "distance_to_liquidation_pct": None if liq_price is None else (price - liq_price) * sign,
                **ccy_fields[pair_ccy[pair]],
            }

    for r in book.iso_rows:
        rule = rules.get(r.pair)
        iso = r.iso
        if iso is None or iso[0] is not rule:
            r.isolated(rule)

    windowed = type(now.tzinfo) is timezone
    out = []
    append = out.append
    for r in book.rows:
        price = px[r.pair]
        rec = r.rec
        if rec[0] is not price or rec[2] is not r.iso or not (windowed and rec[1][0] <= now < rec[1][1]):
            rec = r.record(price, now, windowed)
        fields = rec[3] | (pair_fields[r.pair] if r.cross else ccy_fields[pair_ccy[r.pair]])
        if not single:
            ccy = pair_ccy[r.pair]
            if ccy and ccy != account_ccy:
                rate = rates[ccy]
                if rate is None:
                    fields.update(_NO_MONEY)
                    fields["unknown_reason"] = missing_reason({ccy: missing[ccy]}, account_ccy)
                else:
                    conv = r.conv
                    if conv[0] is not rec or conv[1] is not rate:
                        conv = r.conv = (rec, rate, {name: fields[name] * rate for name in _MONEY})
                    fields.update(conv[2])
        pf = _new(PositionFigures)
        _set(pf, "__dict__", fields)
        append(pf)
    return account, tuple(out)
