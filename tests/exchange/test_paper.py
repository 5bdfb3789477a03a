"""PaperExchange over the demo market: account reads apply rollovers and liquidations; actions; persistence."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kraken_monitor.domain import margin
from kraken_monitor.domain.demo_book import DEMO_BOOK_PAIRS, DEMO_FX_PAIRS
from kraken_monitor.domain.fx import fx_rate
from kraken_monitor.domain.models import Side
from kraken_monitor.domain.paper_account import CRYPTO_MONEY, MONEY, PaperAccount
from kraken_monitor.exchange.demo_market import DemoMarket
from kraken_monitor.exchange.errors import BadResponse, ExchangeUnavailable, Rejected
from kraken_monitor.exchange.paper import DemoPriceSource, PaperExchange


class Clock:
    """One fake time for the market (seconds) and the account (UTC datetime)."""

    def __init__(self):
        self.now = datetime(2026, 2, 5, 12, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def seconds(self):
        return self.now.timestamp()

    def tick(self, **kwargs):
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def market(clock):
    return DemoMarket(seed=7, clock=clock.seconds)


@pytest.fixture
def ex(market, clock):
    return PaperExchange(DemoPriceSource(market, now=clock), None, mode="demo", clock=clock)


def by_pair(state):
    return {p.pair: p for p in state.positions}


def test_first_read_builds_the_demo_portfolio_and_reports_its_events(ex):
    state = ex.fetch_account()
    # Quoted in USD, BTC (ETH/BTC) and EUR (ETH/EUR): the multi-currency path from the first launch.
    assert set(by_pair(state)) == {"BTC/USD", "ETH/USD", "ETH/BTC", "SOL/USD", "ETH/EUR", "XRP/USD"}
    assert Decimal("20000") < state.balance.trade_balance < Decimal("25000")
    kinds = [e.kind for e in ex.drain_events()]
    # Seven rows: six pairs, BTC/USD twice (the old unprotected long and the new one with its stop).
    assert kinds.count("opened") == 7 and "rollover" in kinds and "liquidation" not in kinds
    assert ex.drain_events() == ()
    assert ex.capabilities().can_add_isolated_margin and ex.capabilities().can_settle


def test_rollover_every_4_hours_charged_on_account_read(ex, clock):
    state = ex.fetch_account()
    ex.drain_events()
    ex.advance(4 * 3600)
    after = ex.fetch_account()
    # Charged in the quote currency (USD and EUR to 4 decimals, BTC to 10), booked in USD at the
    # FX rate of the read that charged it (BTC/USD for ETH/BTC, EUR/USD for ETH/EUR).
    prices = ex.price_source.market.last_prices()
    expected = Decimal(0)
    for p in state.positions:
        if not p.rollover_terms:
            continue
        quote = p.pair.split("/")[1]
        charge = (p.cost * Decimal(p.rollover_terms.split("%")[0]) / 100).quantize(
            CRYPTO_MONEY if quote == "BTC" else MONEY)
        expected += charge if quote == "USD" else (charge * fx_rate(quote, "USD", prices, {})).quantize(MONEY)
    assert after.balance.trade_balance == state.balance.trade_balance - expected
    assert [e.kind for e in ex.drain_events()] == ["rollover"] * 6  # 7 rows; isolated XRP pays no rollover


def test_btc_crash_liquidates_the_oldest_position_first_and_stops_when_safe(ex, market, clock):
    before = ex.fetch_account()
    ex.drain_events()
    # BTC/USD halves (87,960 -> 44,000): the cross level falls through Kraken's 40 % (about 36 %).
    market.schedule_move("BTC/USD", Decimal("44000"), 60)
    clock.tick(seconds=60)
    tickers = ex.fetch_tickers(sorted({*DEMO_BOOK_PAIRS, *DEMO_FX_PAIRS}))
    assert tickers["BTC/USD"].last == Decimal("44000.0")
    after = ex.fetch_account()
    liquidated = [e.pair for e in ex.drain_events() if e.kind == "liquidation"]
    oldest = min((p for p in before.positions if p.margin_mode.value == "cross"), key=lambda p: p.opened_at)
    assert liquidated == [oldest.pair] == ["BTC/USD"]
    assert set(by_pair(after)) == {"ETH/USD", "ETH/BTC", "SOL/USD", "ETH/EUR", "XRP/USD"}
    prices = {pair: t.last for pair, t in tickers.items()}
    figures = margin.account_figures(after.balance, after.positions, prices, ex.load_pair_rules())
    assert figures.margin_level > figures.liquidation_level


def test_partial_close_at_the_bid_and_reduce_only(ex):
    sol = by_pair(ex.fetch_account())["SOL/USD"]
    half = sol.remaining_volume / 2
    bid = ex.fetch_tickers(["SOL/USD"])["SOL/USD"].bid
    result = ex.close_position(sol.id, half)
    assert f"@ {bid}" in result.description
    assert by_pair(ex.fetch_account())["SOL/USD"].remaining_volume == sol.remaining_volume - half
    with pytest.raises(Rejected, match="Reduce only"):
        ex.close_position(sol.id, sol.remaining_volume)  # more than the half still open
    with pytest.raises(Rejected):
        ex.close_position("NOPE", Decimal("1"))
    with pytest.raises(Rejected):
        ex.close_position(sol.id, Decimal("-1"))


def test_limit_close_must_be_marketable(ex):
    eth = by_pair(ex.fetch_account())["ETH/USD"]  # short: closing buys from the ask
    ask = ex.fetch_tickers(["ETH/USD"])["ETH/USD"].ask
    with pytest.raises(Rejected, match="rest on the book"):
        ex.close_position(eth.id, eth.remaining_volume, "limit", ask - Decimal("50"))
    ex.close_position(eth.id, eth.remaining_volume, "limit", ask + Decimal("1"))
    assert "ETH/USD" not in by_pair(ex.fetch_account())


def test_add_isolated_margin_moves_liquidation_price_away(ex):
    state = ex.fetch_account()
    xrp = by_pair(state)["XRP/USD"]
    before = margin.isolated_liquidation_price(xrp, Decimal("0.01"))
    ex.add_isolated_margin(xrp.id, Decimal("500"))
    after_state = ex.fetch_account()
    after = margin.isolated_liquidation_price(by_pair(after_state)["XRP/USD"], Decimal("0.01"))
    assert after < before
    assert after_state.balance.trade_balance == state.balance.trade_balance - Decimal("500")
    with pytest.raises(Rejected):
        ex.add_isolated_margin(by_pair(state)["BTC/USD"].id, Decimal("100"))


def test_add_collateral_and_settle(ex):
    state = ex.fetch_account()
    ex.add_collateral(Decimal("1000"))
    assert ex.fetch_account().balance.trade_balance == state.balance.trade_balance + Decimal("1000")
    with pytest.raises(Rejected):
        ex.add_collateral(Decimal("0"))
    btc = by_pair(state)["BTC/USD"]
    last = ex.fetch_tickers(["BTC/USD"])["BTC/USD"].last
    ex.settle_position(btc.id)
    pnl = (btc.remaining_volume * last - btc.cost).quantize(MONEY)
    assert ex.fetch_account().balance.trade_balance == state.balance.trade_balance + Decimal("1000") + pnl


def test_export_import_round_trip_through_json(ex, clock):
    ex.fetch_account()
    ex.close_position(by_pair(ex.fetch_account())["SOL/USD"].id, Decimal("1"))
    saved = json.loads(json.dumps(ex.export_state()))
    other = PaperExchange(DemoPriceSource(DemoMarket(seed=7, clock=clock.seconds), now=clock), None, clock=clock)
    other.import_state(saved)
    assert other.account == ex.account
    with pytest.raises(BadResponse):
        other.import_state({"version": 99})
    with pytest.raises(BadResponse):
        other.import_state({**saved, "account": {**saved["account"], "positions": "garbage"}})


def test_unpriced_position_is_an_exchange_error_not_an_empty_account(clock):
    market = DemoMarket(("BTC/USD",), seed=1, clock=clock.seconds)
    account = PaperAccount.funded(Decimal("1000")).open_position(
        "LINK/USD", Side.LONG, Decimal("10"), Decimal("13"), 2, clock.now
    )
    ex = PaperExchange(DemoPriceSource(market, now=clock), account.drain_events()[0], clock=clock)
    with pytest.raises(ExchangeUnavailable, match="LINK/USD"):
        ex.fetch_account()
