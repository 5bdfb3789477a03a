"""Margin costs: terms parsing, rollover schedule, accrued fees, projections, break-even."""

import functools
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from kraken_monitor.domain import costs, margin
from kraken_monitor.domain.errors import InvalidAmount, InvalidTerms
from kraken_monitor.domain.models import AccountState, Balance, Side
from kraken_monitor.testing import builders

OPENED = datetime(2026, 2, 1, 8, 0, tzinfo=timezone.utc)
TERMS = "0.0100% per 4 hours"


# P: 1 BTC long at 20,000 (cost 20,000), 5x (margin 4,000), a 52 USD trading fee
pos = functools.partial(builders.position, "P", opened=OPENED, trading_fee=D("52"), rollover_terms=TERMS)


@pytest.mark.parametrize(
    ("terms", "rate"),
    [
        ("0.0100% per 4 hours", D("0.0001")),
        ("0.02% per 4 hours", D("0.0002")),
        ("  0.0150 % PER 4 HOURS ", D("0.00015")),
        ("0% per 4 hours", D(0)),
    ],
)
def test_parse_terms(terms, rate):
    assert costs.parse_terms(terms) == rate


@pytest.mark.parametrize("terms", ["", "0.01 per 4 hours", "0.01% per day", "-0.01% per 4 hours", "abc", "NaN%"])
def test_unparseable_terms_raise_readable_error(terms):
    with pytest.raises(InvalidTerms, match="per 4 hours"):
        costs.parse_terms(terms)


def test_position_without_terms_has_no_rollover_but_bad_terms_raise():
    assert costs.rollover_rate(pos(rollover_terms="")) == 0
    with pytest.raises(InvalidTerms):
        costs.accrued_fees(pos(rollover_terms="1% weekly"), OPENED)


@pytest.mark.parametrize(
    ("elapsed", "charged"),
    [
        (timedelta(0), 0),
        (timedelta(hours=3, minutes=59, seconds=59), 0),
        (timedelta(hours=4), 1),  # the rollover is charged AT the 4 h mark
        (timedelta(hours=4, seconds=1), 1),
        (timedelta(hours=7, minutes=59), 1),
        (timedelta(hours=8), 2),
        (timedelta(days=1), 6),
        (timedelta(hours=-5), 0),  # clock skew: never negative
    ],
)
def test_rollovers_charged_one_per_started_period_after_the_first(elapsed, charged):
    assert costs.rollovers_charged(OPENED, OPENED + elapsed) == charged


def test_naive_and_aware_times_give_a_domain_error():
    with pytest.raises(InvalidAmount, match="time zone"):
        costs.rollovers_charged(OPENED, datetime(2026, 2, 2))


def test_opening_fee_is_rate_times_full_cost_or_the_reported_one():
    assert costs.opening_fee(pos()) == D(2)  # 0.01% of 20,000: collateral not deducted
    assert costs.opening_fee(pos(opening_fee=D("1.5"))) == D("1.5")


def test_accrued_fees_after_4h00m01s():
    now = OPENED + timedelta(hours=4, seconds=1)
    # trading fee 52 + opening fee 2 + one rollover 2
    assert costs.accrued_fees(pos(), now) == D(56)
    # Net P&L is after the estimated closing fee at the taker rate: 0.40 % of 20,100 = 80.40.
    assert costs.net_pnl(pos(), D(20100), now) == D(100) - D(56) - D("80.4")
    assert costs.net_pnl(pos(), D(20100), now, close_fee_rate=D("0.001")) == D(100) - D(56) - D("20.1")
    assert costs.net_pnl(pos(), D(20100), now, close_fee_rate=D(0)) == D(100) - D(56)


