"""Isolated -> cross switch and the flex collateral transfer: Kraken's rules in the domain, paper, the test server
(through ccxt over HTTP) and the futures poller, with worked numbers."""

from decimal import Decimal

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures import FlexAccount, FuturesPosition
from kraken_monitor.domain.futures_liquidation import Refusal
from kraken_monitor.domain.futures_margin_mode import preview_back_to_cross, preview_transfer
from kraken_monitor.domain.futures_paper import PaperFuturesBook, PaperFuturesPosition
from kraken_monitor.domain.models import MarginMode, Side
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import Rejected
from kraken_monitor.exchange.kraken_futures import KrakenFuturesExchange
from kraken_monitor.exchange.paper_futures import DEMO_CONTRACTS, PaperFuturesExchange
from kraken_monitor.testing.futures_server import FuturesTestServer
from kraken_monitor.worker.futures_watch import FuturesPoller, LeverageOutcome, TransferOutcome
from kraken_monitor.worker.requests import ChangeLeverage, TransferToFlex

D = Decimal
BTC, ETH = "BTC/USD:USD", "ETH/USD:USD"
MARKS = {BTC: D(60000), ETH: D(3500)}
# Long 0.5 BTC from 58000 (cross, P&L +1000, maintenance 0.5 x 60000 x 1 % = 300) and short 2 ETH from 3100 at
# 5x (allocated 6200 / 5 = 1240, P&L -800, maintenance 2 x 3500 x 1 % = 70; cross initial 7000 x 2 % = 140).
POSITIONS = [FuturesPosition(BTC, BTC, Side.LONG, D("0.5"), D(58000), MarginMode.CROSS),
             FuturesPosition(ETH, ETH, Side.SHORT, D(2), D(3100), MarginMode.ISOLATED, leverage=D(5))]


def _flex(collateral):
    # As paper reports it: equity = C + 1000 - 800; initial = 600 + 1240 = 1840; available = equity - 1840.
    equity = collateral + 200
    return FlexAccount(equity, D(1840), D(370), equity - D(1840), equity, collateral)


def test_back_to_cross_preview_releases_the_allocation_and_moves_liquidation_into_the_pool():
    preview = preview_back_to_cross(POSITIONS[1], POSITIONS, MARKS, DEMO_CONTRACTS, _flex(D(10000)))
    assert preview.allowed
    # available 8360 + 1240 released - 140 cross initial = 9460; pool 10000 + 1000 - 800 = 10200; maint 370
    assert (preview.released_margin, preview.cross_initial_margin) == (D(1240), D(140))
    assert (preview.available_before, preview.available_after) == (D(8360), D(9460))
    assert (preview.cross_pool_after, preview.cross_maintenance_after) == (D(10200), D(370))
    # short leg in the pool: (C' + s E - MMo) / (s (1 + m)) = (11000 + 6200 - 300) / 2.02 = 8366.34
    assert preview.liquidation_price.quantize(D("0.01")) == D("8366.34")


@pytest.mark.parametrize(("collateral", "refusal"), [
    (D(150), Refusal.WOULD_CAUSE_LIQUIDATION),  # pool 150 + 200 = 350 <= 370 maintenance: error 41
    (D(400), Refusal.INSUFFICIENT_MARGIN),  # pool 600 > 370, but available -1240 + 1240 - 140 = -140 < 0
])
def test_back_to_cross_is_refused_as_kraken_refuses_it(collateral, refusal):
    preview = preview_back_to_cross(POSITIONS[1], POSITIONS, MARKS, DEMO_CONTRACTS, _flex(collateral))
    assert preview.refusal is refusal and preview.available_after == preview.available_before


def _paper(collateral):
    book = PaperFuturesBook(collateral, {BTC: PaperFuturesPosition(BTC, Side.LONG, D("0.5"), D(58000)),
                                         ETH: PaperFuturesPosition(ETH, Side.SHORT, D(2), D(3100), D(5))})
    return PaperFuturesExchange(AccountKind.PAPER, lambda: dict(MARKS), book=book)


def test_paper_refuses_back_to_cross_in_krakens_words_and_changes_nothing():
    ex = _paper(D(150))
    with pytest.raises(Rejected, match=r"Would cause liquidation \(error 41\)"):
        ex.set_leverage(ETH, None)
    assert ex.leverage_preferences() == {ETH: D(5)}
    with pytest.raises(Rejected, match=r"INSUFFICIENT_MARGIN \(error 92\)"):
        _paper(D(400)).set_leverage(ETH, None)
    ok = _paper(D(10000))
    ok.set_leverage(ETH, None)
    flex, _ = ok.fetch_account()
    # initial 600 + 140 = 740 -> available 10200 - 740 = 9460, as previewed
    assert ok.leverage_preferences() == {} and flex.available_margin == D(9460)


