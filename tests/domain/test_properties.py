"""Hypothesis properties of the margin engine: the invariants every price and account must satisfy."""

from datetime import datetime, timezone
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_monitor.domain import margin, whatif
from kraken_monitor.domain.models import AccountState, Balance, MarginMode, Position, Side

NOW = datetime(2026, 2, 1, tzinfo=timezone.utc)
PAIRS = ("BTC/USD", "ETH/USD")

prices_st = st.decimals(min_value=D("0.01"), max_value=D(100000), places=2)
volumes_st = st.decimals(min_value=D("0.0001"), max_value=D(50), places=4)
leverages_st = st.sampled_from([D(1), D(2), D(3), D(5), D(10)])
levels_st = st.decimals(min_value=D(10), max_value=D(500), places=2)
money_st = st.decimals(min_value=D(0), max_value=D(1000000), places=2)


@st.composite
def positions_st(draw, mode=MarginMode.CROSS, pairs=PAIRS):
    side = draw(st.sampled_from([Side.LONG, Side.SHORT]))
    vol, entry, lev = draw(volumes_st), draw(prices_st), draw(leverages_st)
    cost = vol * entry
    allocated = cost / lev * draw(st.decimals(min_value=D(1), max_value=D(3), places=2))
    return Position(
        id=str(draw(st.integers(0, 10**6))), pair=draw(st.sampled_from(pairs)), side=side, volume=vol,
        volume_closed=D(0), cost=cost, margin=cost / lev, opened_at=NOW, margin_mode=mode,
        allocated_margin=allocated if mode is MarginMode.ISOLATED else None,
    )


accounts_st = st.tuples(money_st, st.lists(positions_st(), min_size=1, max_size=6))
price_map_st = st.fixed_dictionaries({pair: prices_st for pair in PAIRS})


def rel_close(a: D, b: D, tol=D("1e-9")) -> bool:
    return abs(a - b) <= tol * max(abs(a), abs(b), D(1))


@settings(max_examples=80, deadline=None)
@given(accounts_st, price_map_st, st.sampled_from(PAIRS), levels_st)
def test_level_at_cross_trigger_equals_the_target(account, prices, pair, level):
    tb, positions = account
    balance = Balance("USD", tb)
    trigger = margin.cross_trigger_price(balance, positions, prices, pair, level)
    if trigger is None:
        return
    assert trigger > 0
    at = margin.account_figures(balance, positions, {**prices, pair: trigger}, {})
    assert rel_close(at.margin_level, level)


@settings(max_examples=80, deadline=None)
@given(positions_st(mode=MarginMode.ISOLATED), levels_st)
def test_level_at_isolated_trigger_equals_the_target(p, level):
    trigger = margin.isolated_trigger_price(p, level)
    if trigger is None:
        return
    assert rel_close(margin.isolated_margin_level(p, trigger), level)


@settings(max_examples=80, deadline=None)
@given(accounts_st, price_map_st, st.decimals(min_value=D("0.01"), max_value=D(100000), places=2))
def test_adding_collateral_never_lowers_the_margin_level(account, prices, amount):
    tb, positions = account
    state = AccountState(Balance("USD", tb), tuple(positions), NOW)
    before = margin.account_figures(state.balance, positions, prices, {})
    after = whatif.deposit(state, prices, {}, amount)
    assert after.margin_level >= before.margin_level
    assert after.equity == before.equity + amount


@settings(max_examples=80, deadline=None)
@given(positions_st(mode=MarginMode.ISOLATED), st.decimals(min_value=D(0), max_value=D("0.0999"), places=4))
def test_isolated_liquidation_price_is_on_the_losing_side_of_entry(p, rate):
    # Leverage <= 10 and allocation >= margin, so rate < allocation / cost: the position could open
    # (at rate >= allocation / cost it would be liquidated at its own entry price).
    liq = margin.isolated_liquidation_price(p, rate)
    entry = margin.entry_price(p)
    if p.side is Side.LONG:
        if liq is not None:
            assert liq < entry
    else:
        assert liq is not None and liq > entry


@settings(max_examples=80, deadline=None)
@given(positions_st(mode=MarginMode.ISOLATED), st.decimals(min_value=D(1), max_value=D(10000), places=2))
def test_adding_isolated_margin_moves_liquidation_away(p, amount):
    state = AccountState(Balance("USD", D(0)), (p,), NOW)
    prices = {p.pair: margin.entry_price(p)}
    before = margin.compute(state, prices, {}, NOW)[1][0]
    after = whatif.add_isolated_margin(state, prices, {}, p.id, amount)
    if p.side is Side.LONG:
        assert after.liquidation_price is None or after.liquidation_price < before.liquidation_price
    else:
        assert after.liquidation_price > before.liquidation_price


@settings(max_examples=80, deadline=None)
@given(
    money_st,
    st.lists(positions_st(pairs=("BTC/USD",)).filter(lambda p: p.side is Side.LONG), min_size=1, max_size=4),
    prices_st,
    st.decimals(min_value=D(0), max_value=D(99), places=2),
    st.decimals(min_value=D(0), max_value=D(99), places=2),
)
def test_deeper_price_shock_never_raises_a_long_accounts_level(tb, longs, price, shock_a, shock_b):
    state = AccountState(Balance("USD", tb), tuple(longs), NOW)
    small, deep = sorted((shock_a, shock_b))
    prices = {"BTC/USD": price}
    at_small = whatif.price_shock(state, prices, {}, "BTC/USD", -small).margin_level
    at_deep = whatif.price_shock(state, prices, {}, "BTC/USD", -deep).margin_level
    assert at_deep <= at_small


@settings(max_examples=60, deadline=None)
@given(accounts_st, price_map_st)
def test_compute_agrees_with_the_single_purpose_functions(account, prices):
    tb, positions = account
    state = AccountState(Balance("USD", tb), tuple(positions), NOW)
    acc, figures = margin.compute(state, prices, {}, NOW)
    assert acc == margin.account_figures(state.balance, positions, prices, {})
    assert acc.free_margin == acc.equity - acc.used_margin
    for pf in figures:
        p, price = pf.position, prices[pf.position.pair]
        assert pf.unrealized_pnl == margin.unrealized_pnl(p, price)
        assert pf.used_margin == margin.used_margin(p, price)
        assert pf.margin_call_price == margin.cross_trigger_price(
            state.balance, positions, prices, p.pair, acc.margin_call_level
        )
        if pf.distance_to_liquidation_pct is not None and pf.margin_level is None:
            # Positive distance <=> the account is still above the liquidation level.
            assert (pf.distance_to_liquidation_pct > 0) == (acc.margin_level > acc.liquidation_level) or (
                pf.distance_to_liquidation_pct == 0
            )
