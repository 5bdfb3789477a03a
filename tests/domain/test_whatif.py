"""What-if previews: each returns new figures, reaches its target, and leaves its inputs untouched."""

import copy
import functools
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from kraken_monitor.domain import margin, whatif
from kraken_monitor.domain.errors import InvalidAmount, NotSupported
from kraken_monitor.domain.models import AccountState, Balance, MarginMode, PairRules, Side
from kraken_monitor.testing import builders

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
BTC, ETH = "BTC/USD", "ETH/USD"
RULES = {
    BTC: PairRules(BTC, "BTC", "USD", D(80), D(40)),
    ETH: PairRules(ETH, "ETH", "USD", D(80), D(40)),
}


pos = functools.partial(builders.position, rollover_terms=builders.ROLLOVER_TERMS)


def state(tb, *positions):
    return AccountState(Balance("USD", D(tb)), tuple(positions), NOW)


ACCOUNT = state(
    "10000",
    pos("L", opened=NOW - timedelta(hours=5)),
    pos("S", pair=ETH, side=Side.SHORT, vol="10", entry="2000", opened=NOW - timedelta(hours=1)),
    pos("I", side=Side.SHORT, margin_mode=MarginMode.ISOLATED, allocated_margin=D(4000)),
)
PRICES = {BTC: D(19000), ETH: D(2100)}


def level(st, prices=PRICES):
    return margin.account_figures(st.balance, st.positions, prices, RULES).margin_level


def test_no_what_if_mutates_its_inputs():
    before_state, before_prices = copy.deepcopy(ACCOUNT), dict(PRICES)
    whatif.price_shock(ACCOUNT, PRICES, RULES, BTC, D(-10))
    whatif.deposit(ACCOUNT, PRICES, RULES, D(1000))
    whatif.add_isolated_margin(ACCOUNT, PRICES, RULES, "I", D(500))
    whatif.partial_close(ACCOUNT, PRICES, RULES, "L", D("0.5"), D("0.0026"))
    whatif.partial_close(ACCOUNT, PRICES, RULES, "I", D("0.5"), D("0.0026"))
    whatif.settle(ACCOUNT, PRICES, RULES, "S")
    whatif.required_deposit(ACCOUNT, PRICES, RULES, D(500))
    whatif.required_close_volume(ACCOUNT, PRICES, RULES, "L", D(300))
    whatif.time_to_margin_call(ACCOUNT, PRICES, RULES, NOW)
    assert before_state == ACCOUNT and before_prices == PRICES


def test_price_shock_moves_only_that_pair():
    shocked = whatif.price_shock(ACCOUNT, PRICES, RULES, BTC, D(-10))
    direct = margin.account_figures(ACCOUNT.balance, ACCOUNT.positions, {BTC: D(17100), ETH: D(2100)}, RULES)
    assert shocked == direct
    assert shocked.equity == margin.account_figures(ACCOUNT.balance, ACCOUNT.positions, PRICES, RULES).equity - 1900
    with pytest.raises(InvalidAmount):
        whatif.price_shock(ACCOUNT, PRICES, RULES, BTC, D(-100))
    with pytest.raises(InvalidAmount):
        whatif.price_shock(ACCOUNT, PRICES, RULES, "XRP/USD", D(5))


def test_deposit_raises_equity_by_the_amount():
    base = margin.account_figures(ACCOUNT.balance, ACCOUNT.positions, PRICES, RULES)
    after = whatif.deposit(ACCOUNT, PRICES, RULES, D(1000))
    assert after.equity == base.equity + 1000 and after.used_margin == base.used_margin
    with pytest.raises(InvalidAmount):
        whatif.deposit(ACCOUNT, PRICES, RULES, D(0))


def test_add_isolated_margin_moves_liquidation_price_away():
    before = next(pf for pf in margin.compute(ACCOUNT, PRICES, RULES, NOW)[1] if pf.position.id == "I")
    after = whatif.add_isolated_margin(ACCOUNT, PRICES, RULES, "I", D(1000))
    assert after.position.allocated_margin == 5000
    assert after.liquidation_price > before.liquidation_price  # a short: further up
    assert after.distance_to_liquidation_pct > before.distance_to_liquidation_pct
    assert after.margin_level > before.margin_level


def test_add_margin_to_cross_position_is_not_supported():
    with pytest.raises(NotSupported, match="cross"):
        whatif.add_isolated_margin(ACCOUNT, PRICES, RULES, "L", D(1000))
    with pytest.raises(NotSupported):
        whatif.add_isolated_margin(ACCOUNT, PRICES, RULES, "gone", D(1000))


def test_partial_close_realises_a_share_and_keeps_entry():
    result = whatif.partial_close(ACCOUNT, PRICES, RULES, "L", D("0.25"), D("0.0026"))
    assert result.realized_pnl == D(-250)  # a quarter of -1,000
    assert result.fees == D("0.0026") * D("0.25") * 19000
    assert result.net_realized == result.realized_pnl - result.fees
    after = result.position_after
    assert after.entry_price == 20000 and after.remaining_volume == D("0.75")
    assert after.position.cost == 15000 and after.position.margin == 3000
    assert result.account.trade_balance == 10000 + result.net_realized
    # Equity only loses the fee; used margin loses a quarter of the long's 4,000.
    base = margin.account_figures(ACCOUNT.balance, ACCOUNT.positions, PRICES, RULES)
    assert result.account.equity == base.equity - result.fees
    assert result.account.used_margin == base.used_margin - 1000