def test_paper_transfer_draws_on_the_paper_cash_wallet():
    ex = _paper(D(10000))
    ex.transfer_to_flex(D(500))  # cash 5000 -> 4500, collateral 10000 -> 10500: equity 10200 + 500
    assert ex.fetch_account()[0].margin_equity == D(10700)
    with pytest.raises(Rejected, match="insufficientFunds"):
        ex.transfer_to_flex(D("4500.01"))
    with pytest.raises(Rejected, match="invalidUnit"):
        ex.transfer_to_flex(D(1), "EUR")
    assert ex.fetch_account()[0].margin_equity == D(10700)


def test_transfer_preview_is_one_for_one_for_usd_and_unknown_for_haircut_collateral():
    flex = FlexAccount(D(10200), D(1840), D(370), D(1000), D(10200), D(10000))
    usd = preview_transfer(flex, D(500), "USD")
    # available 1000 + 500; margin level 10200 / 370 x 100 = 2756.76 % -> 10700 / 370 x 100 = 2891.89 %
    assert usd.available_after == D(1500)
    assert (usd.margin_level_before.quantize(D("0.01")), usd.margin_level_after.quantize(D("0.01"))) == (
        D("2756.76"), D("2891.89"))
    btc = preview_transfer(flex, D("0.1"), "BTC")
    assert btc.available_after is None and btc.margin_level_after is None


@pytest.fixture
def server():
    with FuturesTestServer() as srv:
        # Same book on the test server; ETH isolated at 2.5x (allocated 2480), BTC funding -1.25.
        srv.futures.add_position("PF_XBTUSD", "long", D("0.5"), D(58000), unrealized_funding=D("-1.25"))
        srv.futures.add_position("PF_ETHUSD", "short", D(2), D(3100), leverage=D("2.5"))
        srv.futures.set_mark("PF_ETHUSD", D(3500))
        yield srv


def _live(server):
    return KrakenFuturesExchange(server.url, Credentials(server.api_key, server.api_secret), timeout_s=2)


@pytest.mark.parametrize(("collateral", "words"), [
    # pool 150 + (1000 - 1.25) - 800 = 348.75 <= 370 maintenance
    (D(150), r"Would cause liquidation \(error 41\)"),
    # pool 598.75 > 370; available 400 + 198.75 - (600 + 2480) = -2481.25, + 2480 - 140 = -141.25 < 0
    (D(400), r"INSUFFICIENT_MARGIN \(error 92\)"),
])
def test_test_server_refuses_back_to_cross_through_ccxt(server, collateral, words):
    server.futures.collateral["USD"] = collateral
    ex = _live(server)
    try:
        with pytest.raises(Rejected, match=words):
            ex.set_leverage(ETH, None)
        assert server.futures.leverage["PF_ETHUSD"] == D("2.5")
        assert server.requests_to("PUT leveragepreferences")[-1] == {"symbol": "PF_ETHUSD"}
    finally:
        ex.close()


def _drain(poller, kind, timeout_s=10.0):
    import queue
    import time

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            item = poller.results.get(timeout=0.1)
        except queue.Empty:
            continue
        if isinstance(item, kind):
            return item
    raise AssertionError(f"no {kind.__name__}")


def test_the_poller_sends_a_transfer_and_a_refused_switch_and_queues_krakens_answers(server):
    poller = FuturesPoller(MonitorConfig(), 0.2, factory=lambda: _live(server)).start()
    try:
        poller.handle(TransferToFlex(D(1000)))
        done = _drain(poller, TransferOutcome)
        assert done.ok and "flex" in done.message
        assert server.futures.cash["usd"] == D(4000) and server.futures.collateral["USD"] == D(11000)
        poller.handle(TransferToFlex(D("4000.01")))  # the cash wallet holds 4000 now
        refused = _drain(poller, TransferOutcome)
        assert not refused.ok and "insufficientFunds" in refused.message
        server.futures.collateral["USD"] = D(150)
        poller.handle(ChangeLeverage(ETH, None))
        switch = _drain(poller, LeverageOutcome)
        assert not switch.ok and "Would cause liquidation" in switch.message
    finally:
        poller.stop()


def test_a_live_transfer_in_a_currency_kraken_does_not_list_is_refused_before_sending(server):
    ex = _live(server)
    try:
        with pytest.raises(Rejected, match="lists no EUR collateral; nothing was sent"):
            ex.transfer_to_flex(D(1), "EUR")
        assert server.requests_to("POST transfer") == []
        with pytest.raises(Rejected, match="insufficientFunds"):  # the cash wallet holds USD only
            ex.transfer_to_flex(D("0.01"), "BTC")
        assert server.requests_to("POST transfer")[-1]["unit"] == "xbt"  # Kraken's id for BTC
    finally:
        ex.close()
