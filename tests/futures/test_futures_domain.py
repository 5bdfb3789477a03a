"""Futures figures with worked numbers: a cross book, an isolated position at 5x, a refused leverage change."""

from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures import (
    FlexAccount,
    FuturesPosition,
    account_figures,
    book_figures,
    margin_level,
)
from kraken_monitor.domain.futures_liquidation import (
    FuturesContract,
    MarginTier,
    Refusal,
    isolated_liquidation_price,
    preview_leverage_change,
)
from kraken_monitor.domain.models import MarginMode, Risk, Side

D = Decimal
CENT = D("0.01")
TIERS = (MarginTier(D(0), D("0.02"), D("0.01")), MarginTier(D(500000), D("0.04"), D("0.02")))
BTC = FuturesContract("BTC/USD:USD", "PF_XBTUSD", TIERS, D("0.5"))
ETH = FuturesContract("ETH/USD:USD", "PF_ETHUSD", TIERS, D("0.1"))
CONTRACTS = {BTC.symbol: BTC, ETH.symbol: ETH}
T = AlertThresholds()


def cents(value):
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def flex(equity, maintenance, collateral=D(10000), available=D(0)):
    return FlexAccount(margin_equity=equity, initial_margin=D(0), maintenance_margin=maintenance,
                       available_margin=available, portfolio_value=equity, collateral_value=collateral)


def test_margin_level_is_kraken_margin_equity_over_maintenance_margin():
    # 540 / 360 x 100 = 150 %: below the warning line 160 % (100 + 40 + 20), above critical 140 %.
    figures = account_figures(flex(D(540), D(360)), T)
    assert figures.margin_level == D(150)
    assert figures.risk is Risk.WARNING
    assert account_figures(flex(D(360), D(360)), T).risk is Risk.LIQUIDATION  # 100 %: Kraken liquidates
    assert margin_level(flex(D(1000), D(0))) is None  # no positions: nothing to liquidate


def test_cross_book_liquidation_prices_each_with_the_other_mark_held():
    # Collateral 10000 USD. Long 0.5 BTC from 58000 (mark 60000), short 2 ETH from 3100 (mark 3000), both cross,
    # tier 1 (maintenance 1 %). Kraken's flex: equity 10000 + 1000 + 200 = 11200, maintenance 300 + 60 = 360.
    positions = [
        FuturesPosition("b", BTC.symbol, Side.LONG, D("0.5"), D(58000), MarginMode.CROSS),
        FuturesPosition("e", ETH.symbol, Side.SHORT, D(2), D(3100), MarginMode.CROSS),
    ]
    marks = {BTC.symbol: D(60000), ETH.symbol: D(3000)}
    account, (btc, eth) = book_figures(flex(D(11200), D(360)), positions, marks, CONTRACTS, T)
    # 11200 / 360 x 100 = 3111.11 %
    assert cents(account.margin_level) == D("3111.11")
    # BTC: pool without BTC's P&L C' = 10000 + ETH's +200 = 10200; ETH's maintenance 2 x 3000 x 1 % = 60.
    # 10200 + 0.5 (L - 58000) = 60 + 0.5 L 0.01  ->  L = (60 - 10200 + 29000) / (0.5 x 0.99) = 18860 / 0.495
    assert cents(btc.liquidation_price) == cents(D(18860) / D("0.495")) == D("38101.01")
    assert btc.liquidation_price_source == "estimate"
    # distance (60000 - 38101.01) / 60000 = 36.50 %: beyond every alert line
    assert cents(btc.distance_to_liquidation_pct) == D("36.50") and btc.risk is Risk.OK
    # ETH: C' = 10000 + BTC's +1000 = 11000; BTC's maintenance 0.5 x 60000 x 1 % = 300.
    # 11000 - 2 (L - 3100) = 300 + 2 L 0.01  ->  L = (11000 + 6200 - 300) / (2 x 1.01) = 16900 / 2.02
    assert cents(eth.liquidation_price) == D("8366.34")
    # unrealized P&L from the marks (Kraken left unrealizedPnl out): 0.5 x 2000 = 1000, 2 x 100 = 200
    assert (btc.unrealized_pnl, eth.unrealized_pnl) == (D(1000), D(200))


def test_isolated_position_at_5x_is_ring_fenced():
    # Long 1 BTC from 50000 at 5x: allocated 50000 / 5 = 10000. Maintenance rate 1 % (notional < 500k).
    # 10000 + (L - 50000) = 0.01 L  ->  L = 40000 / 0.99 = 40404.04; mark 52000 -> distance 22.30 % -> watch.
    # Unrealized funding -12.5 counts in net P&L: 2000 - 12.5 = 1987.5.
    p = FuturesPosition("i", BTC.symbol, Side.LONG, D(1), D(50000), MarginMode.ISOLATED, leverage=D(5),
                        unrealized_funding=D("-12.5"))
    cross_loser = FuturesPosition("c", ETH.symbol, Side.LONG, D(10), D(3100), MarginMode.CROSS)
    marks = {BTC.symbol: D(52000), ETH.symbol: D(1000)}  # a cross position deep in loss does not move it
    _, (iso, _cross) = book_figures(flex(D(100), D(620)), [p, cross_loser], marks, CONTRACTS, T)
    assert iso.allocated_margin == D(10000)
    assert cents(iso.liquidation_price) == D("40404.04")
    assert cents(iso.distance_to_liquidation_pct) == D("22.30") and iso.risk is Risk.WATCH
    assert iso.net_pnl == D("1987.5")


