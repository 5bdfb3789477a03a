"""Paper exchange: a simulated Kraken margin account over demo or live public prices (typed errors only)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Protocol

from kraken_monitor.domain.candles import Candle
from kraken_monitor.domain.demo_book import DEMO_BOOK_PAIRS, DEMO_FX_PAIRS, demo_book
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.exposure import pair_currency
from kraken_monitor.domain.fx import common_currency, fx_pairs_needed
from kraken_monitor.domain.models import AccountState, PairRules, Side, Ticker
from kraken_monitor.domain.orders import OrderSpec
from kraken_monitor.domain.paper_account import PaperAccount, PaperEvent
from kraken_monitor.domain.paper_orders import (
    UnknownOrder,
    new_order,
    order_from_state,
    order_to_state,
    run_orders,
)
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.base import Capabilities, Exchange, OrderResult
from kraken_monitor.exchange.demo_market import DemoMarket
from kraken_monitor.exchange.errors import BadResponse, ExchangeError, ExchangeUnavailable, Rejected
from kraken_monitor.exchange.ohlc import DemoCandles

STATE_VERSION = 1
DEMO_COLLATERAL = Decimal("25000")
PAPER_COLLATERAL = Decimal("10000")
# The account read reuses the last price read when it is this fresh: on live public Kraken each
# extra Ticker call counts against the ~1 request/second public limit.
_PRICE_REUSE = timedelta(seconds=5)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class PriceSource(Protocol):
    """Where a paper account gets its prices and pair rules."""

    def pair_rules(self) -> dict[str, PairRules]: ...

    def tickers(self, pairs: list[str]) -> dict[str, Ticker]: ...


class DemoPriceSource:
    """Prices from the embedded DemoMarket (no network)."""

    def __init__(self, market: DemoMarket, now: Callable[[], datetime] = utc_now):
        self.market = market
        self._now = now
        self.candles = DemoCandles(market.volatility())
        # The poll thread and (streaming, exchange/demo_stream.py) the price-stream thread both read the market.
        self._lock = threading.RLock()

    def pair_rules(self) -> dict[str, PairRules]:
        with self._lock:
            return self.market.pair_rules()

    def tickers(self, pairs: list[str]) -> dict[str, Ticker]:
        # Pairs the demo does not simulate are simply absent (the worker shows them as stale).
        with self._lock:
            quotes = self.market.tickers(self._now())
            self.candles.record(quotes.values())  # every quote the demo hands out is its trade record
        return {pair: quotes[pair] for pair in pairs if pair in quotes}

    def stream_quotes(self, pairs: list[str]) -> tuple[int, dict[str, Ticker]]:
        """(the market's step count, the pairs' quotes): the demo stream pushes a quote when the step moved."""
        with self._lock:
            quotes = self.tickers(pairs)
            return self.market.simulated_seconds, quotes

    def ohlc(self, pair: str, timeframe: str, since: float | None = None) -> list[Candle]:
        with self._lock:
            price = self.market.last_prices().get(pair)
            rows = self.candles.candles(pair, timeframe, self._now().timestamp(),
                                        None if price is None else float(price))
        return [c for c in rows if since is None or c.ts >= since]

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.market.advance(seconds)


class KrakenPublicPriceSource:
    """Live public Kraken prices through KrakenExchange without credentials (created lazily: ccxt is slow to import)."""

    def __init__(self, api_url: str | None = None):
        self.api_url = api_url
        self._exchange: Any = None

    def _kraken(self) -> Any:
        if self._exchange is None:
            from kraken_monitor.exchange.kraken import KrakenExchange

            self._exchange = KrakenExchange(api_url=self.api_url, credentials=None)
        return self._exchange

    def pair_rules(self) -> dict[str, PairRules]:
        return self._kraken().load_pair_rules()

    def tickers(self, pairs: list[str]) -> dict[str, Ticker]:
        return self._kraken().fetch_tickers(pairs)

    def ohlc(self, pair: str, timeframe: str, since: float | None = None) -> list[Candle]:
        return self._kraken().fetch_ohlcv(pair, timeframe, since)

    def close(self) -> None:
        if self._exchange is not None:
            self._exchange.close()


class PaperExchange(Exchange):
    """Exchange over a PaperAccount: fills at bid/ask, Kraken's fees, rollovers and FIFO liquidation.

    Thread contract: created and used by the poll worker's thread only. When `account` is None the
    demo portfolio is built on first use at the source's current prices (so paper mode starts from
    live prices) with `starting_collateral` (25,000 USD demo, 10,000 USD paper by default).
    """

    def __init__(
        self,
        price_source: PriceSource,
        account: PaperAccount | None = None,
        mode: AccountKind | str = AccountKind.DEMO,
        clock: Callable[[], datetime] | None = None,
        starting_collateral: Decimal | None = None,
    ):
        mode = AccountKind.parse(mode)
        if not mode.simulated:
            raise ValueError(f"PaperExchange mode must be 'demo' or 'paper', not {mode.value!r}")
        self.mode = mode
        self.price_source = price_source
        self._account = account
        self._clock = clock or utc_now
        self._offset = timedelta(0)
        self._collateral = starting_collateral or (DEMO_COLLATERAL if mode is AccountKind.DEMO else PAPER_COLLATERAL)
        self._rules: dict[str, PairRules] | None = None
        self._tickers: dict[str, Ticker] = {}
        self._tickers_at: datetime | None = None
        self._events: list[PaperEvent] = []
        self._orders = 0
        self._resting: tuple = ()  # protective orders (domain/paper_orders.py), oldest first

    # -- Exchange interface -------------------------------------------------------------------
    def load_pair_rules(self) -> dict[str, PairRules]:
        if self._rules is None:
            self._rules = dict(_guard(self.price_source.pair_rules))
        return dict(self._rules)

    def fetch_tickers(self, pairs: list[str]) -> dict[str, Ticker]:
        tickers = _guard(lambda: self.price_source.tickers(list(pairs)))
        self._tickers.update(tickers)
        self._tickers_at = self.now()
        if self._resting and self._account is not None:
            self._run_orders(self._account)  # every price seen moves trailing stops and may fire a stop
        return tickers

    def _run_orders(self, account: PaperAccount) -> PaperAccount:
        prices = {pair: t.last for pair, t in self._tickers.items()}
        try:
            account, self._resting = run_orders(account, self._resting, prices, self.now(), self.load_pair_rules())
        except DomainError:  # an FX rate missing for a fill: try again at the next price
            return account
        self._commit(account)
        return self._account  # drained: the caller goes on from it, so no event is reported twice

    def observe_tickers(self, tickers: Mapping[str, Ticker]) -> None:
        """Pushed prices (the price stream): fills, stops and liquidations use them as they would a Ticker read."""
        self._tickers.update(tickers)
        self._tickers_at = self.now()
        if self._resting and self._account is not None:
            self._run_orders(self._account)

    def fetch_ohlcv(self, pair: str, timeframe: str, since: float | None = None) -> list[Candle]:
        """The price source's candles: the demo market's own, or Kraken's public OHLC (paper)."""
        return _guard(lambda: self.price_source.ohlc(pair, timeframe, since))

    def fetch_account(self) -> AccountState:
        """Apply rollovers and liquidations due by now at current prices, then report the account."""
        account = self._settle_time()
        return AccountState(balance=account.trade_balance(), positions=account.positions, as_of=self.now(),
                            orders=self._resting)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            can_trade=True, can_settle=True, can_add_collateral=True, can_add_isolated_margin=True,
            note=f"{self.mode.value.capitalize()} account: simulated fills at bid/ask, no real orders are sent.",
            can_place_orders=True, can_trail=True,
        )

    def place_order(self, spec: OrderSpec) -> OrderResult:
        account = self._settle_time()
        price = self._ticker(spec.pair).last
        order = _domain(lambda: new_order(self._order_id(), account, spec, price, self.now()))
        self._resting = (*self._resting, order)
        return OrderResult(order_id=order.id, description=f"{spec.type.value} {spec.volume} {spec.pair}")

    def cancel_order(self, order_id: str, pair: str) -> OrderResult:
        if not any(o.id == order_id for o in self._resting):
            raise Rejected(str(UnknownOrder(f"No open order {order_id} (filled, cancelled or its position closed)")))
        self._resting = tuple(o for o in self._resting if o.id != order_id)
        return OrderResult(order_id=order_id, description="cancelled")

    def modify_order(self, order_id: str, spec: OrderSpec) -> OrderResult:
        """The same id with the new size and prices (the paper venue amends in place)."""
        account = self._settle_time()
        if not any(o.id == order_id for o in self._resting):
            raise Rejected(f"No open order {order_id} (filled, cancelled or its position closed)")
        price = self._ticker(spec.pair).last
        order = _domain(lambda: new_order(order_id, account, spec, price, self.now()))
        self._resting = tuple(order if o.id == order_id else o for o in self._resting)
        return OrderResult(order_id=order_id, description="amended")

    def close_position(
        self, position_id: str, volume: Decimal, order_type: str = "market", limit_price: Decimal | None = None
    ) -> OrderResult:
        account = self._settle_time()
        p = _domain(lambda: account.position(position_id))
        ticker = self._ticker(p.pair)
        # Closing a long sells into the bid; closing a short buys from the ask.
        fill = ticker.bid if p.side is Side.LONG else ticker.ask
        if order_type == "limit":
            if limit_price is None:
                raise Rejected("A limit close needs a limit price")
            marketable = limit_price <= fill if p.side is Side.LONG else limit_price >= fill
            if not marketable:
                raise Rejected(f"Paper fills only marketable limits: {limit_price} would rest on the book (market {fill})")
        elif order_type != "market":
            raise Rejected(f"Unknown order type {order_type!r}")
        prices, rules = self._valuation(account), self.load_pair_rules()
        self._commit(_domain(lambda: account.close_position(position_id, volume, fill, self.now(),
                                                            prices=prices, rules=rules)))
        return OrderResult(order_id=self._order_id(), description=f"close {volume} {p.pair} @ {fill}")

    def settle_position(self, position_id: str) -> OrderResult:
        account = self._settle_time()
        p = _domain(lambda: account.position(position_id))
        price = self._ticker(p.pair).last
        prices, rules = self._valuation(account), self.load_pair_rules()
        self._commit(_domain(lambda: account.settle_position(position_id, price, self.now(),
                                                             prices=prices, rules=rules)))
        return OrderResult(order_id=self._order_id(), description=f"settle {p.remaining_volume} {p.pair} @ {price}")

    def add_collateral(self, amount: Decimal) -> OrderResult:
        account = self._settle_time()
        self._commit(_domain(lambda: account.deposit(amount, self.now())))
        return OrderResult(order_id=self._order_id(), description=f"deposit {amount} {account.currency}")

    def add_isolated_margin(self, position_id: str, amount: Decimal) -> OrderResult:
        account = self._settle_time()
        prices, rules = self._valuation(account), self.load_pair_rules()
        self._commit(_domain(lambda: account.add_isolated_margin(position_id, amount, self.now(),
                                                                 prices=prices, rules=rules)))
        return OrderResult(order_id=self._order_id(), description=f"add {amount} {account.currency} to {position_id}")

    def advance(self, seconds: float) -> None:
        """Move the simulated time: the account's clock and (demo) the market together."""
        self._offset += timedelta(seconds=seconds)
        advance = getattr(self.price_source, "advance", None)
        if advance is not None:
            advance(seconds)

    def close(self) -> None:
        closer = getattr(self.price_source, "close", None)
        if closer is not None:
            closer()

    # -- persistence and journal --------------------------------------------------------------
    def export_state(self) -> dict:
        """JSON-able state for SQLite; `account` is None until the first read built it."""
        account = None if self._account is None else self._account.drain_events()[0].export_state()
        return {"version": STATE_VERSION, "mode": self.mode.value, "account": account,
                "orders": [order_to_state(o) for o in self._resting]}  # additive: older saves have none

    def import_state(self, state: Mapping) -> None:
        if not isinstance(state, Mapping) or state.get("version") != STATE_VERSION:
            raise BadResponse("The saved paper account has an unknown format")
        raw = state.get("account")
        self._account = None if raw is None else _domain(lambda: PaperAccount.from_state(raw), BadResponse)
        try:
            self._resting = tuple(order_from_state(row) for row in state.get("orders") or ())
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise BadResponse(f"The saved paper orders cannot be read ({exc})") from None

    def drain_events(self) -> tuple[PaperEvent, ...]:
        """Events since the last call (liquidations, rollovers, margin calls, fills) for the journal."""
        events, self._events = tuple(self._events), []
        return events

    events = drain_events

    @property
    def account(self) -> PaperAccount | None:
        return self._account

    def now(self) -> datetime:
        return self._clock() + self._offset

    # -- internals ----------------------------------------------------------------------------
    def _settle_time(self) -> PaperAccount:
        """Build the account if needed, then let the venue do what it would have done by now."""
        account = self._account
        if account is None:
            # The book from the pairs the venue lists (live Kraken in paper mode may not list all):
            # a position without its price or FX rate is left out, never valued at a guess.
            rules = self.load_pair_rules()
            pairs = sorted(pair for pair in {*DEMO_BOOK_PAIRS, *DEMO_FX_PAIRS} if pair in rules)
            prices = {pair: t.last for pair, t in self.fetch_tickers(pairs).items()}
            now = self.now()
            # The book comes with its resting stop-losses (one position protected, the rest not).
            account, self._resting = _domain(lambda: demo_book(prices, now, self._collateral, order_ids=self._order_id))
        if self._resting:
            account = self._run_orders(account)  # stops fire before the venue liquidates
        prices = self._valuation(account)
        # A rate that went missing is a failed read (risk unknown), never a guess.
        self._commit(_domain(lambda: account.apply_until(self.now(), prices, self.load_pair_rules()),
                             ExchangeUnavailable))
        return self._account

    def _valuation(self, account: PaperAccount) -> dict[str, Decimal]:
        """Last prices of the account's pairs and of the FX pairs converting them into its currency."""
        rules = self.load_pair_rules()
        pairs = {p.pair for p in account.positions}
        currencies = {pair_currency(pair, rules) for pair in pairs} - {""}
        pairs.update(fx_pairs_needed(currencies, common_currency(account.currency), rules))
        return {pair: t.last for pair, t in self._prices(sorted(pairs)).items()}

    def _prices(self, pairs: list[str]) -> dict[str, Ticker]:
        fresh = self._tickers_at is not None and self.now() - self._tickers_at <= _PRICE_REUSE
        if not (fresh and all(pair in self._tickers for pair in pairs)):
            self.fetch_tickers(pairs)
        missing = [pair for pair in pairs if pair not in self._tickers]
        if missing:
            raise ExchangeUnavailable(f"No price for {', '.join(missing)}: cannot value the paper account")
        return {pair: self._tickers[pair] for pair in pairs}

    def _ticker(self, pair: str) -> Ticker:
        return self._prices([pair])[pair]

    def _commit(self, account: PaperAccount) -> None:
        account, events = account.drain_events()
        self._account = account
        self._events.extend(events)

    def _order_id(self) -> str:
        self._orders += 1
        return f"PAPER-{self.now():%Y%m%d%H%M%S}-{self._orders}"


def _guard(call: Callable[[], Any]) -> Any:
    """Price sources raise exchange errors already; anything else is a bug in the source, reported typed."""
    try:
        return call()
    except ExchangeError:
        raise
    except DomainError as exc:
        raise BadResponse(str(exc)) from None


def _domain(call: Callable[[], Any], error: type[ExchangeError] = Rejected) -> Any:
    """Domain refusals (reduce-only, insufficient margin, unknown position) become `Rejected`."""
    try:
        return call()
    except DomainError as exc:
        raise error(str(exc)) from None