def test_full_close_removes_the_position():
    result = whatif.partial_close(ACCOUNT, PRICES, RULES, "L", D(1), D(0))
    assert result.position_after is None
    with pytest.raises(InvalidAmount):
        whatif.partial_close(ACCOUNT, PRICES, RULES, "L", D("1.1"), D(0))


def test_partial_close_of_isolated_returns_freed_allocation():
    result = whatif.partial_close(ACCOUNT, PRICES, RULES, "I", D("0.5"), D(0))
    assert result.realized_pnl == D(500)  # short from 20,000 at 19,000: half of +1,000
    assert result.account.trade_balance == 10000 + 500 + 2000
    assert result.position_after.position.allocated_margin == 2000
    assert result.position_after.margin_level == margin.isolated_margin_level(
        ACCOUNT.positions[2], D(19000)
    )  # everything scales: the level is unchanged


def test_settle_keeps_equity_and_frees_margin():
    base = margin.account_figures(ACCOUNT.balance, ACCOUNT.positions, PRICES, RULES)
    after = whatif.settle(ACCOUNT, PRICES, RULES, "S")
    assert after.equity == base.equity
    assert after.used_margin == base.used_margin - margin.used_margin(ACCOUNT.positions[1], D(2100))
    with pytest.raises(NotSupported):
        whatif.settle(ACCOUNT, PRICES, RULES, "I")


def test_required_deposit_reaches_the_target_exactly():
    target = D(300)
    amount = whatif.required_deposit(ACCOUNT, PRICES, RULES, target)
    assert amount > 0
    assert whatif.deposit(ACCOUNT, PRICES, RULES, amount).margin_level == target
    assert whatif.required_deposit(ACCOUNT, PRICES, RULES, D(50)) == 0
    assert whatif.required_deposit(state("100"), {}, RULES, D(500)) == 0  # no margin used


def test_required_close_volume_reaches_the_target():
    target, fee = D(150), D("0.0026")  # from 97.6%
    vol = whatif.required_close_volume(ACCOUNT, PRICES, RULES, "L", target, fee)
    assert D(0) < vol < 1
    after = whatif.partial_close(ACCOUNT, PRICES, RULES, "L", vol, fee).account
    assert abs(after.margin_level - target) < D("1e-20")
    assert whatif.required_close_volume(ACCOUNT, PRICES, RULES, "L", D(50)) == 0
    assert whatif.required_close_volume(ACCOUNT, PRICES, RULES, "L", D(100000)) is None


def test_required_close_volume_of_the_only_position_approaches_all_of_it():
    st = state("1000", pos("L"))  # level 25%; closing it all would leave no used margin
    vol = whatif.required_close_volume(st, {BTC: D(20000)}, RULES, "L", D(10**6))
    assert D("0.99") < vol < 1
    after = whatif.partial_close(st, {BTC: D(20000)}, RULES, "L", vol, D(0)).account
    assert abs(after.margin_level - 10**6) < D("1e-15")


def test_required_close_volume_isolated_does_not_move_its_level():
    assert whatif.required_close_volume(ACCOUNT, PRICES, RULES, "I", D(50)) == 0
    assert whatif.required_close_volume(ACCOUNT, PRICES, RULES, "I", D(500)) is None


def test_time_to_margin_call_from_rollovers():
    # Level 100% on a 1x long: room above the 80% call = 20,000 - 16,000 = 4,000;
    # rollover 0.01% of 20,000 = 2 per 4 h -> 2,000 marks; the next is 1 h away (opened 3 h ago).
    st = state("20000", pos("L", lev="1", opened=NOW - timedelta(hours=3)))
    got = whatif.time_to_margin_call(st, {BTC: D(20000)}, RULES, NOW)
    assert got == timedelta(hours=1) + timedelta(hours=4) * 1999


def test_time_to_margin_call_with_staggered_positions():
    # Two positions, charges 2 (mark in 1 h) and 3 (mark in 2 h); room 4 -> 2, then 2+3 = 5 >= 4.
    a = pos("A", lev="1", opened=NOW - timedelta(hours=3))
    b = pos("B", pair=ETH, vol="15", entry="2000", lev="1", opened=NOW - timedelta(hours=2))
    used = D(20000) + D(30000)
    st = state(str(D("0.8") * used + 4 - 0), a, b)  # equity = tb at flat prices
    got = whatif.time_to_margin_call(st, {BTC: D(20000), ETH: D(2000)}, RULES, NOW)
    assert got == timedelta(hours=2)


def test_time_to_margin_call_none_when_never_or_already():
    flat = state("1000")
    assert whatif.time_to_margin_call(flat, {}, RULES, NOW) is None
    no_terms = state("20000", pos("L", rollover_terms=""))
    assert whatif.time_to_margin_call(no_terms, {BTC: D(20000)}, RULES, NOW) is None
    already = state("1000", pos("L"))  # 25% < 80%
    assert whatif.time_to_margin_call(already, {BTC: D(20000)}, RULES, NOW) is None