def test_exchange_liquidation_threshold_wins_and_zero_means_not_available():
    p = FuturesPosition("i", BTC.symbol, Side.LONG, D(1), D(50000), MarginMode.ISOLATED, leverage=D(5),
                        liquidation_threshold=D(41000))
    _, (row,) = book_figures(flex(D(1), D(1)), [p], {BTC.symbol: D(52000)}, CONTRACTS, T)
    assert (row.liquidation_price, row.liquidation_price_source) == (D(41000), "exchange")
    zero = FuturesPosition("i", BTC.symbol, Side.LONG, D(1), D(50000), MarginMode.ISOLATED, leverage=D(5),
                           liquidation_threshold=D(0))
    _, (row,) = book_figures(flex(D(1), D(1)), [zero], {BTC.symbol: D(52000)}, CONTRACTS, T)
    assert row.liquidation_price_source == "estimate"


def test_isolated_estimate_uses_the_tier_at_the_liquidation_price():
    # Long 12 BTC from 50000 at 5x, mark 45000: notional 540000 is tier 2 (2 %), allocated 600000 / 5 = 120000.
    # Tier 2: L = (600000 - 120000) / (12 x 0.98) = 40816.33, notional 489796 < 500000 -> tier 1 applies there:
    # L = 480000 / (12 x 0.99) = 40404.04 (notional 484848, still tier 1: consistent).
    price = isolated_liquidation_price(Side.LONG, D(12), D(50000), D(120000), D(45000), BTC)
    assert cents(price) == D("40404.04")


def test_a_raise_of_leverage_that_would_liquidate_is_refused_like_kraken_error_41():
    # Short 2 ETH from 3100 at 5x (allocated 1240), mark 3500: P&L 2 x (3100 - 3500) = -800.
    # 10x: allocated 620; 620 - 800 = -180 <= maintenance 2 x 3500 x 1 % = 70 -> refused, nothing changes.
    preview = preview_leverage_change(Side.SHORT, D(2), D(3100), D(3500), D(1240), D(10), D(1000), ETH)
    assert preview.refusal is Refusal.WOULD_CAUSE_LIQUIDATION and not preview.allowed
    assert preview.available_margin == D(1000)


def test_lower_leverage_moves_margin_in_and_needs_available_margin():
    # Same short at 4x: allocated 6200 / 4 = 1550, +310 from available 1000 -> 690 left.
    # New liquidation: (2 x 3100 + 1550) / (2 x 1.01) = 7750 / 2.02 = 3836.63.
    preview = preview_leverage_change(Side.SHORT, D(2), D(3100), D(3500), D(1240), D(4), D(1000), ETH)
    assert preview.allowed
    assert (preview.allocated_margin, preview.margin_change, preview.available_margin) == (D(1550), D(310), D(690))
    assert cents(preview.liquidation_price) == D("3836.63")
    # 2x: allocated 3100, +1860 > available 1000 -> insufficient margin
    assert preview_leverage_change(Side.SHORT, D(2), D(3100), D(3500), D(1240), D(2), D(1000), ETH).refusal \
        is Refusal.INSUFFICIENT_MARGIN
    # 60x is above the tier's maximum 1 / 2 % = 50x
    assert preview_leverage_change(Side.SHORT, D(2), D(3100), D(3500), D(1240), D(60), D(1000), ETH).refusal \
        is Refusal.ABOVE_MAXIMUM


@pytest.mark.parametrize("missing", ["mark", "contract"])
def test_a_missing_mark_or_contract_is_an_error_not_a_guess(missing):
    p = FuturesPosition("b", BTC.symbol, Side.LONG, D(1), D(50000), MarginMode.CROSS)
    marks = {} if missing == "mark" else {BTC.symbol: D(1)}
    contracts = CONTRACTS if missing == "mark" else {}
    with pytest.raises(KeyError):
        book_figures(flex(D(1), D(1)), [p], marks, contracts, T)


def test_refusal_and_preview_sentences_use_the_formatter():
    from kraken_monitor.text.futures import preview_message, refusal_message
    from kraken_monitor.text.numbers import fmt_money

    refused = preview_leverage_change(Side.SHORT, D(2), D(3100), D(3500), D(1240), D(10), D(1000), ETH)
    assert "would cause liquidation (error 41)" in refusal_message(refused)
    short = preview_leverage_change(Side.SHORT, D(2), D(3100), D(3500), D(1240), D(2), D(1000), ETH)
    assert fmt_money(D(1860), "USD") in refusal_message(short)  # the 1860 the 2x change needs
    fine = preview_leverage_change(Side.SHORT, D(2), D(3100), D(3500), D(1240), D(4), D(1000), ETH)
    assert refusal_message(fine) is None
    text = preview_message(fine)
    assert "adds " + fmt_money(D(310), "USD") in text and fmt_money(D(690), "USD") in text