def test_pnl_breakdown_is_net_pnl_term_by_term():
    now = OPENED + timedelta(hours=9)  # two rollover marks (+4 h, +8 h) of 0.01 % of 20,000 = 2 each
    whole = costs.pnl_breakdown(pos(), D(21000), now, currency="USD")
    assert (whole.unrealized, whole.trading_fee, whole.opening_fee) == (D(1000), D(52), D(2))
    assert (whole.rollovers, whole.rollover_count) == (D(4), 2)
    assert whole.closing_fee == D("84.0")  # 0.40 % of 21,000
    assert whole.net == D(1000) - 52 - 2 - 4 - D(84) == costs.net_pnl(pos(), D(21000), now)
    # Closing half takes half of every fee charged so far and pays the closing fee on half the value;
    # at 0.9 EUR per USD every term is 0.9 times as large.
    half = costs.pnl_breakdown(pos(), D(21000), now, D("0.9"), "EUR", costs.MAKER_FEE_RATE, D("0.5"))
    assert half.currency == "EUR" and half.closing_fee_rate == D("0.0025")
    assert (half.unrealized, half.trading_fee, half.opening_fee, half.rollovers) == (D(450), D("23.4"), D("0.9"), D("1.8"))
    assert half.closing_fee == D("0.0025") * 10500 * D("0.9") == D("23.625")
    assert half.net == D(450) - D("23.4") - D("0.9") - D("1.8") - D("23.625")
    short = costs.pnl_breakdown(pos(side=Side.SHORT), D(21000), now)
    assert short.unrealized == D(-1000) and short.net == costs.net_pnl(pos(side=Side.SHORT), D(21000), now)
    with pytest.raises(InvalidAmount, match="Share"):
        costs.pnl_breakdown(pos(), D(21000), now, share=D(0))


def test_projected_cost_counts_marks_in_the_window():
    assert costs.projected_cost(pos(), OPENED, 24) == 6 * D(2)
    assert costs.projected_cost(pos(), OPENED + timedelta(hours=3), 2) == D(2)  # mark at +4 h
    assert costs.projected_cost(pos(), OPENED + timedelta(hours=4), 3) == 0  # mark at +8 h is outside
    assert costs.projected_cost(pos(rollover_terms=""), OPENED, 24) == 0


def test_break_even_long_and_short_zero_net_pnl():
    now = OPENED + timedelta(hours=9)  # fees 52 + 2 + 2 * 2 = 58
    for side in (Side.LONG, Side.SHORT):
        p = pos(side=side)
        for c in (D(0), D("0.0026")):
            be = costs.break_even_price(p, now, c)
            assert abs(costs.net_pnl(p, be, now, c)) < D("1e-20")
    assert costs.break_even_price(pos(), now, D(0)) == D(20058)
    assert costs.break_even_price(pos(side=Side.SHORT), now, D(0)) == D(19942)
    # By default the closing fee at the taker rate is in too: P = (20,000 + 58) / (1 - 0.004) for the
    # long, (20,000 - 58) / (1 + 0.004) for the short (the docstring's formulas).
    assert costs.break_even_price(pos(), now) == D(20058) / D("0.996")
    assert costs.break_even_price(pos(side=Side.SHORT), now) == D(19942) / D("1.004")


def test_short_that_cannot_break_even_reports_zero():
    assert costs.break_even_price(pos(side=Side.SHORT, trading_fee=D(30000)), OPENED) == 0


def test_close_fee_rate_validated():
    with pytest.raises(InvalidAmount):
        costs.break_even_price(pos(), OPENED, D(1))


def test_compute_uses_the_same_cost_figures():
    now = OPENED + timedelta(hours=13)
    p = pos(next_rollover=None)
    _, (pf,) = margin.compute(
        AccountState(
            Balance("USD", D(10000)),
            (p,),
            now,
        ),
        {"BTC/USD": D(21000)},
        {},
        now,
    )
    assert pf.fees == costs.accrued_fees(p, now) == D(52 + 2 + 3 * 2)
    assert pf.break_even_price == costs.break_even_price(p, now)
    assert pf.projected_cost_24h == costs.projected_cost(p, now)
    assert pf.next_rollover == OPENED + timedelta(hours=16)
    assert pf.net_pnl == costs.net_pnl(p, D(21000), now)
    reported = OPENED + timedelta(hours=15, minutes=30)
    _, (pf2,) = margin.compute(
        AccountState(
            Balance("USD", D(10000)),
            (replace(p, next_rollover=reported),),
            now,
        ),
        {"BTC/USD": D(21000)},
        {},
        now,
    )
    assert pf2.next_rollover == reported  # Kraken's rollovertm wins when reported
