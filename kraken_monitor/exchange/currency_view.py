"""The paper account seen in another account currency (demo/paper `--currency CUR`), as TradeBalance `asset` does.

The paper account keeps its collateral in its own currency; Kraken's TradeBalance reports the same account
in whatever asset is asked. This view converts the trade balance into `currency` at the venue's own prices
(fx.fx_rate: direct, inverse or a cross through USD) and converts amounts the trader types in `currency`
back before they reach the account. Positions keep their quote-currency amounts: the engine converts them.
A missing rate is an ExchangeUnavailable naming the pair, never a rate of 1.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from kraken_monitor.domain import fx
from kraken_monitor.domain.fx_markets import fx_markets
from kraken_monitor.domain.models import AccountState, PairRules, Ticker
from kraken_monitor.exchange.base import Capabilities, Exchange, OrderResult
from kraken_monitor.exchange.errors import ExchangeUnavailable


class InCurrency(Exchange):
    """Delegates to `inner`; only the account's money currency differs. Same thread contract as `inner`."""

    def __init__(self, inner: Exchange, currency: str):
        self.inner = inner
        self.currency = fx.common_currency(currency)
        self.mode = inner.mode

    def __getattr__(self, name: str):  # export_state, drain_events, account ... of the paper exchange
        return getattr(self.inner, name)

    def _rate(self, from_ccy: str) -> Decimal:
        """Units of the view currency per unit of `from_ccy`, from one Ticker read of the pairs needed."""
        markets = fx_markets(self.inner.load_pair_rules(), self.inner.listed_pairs())
        pairs = list(fx.fx_pairs_needed([from_ccy], self.currency, markets))
        prices = {p: t.last for p, t in self.inner.fetch_tickers(pairs).items()} if pairs else {}
        rate = fx.fx_rate(from_ccy, self.currency, prices, markets)
        if rate is None:
            missing = fx.fx_missing_pair(from_ccy, self.currency, markets, prices)
            raise ExchangeUnavailable(f"no price for {missing}: cannot show the account in {self.currency}")
        return rate

    def fetch_account(self) -> AccountState:
        state = self.inner.fetch_account()
        own = fx.common_currency(state.balance.currency)
        if own == self.currency:
            return state
        rate = self._rate(own)
        balance = replace(state.balance, currency=self.currency, trade_balance=state.balance.trade_balance * rate)
        return replace(state, balance=balance)

    def _own_amount(self, amount: Decimal) -> Decimal:
        own = fx.common_currency(self.inner.fetch_account().balance.currency)
        return amount if own == self.currency else amount / self._rate(own)

    # -- the rest is the inner exchange's ------------------------------------------------------
    def fetch_ohlcv(self, pair: str, timeframe: str, since: float | None = None) -> list:
        return self.inner.fetch_ohlcv(pair, timeframe, since)  # prices: the pair's quote currency, unchanged

    def load_pair_rules(self) -> dict[str, PairRules]:
        return self.inner.load_pair_rules()

    def listed_pairs(self) -> dict[str, tuple[str, str]]:
        return self.inner.listed_pairs()

    def fetch_tickers(self, pairs: list[str]) -> dict[str, Ticker]:
        return self.inner.fetch_tickers(pairs)

    def capabilities(self) -> Capabilities:
        return self.inner.capabilities()

    def close_position(self, position_id: str, volume: Decimal, order_type: str = "market",
                       limit_price: Decimal | None = None) -> OrderResult:
        return self.inner.close_position(position_id, volume, order_type, limit_price)

    def settle_position(self, position_id: str) -> OrderResult:
        return self.inner.settle_position(position_id)

    def add_collateral(self, amount: Decimal) -> OrderResult:
        return self.inner.add_collateral(self._own_amount(amount))

    def add_isolated_margin(self, position_id: str, amount: Decimal) -> OrderResult:
        return self.inner.add_isolated_margin(position_id, self._own_amount(amount))

    def advance(self, seconds: float) -> None:
        self.inner.advance(seconds)

    def close(self) -> None:
        self.inner.close()
