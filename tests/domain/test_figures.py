"""The cached per-cycle engine (figures.compute) gives exactly what a straightforward recomputation gives."""

from dataclasses import fields, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from decimal import localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_monitor.domain import costs, figure_books, margin
from kraken_monitor.domain.alerts import AlertEngine
from kraken_monitor.domain.decimals import ENGINE_CONTEXT, HUNDRED
from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.models import (
    AccountState,
    Balance,
    MarginMode,
    PairRules,
    Position,
    PositionFigures,
    Risk,
    Side,
    Snapshot,
)

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
PAIRS = ("BTC/USD", "ETH/USD", "SOL/USD")
TERMS = "0.0200% per 4 hours"


def reference(state, prices, rules, now):
    """The engine as one plain pass per cycle, no caches (the pre-cache `margin.compute`)."""
    with localcontext(ENGINE_CONTEXT):
        totals = margin._Totals(state.balance, state.positions, prices)
        account = margin._account(state.balance, totals, state.positions, rules)
        order = margin.liquidation_order(state.positions)
        out = []
        for p in state.positions:
            price, volume, cost, mg = prices[p.pair], p.remaining_volume, p.cost, p.margin
            value = price * volume
            upnl = value - cost if p.side is Side.LONG else cost - value
            used = mg if p.side is Side.LONG else mg * value / cost
            fees, break_even, day_cost, upcoming = costs.cycle_costs(p, now, costs.rollover_rate(p))
            if p.margin_mode is MarginMode.CROSS:
                call_price = totals.trigger(p.pair, price, account.margin_call_level)
                liq_price = totals.trigger(p.pair, price, account.liquidation_level)
                side, level = totals.losing_side(p.pair), None
            else:
                r = rules.get(p.pair)
                call_level = r.margin_call_level if r else margin.DEFAULT_MARGIN_CALL_LEVEL
                rate = r.maintenance_rate if r else margin.DEFAULT_MAINTENANCE_RATE
                level = margin._isolated_level(p, price)
                call_price, liq_price = margin._isolated_trigger(p, call_level), margin._isolated_liquidation(p, rate)
                side = p.side
            sign = HUNDRED / price if side is Side.LONG else -HUNDRED / price
            closing = value * costs.TAKER_FEE_RATE  # Net P&L is after the estimated closing fee
            out.append(PositionFigures(
                position=p, price=price, entry_price=cost / volume, remaining_volume=volume,
                leverage=margin._leverage(cost, mg), valuation=value, unrealized_pnl=upnl,
                pnl_pct=upnl / mg * HUNDRED, used_margin=used, fees=fees, net_pnl=upnl - fees - closing,
                break_even_price=break_even, margin_call_price=call_price, liquidation_price=liq_price,
                distance_to_margin_call_pct=None if call_price is None else (price - call_price) * sign,
                distance_to_liquidation_pct=None if liq_price is None else (price - liq_price) * sign,
                margin_level=level, next_rollover=upcoming, projected_cost_24h=day_cost,
                liquidation_order=order.get(p.id),
                # One currency (USD pairs, USD account): no conversion, rate exactly 1, cost as reported.
                quote_currency="USD", account_currency="USD", fx_rate=D(1), cost=cost, closing_fee=closing,
            ))
        return account, tuple(out)


def assert_identical(got, want):
    """Equal AND the same digits and exponents (repr), field by field."""
    (acc, pfs), (ref_acc, ref_pfs) = got, want
    assert len(pfs) == len(ref_pfs)
    for a, b in [(acc, ref_acc), *zip(pfs, ref_pfs, strict=True)]:
        assert type(a) is type(b)
        for f in fields(a):
            assert repr(getattr(a, f.name)) == repr(getattr(b, f.name)), f.name


def rules(call="80", stop="40", rate="0.01"):
    return {pair: PairRules(pair, pair[:3], "USD", D(call), D(stop), maintenance_rate=D(rate)) for pair in PAIRS}


prices_st = st.decimals(min_value=D("0.5"), max_value=D(90000), places=2)
offsets_st = st.sampled_from([timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])


@st.composite
def position_st(draw, i):
    isolated = draw(st.booleans())
    volume = draw(st.decimals(min_value=D("0.001"), max_value=D(40), places=3))
    closed = draw(st.sampled_from([D(0), volume / 4]))
    cost = (volume - closed) * draw(prices_st)
    mg = cost / draw(st.sampled_from([D(1), D(2), D(3), D(5)]))
    opened = NOW + timedelta(seconds=draw(st.integers(-100 * 3600, 3 * 3600)))  # some open "later": skew
    return Position(
        id=f"T{i}", pair=draw(st.sampled_from(PAIRS)), side=draw(st.sampled_from(list(Side))), volume=volume,
        volume_closed=closed, cost=cost, margin=mg, opened_at=opened.astimezone(draw(offsets_st)),
        trading_fee=cost * D("0.0026"), opening_fee=draw(st.sampled_from([None, D("1.5")])),
        rollover_terms=draw(st.sampled_from([TERMS, ""])),
        next_rollover=draw(st.sampled_from([None, NOW + timedelta(hours=1)])),
        margin_mode=MarginMode.ISOLATED if isolated else MarginMode.CROSS,
        allocated_margin=mg * 2 if isolated and draw(st.booleans()) else None,
    )


