"""Test helper (H7 dialog tests): a real PaperExchange at fixed prices and the Snapshot the worker would build."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.domain import margin
from kraken_monitor.domain.models import MarginMode, PairRules, Side, Snapshot, Ticker
from kraken_monitor.domain.paper_account import PaperAccount
from kraken_monitor.exchange.paper import PaperExchange

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
RULES = {
    "BTC/USD": PairRules(
        "BTC/USD", "BTC", "USD", Decimal(80), Decimal(40), (2, 3, 4, 5), (2, 3, 4, 5), 1, 8, Decimal("0.0001")
    ),
    "ETH/USD": PairRules(
        "ETH/USD", "ETH", "USD", Decimal(80), Decimal(40), (2, 3, 4, 5), (2, 3, 4, 5), 2, 8, Decimal("0.002")
    ),
}
PRICES = {"BTC/USD": Decimal("20000"), "ETH/USD": Decimal("2000")}


class FixedPrices:
    """PriceSource with bid = ask = last, so fills equal the what-if preview's price."""

    def __init__(self, prices=None):
        self.prices = dict(prices or PRICES)

    def pair_rules(self):
        return dict(RULES)

    def tickers(self, pairs):
        return {
            p: Ticker(p, self.prices[p], self.prices[p], self.prices[p], NOW)
            for p in pairs
            if p in self.prices
        }


def paper_exchange(collateral="10000") -> PaperExchange:
    opened = NOW - timedelta(minutes=30)
    account = (
        PaperAccount.funded(Decimal(collateral))
        .open_position("BTC/USD", Side.LONG, Decimal("1"), PRICES["BTC/USD"], 5, opened)
        .open_position(
            "ETH/USD", Side.SHORT, Decimal("2"), PRICES["ETH/USD"], 5, opened, margin_mode=MarginMode.ISOLATED
        )
    )
    return PaperExchange(FixedPrices(), account=account, mode="paper", clock=lambda: NOW)


def snapshot_of(exchange: PaperExchange, mode: str = "paper") -> Snapshot:
    rules = exchange.load_pair_rules()
    state = exchange.fetch_account()
    tickers = exchange.fetch_tickers(sorted({p.pair for p in state.positions}))
    prices = {pair: t.last for pair, t in tickers.items()}
    account, positions = margin.compute(state, prices, rules, NOW)
    return Snapshot(
        mode=mode,
        as_of=NOW,
        stale=False,
        account=account,
        positions=positions,
        tickers=tickers,
        pair_rules=rules,
        account_as_of=state.as_of,
    )


def position_id(snapshot: Snapshot, pair: str) -> str:
    return next(pf.position.id for pf in snapshot.positions if pf.position.pair == pair)
