"""Paper margin account: Kraken's fees, rollovers, FIFO liquidation, isolated margin, reduce-only, persistence."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kraken_monitor.domain import margin
from kraken_monitor.domain import paper_account as pa
from kraken_monitor.domain.alerts import AlertThresholds, classify_account, classify_position
from kraken_monitor.domain.demo_book import demo_portfolio
from kraken_monitor.domain.errors import NotSupported, UnknownRate
from kraken_monitor.domain.models import AccountState, MarginMode, PairRules, Risk, Side
from kraken_monitor.domain.paper_account import (
    InsufficientMargin,
    PaperAccount,
    ReduceOnlyViolation,
    UnknownPosition,
)

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=timezone.utc)
D = Decimal


def rules_for(*pairs):
    return {
        p: PairRules(p, p.split("/")[0], "USD", D("80"), D("40"), (2, 3, 4, 5), (2, 3, 4, 5), 2, 8)
        for p in pairs
    }


RULES = rules_for("BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD")


def free_account(balance="12000"):
    """No fees, so liquidation arithmetic is easy to follow."""
    return PaperAccount.funded(D(balance), fee_rate=D(0))


def three_longs():
    """ETH oldest, then BTC, then SOL; 11,000 used margin on 12,000 collateral (109%)."""
    a = free_account()
    a = a.open_position("ETH/USD", Side.LONG, D("10"), D("2000"), 5, T0, terms="")
    a = a.open_position("BTC/USD", Side.LONG, D("0.5"), D("50000"), 5, T0 + timedelta(days=1), terms="")
    a = a.open_position("SOL/USD", Side.LONG, D("100"), D("100"), 5, T0 + timedelta(days=2), terms="")
    return a.drain_events()[0]


def test_opening_charges_trading_fee_and_margin_opening_fee():
    a = PaperAccount.funded(D("10000"))  # taker 0.40%
    a = a.open_position("BTC/USD", Side.LONG, D("0.5"), D("50000"), 2, T0, terms="0.0200% per 4 hours")
    p = a.positions[0]
    assert (p.cost, p.margin, p.trading_fee, p.opening_fee) == (D("25000.0"), D("12500"), D("100"), D("5"))
    assert a.balance == D("9895")  # 10,000 - 100 trading fee - 5 opening fee
    assert p.next_rollover == T0 + timedelta(hours=4)
    assert [(e.kind, e.amount) for e in a.events] == [("opened", D("-105"))]


def test_rollover_charged_every_4_hours_exactly_once():
    a = PaperAccount.funded(D("10000")).open_position(
        "BTC/USD", Side.LONG, D("0.5"), D("50000"), 2, T0, terms="0.0200% per 4 hours"
    )
    after_open = a.balance
    assert a.charge_rollovers(T0 + timedelta(hours=3, minutes=59, seconds=59)).balance == after_open
    b = a.charge_rollovers(T0 + timedelta(hours=4))
    assert b.balance == after_open - D("5")  # 0.02% of 25,000 cost
    c = b.charge_rollovers(T0 + timedelta(hours=12, minutes=30))
    assert c.balance == after_open - D("15")
    assert c.positions[0].next_rollover == T0 + timedelta(hours=16)
    assert c.charge_rollovers(T0 + timedelta(hours=12, minutes=31)).balance == c.balance  # never twice
    assert [e.amount for e in c.events if e.kind == "rollover"] == [D("-5"), D("-10")]


def test_crash_liquidates_oldest_cross_position_first_and_only_as_many_as_needed():
    a = three_longs()
    # BTC crashes to 34,000: equity 4,000 / used 11,000 = 36% <= 40% stop.
    after = a.apply_until(T0 + timedelta(days=2), {"ETH/USD": D("2000"), "BTC/USD": D("34000"), "SOL/USD": D("100")}, RULES)
    # FIFO: the untouched ETH long goes, not the losing BTC; 4,000 / 7,000 = 57% is above the stop.
    assert [p.pair for p in after.positions] == ["BTC/USD", "SOL/USD"]
    assert [e.kind for e in after.events] == ["liquidation", "margin_call"]
    assert after.margin_call_active


def test_deeper_crash_keeps_liquidating_in_fifo_order_until_above_the_stop():
    a = three_longs()
    after = a.apply_until(T0 + timedelta(days=2), {"ETH/USD": D("2000"), "BTC/USD": D("31000"), "SOL/USD": D("100")}, RULES)
    assert [p.pair for p in after.positions] == ["SOL/USD"]
    liquidated = [e.pair for e in after.events if e.kind == "liquidation"]
    assert liquidated == ["ETH/USD", "BTC/USD"]
    assert after.balance == D("2500")  # BTC's 9,500 loss realised


def test_no_liquidation_above_the_stop():
    a = three_longs()
    after = a.apply_until(T0 + timedelta(days=2), {"ETH/USD": D("2000"), "BTC/USD": D("35000"), "SOL/USD": D("100")}, RULES)
    assert len(after.positions) == 3  # 40.9% > 40%
    assert [e.kind for e in after.events] == ["margin_call"]


def isolated_book():
    a = free_account("10000").open_position("ETH/USD", Side.LONG, D("1"), D("2000"), 2, T0, terms="")
    a = a.open_position("XRP/USD", Side.LONG, D("1000"), D("2"), 5, T0, margin_mode=MarginMode.ISOLATED)
    return a.drain_events()[0]


def test_isolated_liquidation_loses_only_its_allocated_margin():
    a = isolated_book()
    assert a.balance == D("9600")  # 400 allocated out of the cross balance
    prices = {"ETH/USD": D("2000"), "XRP/USD": D("1.62")}
    assert len(a.apply_until(T0, prices, RULES).positions) == 2  # liquidation price is 1.6161...
    after = a.apply_until(T0, {**prices, "XRP/USD": D("1.60")}, RULES)
    assert [p.pair for p in after.positions] == ["ETH/USD"]  # cross account untouched
    assert after.balance == D("9600")
    assert [(e.kind, e.amount) for e in after.events] == [("isolated_liquidation", D("-400"))]


def test_add_margin_moves_isolated_liquidation_price_away():
    a = isolated_book()
    xrp = a.positions[1]
    before = margin.isolated_liquidation_price(xrp, D("0.01"))
    b = a.add_isolated_margin(xrp.id, D("200"), T0)
    after = margin.isolated_liquidation_price(b.position(xrp.id), D("0.01"))
    assert after < before
    assert b.balance == D("9400")
    assert len(b.apply_until(T0, {"ETH/USD": D("2000"), "XRP/USD": D("1.60")}, RULES).positions) == 2


def test_cross_positions_take_no_added_margin_and_no_mode_switch():
    a = isolated_book()
    with pytest.raises(NotSupported):
        a.add_isolated_margin(a.positions[0].id, D("100"), T0)
    with pytest.raises(NotSupported):
        a.set_margin_mode(a.positions[1].id, MarginMode.CROSS)
    with pytest.raises(InsufficientMargin):
        a.add_isolated_margin(a.positions[1].id, D("100000"), T0)


def test_reduce_only_never_flips():
    a = PaperAccount.funded(D("10000")).open_position("BTC/USD", Side.SHORT, D("0.1"), D("50000"), 2, T0)
    pid = a.positions[0].id
    with pytest.raises(ReduceOnlyViolation):
        a.close_position(pid, D("0.10000001"), D("49000"), T0)
    closed = a.close_position(pid, D("0.1"), D("49000"), T0)
    assert closed.positions == ()
    with pytest.raises(UnknownPosition):
        closed.close_position(pid, D("0.01"), D("49000"), T0)


def test_partial_close_halves_the_position_and_realises_pnl_minus_fee():
    a = PaperAccount.funded(D("10000")).open_position("BTC/USD", Side.LONG, D("0.5"), D("50000"), 2, T0)
    before = a.balance
    pid = a.positions[0].id
    b = a.close_position(pid, D("0.25"), D("52000"), T0 + timedelta(hours=1))
    p = b.position(pid)
    assert (p.remaining_volume, p.volume_closed, p.cost, p.margin) == (D("0.25"), D("0.25"), D("12500.00"), D("6250"))
    assert p.side is Side.LONG
    assert b.balance == before + D("500") - D("52")  # P&L 0.25 x 2,000; fee 0.40% of 13,000


def test_settle_realises_pnl_without_trading_fee():
    a = PaperAccount.funded(D("10000")).open_position("ETH/USD", Side.SHORT, D("2"), D("3000"), 2, T0)
    b = a.settle_position(a.positions[0].id, D("2900"), T0)
    assert b.positions == ()
    assert b.balance == a.balance + D("200")


def test_deposit_and_invalid_amounts():
    a = PaperAccount.funded(D("100")).deposit(D("50.5"), T0)
    assert a.balance == D("150.5")
    with pytest.raises(pa.InvalidAmount):
        a.deposit(D("-1"), T0)
    with pytest.raises(pa.InvalidAmount):
        a.open_position("BTC/USD", Side.LONG, D("1"), D("50000"), 7, T0, rules=RULES)  # 7x not offered


def test_open_refused_below_100_percent_margin_level():
    a = PaperAccount.funded(D("1000"))
    with pytest.raises(InsufficientMargin):
        a.open_position("BTC/USD", Side.LONG, D("0.2"), D("50000"), 5, T0, rules=RULES, prices={})


def test_export_import_round_trips_exactly():
    a = isolated_book().open_position("BTC/USD", Side.SHORT, D("0.3"), D("51000.5"), 3, T0, terms="0.0100% per 4 hours")
    a = a.close_position(a.positions[2].id, D("0.1"), D("50000"), T0 + timedelta(hours=2))
    a = a.charge_rollovers(T0 + timedelta(hours=9))
    text = json.dumps(a.export_state())
    restored = PaperAccount.from_state(json.loads(text))
    assert restored == a
    assert restored.export_state() == a.export_state()
    with pytest.raises(pa.InvalidAmount):
        PaperAccount.from_state({**json.loads(text), "balance": "lots"})


def test_demo_portfolio_starts_at_risk_but_not_liquidated():
    prices = {"BTC/USD": D("87959.9"), "ETH/USD": D("2920.50"), "SOL/USD": D("138.09"), "XRP/USD": D("2.23732")}
    now = datetime(2026, 2, 5, 12, tzinfo=timezone.utc)
    a = demo_portfolio(prices, now)
    assert {p.pair for p in a.positions} == set(prices)
    assert sum(e.kind == "rollover" for e in a.events) >= 3  # opened days ago: rollovers accrued
    settled = a.apply_until(now, prices, RULES)
    # No EUR/USD or ETH/BTC price: ETH/BTC and ETH/EUR are left out; 5 rows (BTC/USD twice, ETH, SOL, XRP).
    assert len(settled.positions) == 5
    assert not [e for e in settled.events if "liquidation" in e.kind]
    t = AlertThresholds()
    account, figures = margin.compute(AccountState(settled.trade_balance(), settled.positions, now), prices, RULES, now)
    account_risk = classify_account(account, t)
    position_risks = {pf.position.pair: classify_position(pf, t) for pf in figures}
    assert max(account_risk, *position_risks.values()) >= Risk.WATCH
    # The account is watched but not yet called; the isolated XRP long is clearly in danger.
    assert account.margin_call_level < account.margin_level <= account.margin_call_level + t.watch_above_call_pp
    assert position_risks["XRP/USD"] >= Risk.WARNING


# -- other quote currencies (issue 11 item 7) ---------------------------------------------------


def test_btc_quoted_position_books_its_cash_flows_in_the_account_currency():
    # USD account, 10,000 USD. Open 10 ETH on ETH/BTC at 0.05 BTC, 2x, fee 0.4 %, no margin fees:
    # cost 0.5 BTC, margin 0.25 BTC, trading fee 0.002 BTC -- in BTC on the position, as Kraken reports it.
    # The fee leaves the USD balance at BTC/USD 60,000: 0.002 * 60,000 = 120 USD.
    a = PaperAccount.funded(D("10000"), fee_rate=D("0.004"))
    a = a.open_position("ETH/BTC", Side.LONG, D("10"), D("0.05"), 2, T0, terms="",
                        prices={"BTC/USD": D("60000")})
    p = a.positions[0]
    assert (p.cost, p.margin, p.trading_fee) == (D("0.5"), D("0.25"), D("0.002"))
    assert a.balance == D("9880")
    # Close all at 0.06 BTC with BTC/USD at 50,000: P&L 10 * 0.06 - 0.5 = 0.1 BTC = 5,000 USD;
    # closing fee 0.004 * 0.6 = 0.0024 BTC = 120 USD. Balance 9,880 + 5,000 - 120 = 14,760.
    a = a.close_position(p.id, D("10"), D("0.06"), T0 + timedelta(hours=1), prices={"BTC/USD": D("50000")})
    assert a.balance == D("14760") and a.positions == ()
    closed = [e for e in a.events if e.kind == "closed"][0]
    assert closed.amount == D("4880")  # P&L - fee, in USD


def test_a_cash_flow_without_its_fx_rate_is_refused_not_guessed():
    a = PaperAccount.funded(D("10000"))
    with pytest.raises(UnknownRate, match="EUR/USD"):
        a.open_position("ETH/EUR", Side.LONG, D("1"), D("2500"), 2, T0, prices={"ETH/EUR": D("2500")})


def test_demo_book_holds_eur_and_btc_quoted_positions_in_the_watch_band():
    from kraken_monitor.exchange.demo_market import DemoMarket

    market = DemoMarket(seed=7)
    prices, rules = market.last_prices(), market.pair_rules()
    now = datetime(2026, 2, 5, 12, tzinfo=timezone.utc)
    a = demo_portfolio(prices, now).apply_until(now, prices, rules)
    assert {p.pair.split("/")[1] for p in a.positions} == {"USD", "BTC", "EUR"}
    assert not [e for e in a.events if "liquidation" in e.kind]
    account, figures = margin.compute(AccountState(a.trade_balance(), a.positions, now), prices, rules, now)
    assert not account.unknown and account.fx_sensitivity is not None
    assert set(account.fx_sensitivity.currencies) == {"BTC", "EUR"}
    t = AlertThresholds()
    assert account.margin_call_level + t.warning_above_call_pp < account.margin_level  # above warning: watch
    assert account.margin_level <= account.margin_call_level + t.watch_above_call_pp
    by_quote = {pf.position.pair: pf.quote_currency for pf in figures}
    assert by_quote["ETH/BTC"] == "BTC" and by_quote["ETH/EUR"] == "EUR"