@st.composite
def book_st(draw):
    n = draw(st.integers(1, 8))
    positions = tuple(draw(position_st(i)) for i in range(n))
    return AccountState(Balance("USD", draw(st.decimals(0, 10**6, places=2))), positions, NOW)


# One cycle step: move a pair's price, keep it (same or an equal new object), let time pass
# (often across a 4-hour rollover mark), or change the pair rules.
step_st = st.one_of(
    st.tuples(st.just("price"), st.sampled_from(PAIRS), prices_st),
    st.tuples(st.just("same"), st.sampled_from(PAIRS), st.none()),
    st.tuples(st.just("time"), st.integers(1, 9 * 3600), offsets_st),
    st.tuples(st.just("rules"), st.sampled_from(["70", "80", "95"]), st.sampled_from(["0.01", "0.03"])),
)


@settings(max_examples=120, deadline=None)
@given(book_st(), st.fixed_dictionaries({pair: prices_st for pair in PAIRS}), st.lists(step_st, max_size=12))
def test_cached_cycles_equal_a_plain_recomputation(state, prices, steps):
    figure_books.clear_cache()
    rl, now = rules(), NOW
    assert_identical(margin.compute(state, prices, rl, now), reference(state, prices, rl, now))
    for kind, a, b in steps:
        prices = dict(prices)
        if kind == "price":
            prices[a] = b
        elif kind == "same":
            prices[a] = D(str(prices[a]))  # equal value, new object
        elif kind == "time":
            now = (now + timedelta(seconds=a)).astimezone(b)
        else:
            rl = rules(call=a, rate=b)
        assert_identical(margin.compute(state, prices, rl, now), reference(state, prices, rl, now))


def test_crossing_a_rollover_mark_charges_one_more_rollover_with_an_unchanged_price():
    p = Position("A", "BTC/USD", Side.LONG, D(1), D(0), D(50000), D(10000), NOW - timedelta(hours=4, seconds=-1),
                 rollover_terms=TERMS)
    state, prices, rl = AccountState(Balance("USD", D(20000)), (p,), NOW), {"BTC/USD": D(51000)}, rules()
    before = margin.compute(state, prices, rl, NOW)
    after = margin.compute(state, prices, rl, NOW + timedelta(seconds=1))  # exactly 4 h after opening
    assert after[1][0].fees - before[1][0].fees == D(10)  # 0.02 % of 50,000
    assert before[1][0].next_rollover == NOW + timedelta(seconds=1)
    assert after[1][0].next_rollover == NOW + timedelta(hours=4, seconds=1)
    assert_identical(after, reference(state, prices, rl, NOW + timedelta(seconds=1)))


def test_every_cycle_returns_new_records_even_when_nothing_moved():
    p = Position("A", "BTC/USD", Side.SHORT, D(1), D(0), D(50000), D(10000), NOW - timedelta(hours=1))
    state, prices, rl = AccountState(Balance("USD", D(20000)), (p,), NOW), {"BTC/USD": D(51000)}, rules()
    first, second = margin.compute(state, prices, rl, NOW)[1], margin.compute(state, prices, rl, NOW)[1]
    assert first == second and first[0] is not second[0]
    assert first[0].__dict__ is not second[0].__dict__


def test_errors_are_the_same_after_cached_cycles():
    p = Position("A", "BTC/USD", Side.LONG, D(1), D(0), D(50000), D(10000), NOW - timedelta(hours=1))
    state, rl = AccountState(Balance("USD", D(20000)), (p,), NOW), rules()
    margin.compute(state, {"BTC/USD": D(51000)}, rl, NOW)
    with pytest.raises(InvalidAmount, match="No price is known for BTC/USD"):
        margin.compute(state, {}, rl, NOW)
    with pytest.raises(InvalidAmount, match="greater than zero"):
        margin.compute(state, {"BTC/USD": D(0)}, rl, NOW)
    with pytest.raises(InvalidAmount, match="time zone"):
        margin.compute(state, {"BTC/USD": D(51000)}, rl, NOW.replace(tzinfo=None))


def test_the_book_cache_is_bounded():
    figure_books.clear_cache()
    p = Position("A", "BTC/USD", Side.LONG, D(1), D(0), D(50000), D(10000), NOW)
    for _ in range(3 * figure_books.MAX_BOOKS):
        margin.compute(AccountState(Balance("USD", D(1)), tuple([p]), NOW), {"BTC/USD": D(1)}, rules(), NOW)
    assert len(figure_books.thread_books()) == figure_books.MAX_BOOKS


def test_alert_risks_match_a_replace_per_position():
    """apply() copies records without dataclasses.replace: same records, new risk, the rest untouched."""
    ps = tuple(
        Position(f"T{i}", "BTC/USD", Side.LONG, D(1), D(0), D(50000), D(10000), NOW,
                 margin_mode=MarginMode.ISOLATED if i % 2 else MarginMode.CROSS, allocated_margin=None)
        for i in range(4)
    )
    state = AccountState(Balance("USD", D(3000)), ps, NOW)
    account, pfs = margin.compute(state, {"BTC/USD": D(41000)}, rules(), NOW)
    out = AlertEngine().apply(Snapshot("demo", NOW, False, account, pfs), NOW)
    assert {pf.risk for pf in out.positions} >= {Risk.LIQUIDATION}
    for old, new in zip(pfs, out.positions, strict=True):
        assert new == replace(old, risk=new.risk)
    assert all(pf.risk is Risk.OK for pf in pfs)  # the input snapshot is not changed
