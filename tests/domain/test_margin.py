"""Margin engine against Kraken's worked examples, its API examples, and the edge cases."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest

from kraken_monitor.domain import margin
from kraken_monitor.domain.errors import DomainError, InvalidAmount
from kraken_monitor.domain.models import (
    AccountState,
    Balance,
    MarginMode,
    PairRules,
    Position,
    Side,
)
from kraken_monitor.testing import builders

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
BTC = "BTC/USD"
ETH = "ETH/USD"


pos = builders.position  # P1: 1 BTC long at 20,000, 5x, opened at NOW


def rules(pair=BTC, call="80", stop="40", rate="0.01"):
    return PairRules(pair, pair.split("/")[0], "USD", D(call), D(stop), maintenance_rate=D(rate))


def state(tb, *positions):
    return AccountState(Balance("USD", D(tb)), tuple(positions), NOW)


# -- Kraken support worked examples (203325763, 203053156) -------------------------------------


def test_long_margin_call_price_is_13200_exactly():
    long = pos()
    balance = Balance("USD", D(10000))
    acc = margin.account_figures(balance, [long], {BTC: D(20000)}, {BTC: rules()})
    assert acc.used_margin == 4000 and acc.margin_level == 250
    assert margin.cross_trigger_price(balance, [long], {BTC: D(20000)}, BTC, D(80)) == D(13200)
    # The solve is exact from any starting price: equity and used margin are linear in the price.
    assert margin.cross_trigger_price(balance, [long], {BTC: D(17777)}, BTC, D(80)) == D(13200)
    # Closed form from the reference: P = E - (TB - x*M) / V
    assert D(20000) - (D(10000) - D("0.8") * 4000) / 1 == 13200


def test_short_at_65200_has_equity_1960_used_2608_level_75_15():
    short = pos(side=Side.SHORT, vol="0.2", entry="50000")
    acc = margin.account_figures(Balance("USD", D(5000)), [short], {BTC: D(65200)}, {})
    assert acc.equity == 1960
    assert acc.used_margin == 2608
    assert round(acc.margin_level, 2) == D("75.15")
    assert str(acc.margin_level).startswith("75.153")
    assert margin.used_margin(short, D(50000)) == 2000  # level 250% at open
    assert margin.account_figures(Balance("USD", D(5000)), [short], {BTC: D(50000)}, {}).margin_level == 250


def test_short_trigger_matches_closed_form():
    short = pos(side=Side.SHORT, vol="0.2", entry="50000")
    got = margin.cross_trigger_price(Balance("USD", D(5000)), [short], {BTC: D(65200)}, BTC, D(80))
    closed_form = (D(5000) + D("0.2") * 50000) / (D("0.2") * (1 + D("0.8") / 5))
    assert got == closed_form
    acc = margin.account_figures(Balance("USD", D(5000)), [short], {BTC: got}, {})
    assert abs(acc.margin_level - 80) < D("1e-20")


def test_trade_balance_identity_from_kraken_docs():
    result = json.loads((FIXTURES / "kraken_docs_TradeBalance_example.json").read_text())["response"]["result"]
    tb, n, m = D(result["tb"]), D(result["n"]), D(result["m"])
    # One long whose unrealised P&L is n and whose used margin is m reproduces e, mf and ml.
    cost = D(100)
    p = Position("T", BTC, Side.LONG, D(1), D(0), cost, m, NOW)
    acc = margin.account_figures(Balance("USD", tb), [p], {BTC: cost + n}, {})
    assert acc.equity == D(result["e"])
    assert acc.free_margin == D(result["mf"])
    assert round(acc.margin_level, 2) == D(result["ml"]) == D("5432.57")


def _doc_positions():
    raw = json.loads((FIXTURES / "kraken_docs_OpenPositions_example.json").read_text())["response"]["result"]
    out = []
    for txid, r in raw.items():
        out.append((Position(
            id=txid, pair=BTC, side=Side.LONG if r["type"] == "buy" else Side.SHORT,
            volume=D(r["vol"]), volume_closed=D(r["vol_closed"]), cost=D(r["cost"]),
            margin=D(r["margin"]), opened_at=datetime.fromtimestamp(float(r["time"]), timezone.utc),
            trading_fee=D(r["fee"]), rollover_terms=r["terms"],
            exchange_value=D(r["value"]), exchange_net=D(r["net"]),
        ), r))
    return out


def test_open_positions_docs_example_leverage_and_pnl_match_kraken_net():
    docs = _doc_positions()
    assert len(docs) == 5
    for p, r in docs:
        assert round(margin.leverage(p), 6) == 5
        assert p.remaining_volume == D(r["vol"]) - D(r["vol_closed"])
        # Kraken rounds `value` to 0.1 USD; `net` = value - cost up to that rounding ...
        assert abs(p.exchange_value - p.cost - p.exchange_net) <= D("0.05")
        if p.exchange_value > 0:  # (the 0.0000001 BTC position's value rounds to "0")
            # ... and at that value our P&L is exactly value - cost.
            at_value = margin.unrealized_pnl(p, p.exchange_value / p.remaining_volume)
            assert abs(at_value - (p.exchange_value - p.cost)) < D("1e-18")
        # And one BTC price (30,015.5) reproduces all five `net` figures to their 4 decimals.
        assert abs(margin.unrealized_pnl(p, D("30015.5")) - p.exchange_net) < D("0.002")


# -- account figures and edge cases ------------------------------------------------------------


def test_no_positions_has_no_margin_level_and_default_levels():
    acc, figures = margin.compute(state("1000"), {}, {}, NOW)
    assert figures == ()
    assert acc.used_margin == 0 and acc.margin_level is None
    assert acc.equity == 1000 and acc.free_margin == 1000
    assert (acc.margin_call_level, acc.liquidation_level) == (80, 40)


def test_one_flat_position_has_zero_pnl_and_full_figures():
    p = pos(rollover_terms="0.0100% per 4 hours")
    acc, (pf,) = margin.compute(state("10000", p), {BTC: D(20000)}, {BTC: rules()}, NOW)
    assert pf.unrealized_pnl == 0 and pf.pnl_pct == 0
    assert pf.entry_price == 20000 and pf.leverage == 5 and pf.valuation == 20000
    assert pf.margin_call_price == 13200
    assert pf.liquidation_price == 20000 - (10000 - D("0.4") * 4000)  # 11,600
    assert pf.distance_to_margin_call_pct == 34  # (20000 - 13200) / 20000
    assert pf.margin_level is None  # cross: the account holds it
    assert pf.liquidation_order == 1
    assert pf.fees == D("2")  # opening fee 0.01% of 20,000 at open, no rollover yet
    assert pf.projected_cost_24h == 6 * D("2")
    assert pf.next_rollover == NOW + timedelta(hours=4)


def test_only_isolated_positions_leave_cross_used_margin_zero():
    iso = pos(margin_mode=MarginMode.ISOLATED, allocated_margin=D(4000))
    acc, (pf,) = margin.compute(state("500", iso), {BTC: D(20000)}, {BTC: rules()}, NOW)
    assert acc.used_margin == 0 and acc.margin_level is None and acc.equity == 500
    assert pf.margin_level == 100  # (4000 + 0) / 4000
    assert pf.liquidation_order is None


def test_account_levels_are_the_strictest_of_pairs_held():
    ps = [pos("A"), pos("B", pair=ETH, entry="2000")]
    r = {BTC: rules(BTC, "80", "40"), ETH: rules(ETH, "90", "50"), "XRP/USD": rules("XRP/USD", "99", "99")}
    acc = margin.account_figures(Balance("USD", D(50000)), ps, {BTC: D(20000), ETH: D(2000)}, r)
    assert (acc.margin_call_level, acc.liquidation_level) == (90, 50)


def test_isolated_positions_are_excluded_from_cross_figures():
    cross = pos("C")
    iso = pos("I", side=Side.SHORT, margin_mode=MarginMode.ISOLATED)
    prices = {BTC: D(21000)}
    both = margin.account_figures(Balance("USD", D(10000)), [cross, iso], prices, {})
    alone = margin.account_figures(Balance("USD", D(10000)), [cross], prices, {})
    assert both == alone


def test_cross_trigger_with_several_pairs_holds_other_pairs_constant():
    btc, eth = pos("A"), pos("B", pair=ETH, vol="10", entry="2000", side=Side.SHORT)
    balance, prices = Balance("USD", D(10000)), {BTC: D(20000), ETH: D(2100)}
    trigger = margin.cross_trigger_price(balance, [btc, eth], prices, BTC, D(80))
    moved = margin.account_figures(balance, [btc, eth], {**prices, BTC: trigger}, {})
    assert abs(moved.margin_level - 80) < D("1e-20")
    assert margin.cross_trigger_price(balance, [btc, eth], prices, "XRP/USD", D(80)) is None


def test_hedged_pair_equity_does_not_move_so_zero_level_is_unreachable():
    long, short = pos("A"), pos("B", side=Side.SHORT)
    # Long 1 BTC + short 1 BTC: a = 0, so equity never moves with the price and a - x*b = 0 at x = 0.
    balance = Balance("USD", D(1000))
    assert margin.cross_trigger_price(balance, [long, short], {BTC: D(20000)}, BTC, D(0)) is None
    # The used margin of the short still grows with the price, so 80% is reachable (upwards).
    up = margin.cross_trigger_price(balance, [long, short], {BTC: D(20000)}, BTC, D(80))
    assert up is None or up > 0


def test_unreachable_trigger_is_none():
    # 1x long fully covered by collateral: the 40% level needs a negative price.
    p = pos(lev="1")
    assert margin.cross_trigger_price(Balance("USD", D(30000)), [p], {BTC: D(20000)}, BTC, D(40)) is None


def test_liquidation_order_is_fifo_on_cross_only():
    ps = [
        pos("new", opened=NOW),
        pos("old", opened=NOW - timedelta(days=3), pair=ETH, entry="2000"),
        pos("iso", opened=NOW - timedelta(days=9), margin_mode=MarginMode.ISOLATED),
        pos("mid", opened=NOW - timedelta(days=1)),
    ]
    assert margin.liquidation_order(ps) == {"old": 1, "mid": 2, "new": 3}


def test_distance_signs_mean_room_left():
    assert margin.distance_pct(D(100), D(90), Side.LONG) == 10
    assert margin.distance_pct(D(100), D(110), Side.SHORT) == 10
    assert margin.distance_pct(D(100), D(110), Side.LONG) == -10  # already past it
    assert margin.distance_pct(D(100), None) is None


def test_short_cross_position_distance_is_positive_while_safe():
    short = pos(side=Side.SHORT, vol="0.2", entry="50000")
    _, (pf,) = margin.compute(state("5000", short), {BTC: D(50000)}, {}, NOW)
    assert pf.margin_call_price > 50000 and pf.distance_to_margin_call_pct > 0
    assert pf.liquidation_price > pf.margin_call_price and pf.distance_to_liquidation_pct > 0


# -- isolated (reference section 2) ------------------------------------------------------------


def test_isolated_liquidation_closed_forms():
    long = pos(margin_mode=MarginMode.ISOLATED, allocated_margin=D(4000))
    short = pos(side=Side.SHORT, margin_mode=MarginMode.ISOLATED, allocated_margin=D(4000))
    rate = D("0.01")
    assert margin.isolated_liquidation_price(long, rate) == (20000 - D(4000)) / (1 - rate)
    assert margin.isolated_liquidation_price(short, rate) == (D(4000) + 20000) / (1 + rate)
    # At that price equity = maintenance margin.
    liq = margin.isolated_liquidation_price(long, rate)
    assert abs(4000 + margin.unrealized_pnl(long, liq) - rate * liq) < D("1e-20")


def test_isolated_trigger_is_its_own_account():
    long = pos(margin_mode=MarginMode.ISOLATED, allocated_margin=D(4000))
    # allocated 4,000 at 5x: 80% of 4,000 = 3,200 equity -> price 19,200.
    assert margin.isolated_trigger_price(long, D(80)) == 19200
    assert margin.isolated_margin_level(long, D(19200)) == 80


def test_fully_collateralised_isolated_long_has_no_liquidation_price():
    p = pos(lev="1", margin_mode=MarginMode.ISOLATED, allocated_margin=D(20000))
    assert margin.isolated_liquidation_price(p, D("0.01")) is None


def test_isolated_figures_use_pair_rules():
    p = pos(margin_mode=MarginMode.ISOLATED, allocated_margin=D(4000))
    _, (pf,) = margin.compute(state("0", p), {BTC: D(20000)}, {BTC: rules(call="90", rate="0.02")}, NOW)
    assert pf.margin_call_price == margin.isolated_trigger_price(p, D(90))
    assert pf.liquidation_price == margin.isolated_liquidation_price(p, D("0.02"))
    assert pf.distance_to_liquidation_pct > 0


# -- invalid input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"volume": D(0)},
        {"volume": D(-1)},
        {"volume_closed": D(1)},
        {"cost": D(0)},
        {"margin": D(0)},
        {"cost": D("NaN")},
        {"margin": D("Infinity")},
        {"volume": 1.0},
    ],
)
def test_invalid_positions_raise_readable_invalid_amount(change):
    from dataclasses import replace

    bad = replace(pos(), **change)
    with pytest.raises(InvalidAmount) as err:
        margin.compute(state("1000", bad), {BTC: D(20000)}, {}, NOW)
    assert "P1" in str(err.value)


@pytest.mark.parametrize("price", [D(0), D(-5), D("NaN"), D("-Infinity"), None])
def test_invalid_prices_raise(price):
    prices = {} if price is None else {BTC: price}
    with pytest.raises(InvalidAmount, match="BTC/USD"):
        margin.compute(state("1000", pos()), prices, {}, NOW)


def test_errors_are_value_errors():
    assert issubclass(InvalidAmount, DomainError) and issubclass(DomainError, ValueError)


@pytest.mark.parametrize("text", ["abc", "", "NaN", "inf", 1.5, None, True])
def test_to_decimal_refuses_what_is_not_an_exact_finite_number(text):
    from kraken_monitor.domain.decimals import to_decimal

    with pytest.raises(InvalidAmount, match="Deposit"):
        to_decimal(text, "Deposit")


def test_to_decimal_parses_exchange_strings():
    from kraken_monitor.domain.decimals import to_decimal

    assert to_decimal(" 1,234.50 ", "Deposit", thousands=True) == D("1234.50")
    assert to_decimal("+154186.9728", "net") == D("154186.9728")
    assert to_decimal(7, "Leverage") == 7


def test_engine_precision_ignores_a_callers_global_context():
    import decimal

    long = pos()
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        got = margin.cross_trigger_price(Balance("USD", D("10000.01")), [long], {BTC: D(20000)}, BTC, D(80))
    assert got == D("13199.99")
