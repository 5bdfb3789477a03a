"""Paper / demo futures: Kraken's flex arithmetic and the same refusals as Kraken, on simulated money."""

from decimal import Decimal

import pytest

from kraken_monitor.domain.futures_paper import PaperFuturesBook, PaperFuturesPosition
from kraken_monitor.domain.models import MarginMode, Side
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.errors import Rejected
from kraken_monitor.exchange.paper_futures import PaperFuturesExchange

D = Decimal
BTC, ETH = "BTC/USD:USD", "ETH/USD:USD"


def _paper(marks, collateral=D(10000)):
    book = PaperFuturesBook(collateral, {
        BTC: PaperFuturesPosition(BTC, Side.LONG, D("0.5"), D(58000)),
        ETH: PaperFuturesPosition(ETH, Side.SHORT, D(2), D(3100), D(5)),
    })
    return PaperFuturesExchange(AccountKind.PAPER, lambda: dict(marks), book=book)


def test_flex_figures_follow_krakens_definitions():
    marks = {BTC: D(60000), ETH: D(3000)}
    flex, positions = _paper(marks).fetch_account()
    # P&L 0.5 x 2000 + 2 x 100 = 1200 -> equity 11200.
    # Initial: BTC cross 0.5 x 60000 x 2 % = 600, ETH isolated 2 x 3100 / 5 = 1240 -> 1840; available 9360.
    # Maintenance: 0.5 x 60000 x 1 % + 2 x 3000 x 1 % = 300 + 60 = 360.
    assert (flex.margin_equity, flex.initial_margin, flex.available_margin, flex.maintenance_margin) == (
        D(11200), D(1840), D(9360), D(360))
    assert [p.margin_mode for p in positions] == [MarginMode.CROSS, MarginMode.ISOLATED]


def test_paper_refuses_what_kraken_refuses_and_changes_nothing():
    marks = {BTC: D(60000), ETH: D(3500)}
    ex = _paper(marks)
    # ETH short at 5x (allocated 1240), mark 3500: P&L -800; 10x -> 620 - 800 <= 2 x 3500 x 1 % = 70.
    with pytest.raises(Rejected, match=r"Would cause liquidation \(error 41\)"):
        ex.set_leverage(ETH, D(10))
    assert ex.leverage_preferences() == {ETH: D(5)}
    # 2x needs 3100 - 1240 = 1860 more; available = (10000 + 1000 - 800) - (600 + 1240) = 8360: accepted.
    ex.set_leverage(ETH, D(2))
    flex, _ = ex.fetch_account()
    assert flex.available_margin == D(8360) - D(1860)
    ex.set_leverage(ETH, None)  # back to cross
    assert ex.leverage_preferences() == {}


def test_insufficient_margin_on_a_small_account():
    # Collateral 2000: equity 2000 + 1000 - 800 = 2200, initial 600 + 1240 = 1840 -> available 360 < 1860.
    ex = _paper({BTC: D(60000), ETH: D(3500)}, collateral=D(2000))
    with pytest.raises(Rejected, match="INSUFFICIENT_MARGIN"):
        ex.set_leverage(ETH, D(2))


def test_demo_runs_offline_on_demo_market_marks():
    ex = PaperFuturesExchange.demo()
    marks = ex.fetch_marks()
    assert set(marks) == {BTC, ETH} and all(m > 0 for m in marks.values())
    flex, positions = ex.fetch_account()
    assert {(p.pair, p.margin_mode) for p in positions} == {(BTC, MarginMode.CROSS), (ETH, MarginMode.ISOLATED)}
    assert flex.margin_equity > flex.maintenance_margin > 0


def test_paper_transfer_credits_the_flex_collateral():
    marks = {BTC: D(60000), ETH: D(3000)}
    ex = _paper(marks)
    ex.transfer_to_flex(D(500))
    # equity 11200 + 500; available 9360 + 500
    flex, _ = ex.fetch_account()
    assert (flex.margin_equity, flex.available_margin) == (D(11700), D(9860))
    with pytest.raises(Rejected):
        ex.transfer_to_flex(D(-1))


def test_demo_marks_follow_the_demo_speed():
    import time

    from kraken_monitor.exchange.futures_factory import create_futures_exchange

    fast = create_futures_exchange(AccountKind.DEMO, demo_speed=600)
    first = fast.fetch_marks()
    time.sleep(0.3)  # 180 simulated seconds at 600x: the seeded walk has moved
    assert fast.fetch_marks() != first
    slow = create_futures_exchange(AccountKind.DEMO, demo_speed=1)
    before = slow.fetch_marks()
    assert slow.fetch_marks() == before  # less than one simulated second passed
