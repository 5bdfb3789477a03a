"""Paper and demo Kraken Futures: the flex account simulated with Kraken's rules and refusals (domain.futures_paper)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.domain import futures_paper_orders as fpo
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.futures import FlexAccount, FuturesPosition
from kraken_monitor.domain.futures_liquidation import FuturesContract, MarginTier, Refusal
from kraken_monitor.domain.futures_paper import (
    DamagedState,
    PaperFuturesBook,
    TransferRefused,
    demo_futures_book,
)
from kraken_monitor.domain.orders import OpenOrder, OrderSpec
from kraken_monitor.domain.paper_orders import order_from_state, order_to_state
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.base import Capabilities, OrderResult
from kraken_monitor.exchange.demo_market import DemoMarket
from kraken_monitor.exchange.errors import BadResponse, Rejected
from kraken_monitor.exchange.futures_base import FuturesExchange

# Shaped like Kraken's PF_XBTUSD / PF_ETHUSD schedules (2 % / 1 % at the bottom: 50x).
_TIERS = (MarginTier(Decimal(0), Decimal("0.02"), Decimal("0.01")),
          MarginTier(Decimal(500000), Decimal("0.04"), Decimal("0.02")),
          MarginTier(Decimal(2000000), Decimal("0.1"), Decimal("0.05")))
DEMO_CONTRACTS = {"BTC/USD:USD": FuturesContract("BTC/USD:USD", "PF_XBTUSD", _TIERS, Decimal("0.5")),
                  "ETH/USD:USD": FuturesContract("ETH/USD:USD", "PF_ETHUSD", _TIERS, Decimal("0.1"))}
# The same words Kraken Futures answers with, so paper and live refusals read alike.
_KRAKEN_WORDS = {Refusal.WOULD_CAUSE_LIQUIDATION: "Would cause liquidation (error 41)",
                 Refusal.INSUFFICIENT_MARGIN: "INSUFFICIENT_MARGIN (error 92)",
                 Refusal.ABOVE_MAXIMUM: "invalidArgument: maxLeverage", Refusal.NOT_POSITIVE: "invalidArgument: maxLeverage"}


class DemoFuturesMarks:
    """Futures marks from the offline demo market (the perpetual's mark follows the spot pair's price).

    Thread contract: the futures poll thread reads it (the paper venue's marks) and, streaming, the futures
    stream thread does too (exchange/demo_futures_stream.py); the lock keeps the market one-thread-at-a-time.
    """

    def __init__(self, market: DemoMarket | None = None) -> None:
        self.market = market or DemoMarket(("BTC/USD", "ETH/USD"))
        self._lock = threading.RLock()

    def __call__(self) -> dict[str, Decimal]:
        with self._lock:
            self.market.tickers()
            prices = self.market.last_prices()
        return {symbol: prices[symbol.split(":")[0]] for symbol in DEMO_CONTRACTS}

    def stream_marks(self, pairs: Sequence[str]) -> tuple[int, dict[str, Decimal]]:
        """(the market's step count, the marks of `pairs` it quotes): the demo stream pushes when the step moved."""
        with self._lock:
            marks = self()
            return self.market.simulated_seconds, {pair: marks[pair] for pair in pairs if pair in marks}


class PaperFuturesExchange(FuturesExchange):
    """Simulated flex account. Demo: offline marks and the demo book; paper: live marks (a public-only
    KrakenFuturesExchange's), an empty book. Nothing ever reaches Kraken."""

    def __init__(self, mode: AccountKind, marks: Callable[[], dict[str, Decimal]],
                 contracts: Callable[[], dict[str, FuturesContract]] = lambda: dict(DEMO_CONTRACTS),
                 book: PaperFuturesBook | None = None) -> None:
        self.mode = mode
        self._marks_source, self._contracts_source = marks, contracts
        self._contracts: dict[str, FuturesContract] = {}
        self._marks: dict[str, Decimal] = {}
        self._book = book

    @classmethod
    def demo(cls, market: DemoMarket | None = None) -> PaperFuturesExchange:
        return cls(AccountKind.DEMO, DemoFuturesMarks(market))

    @property
    def demo_marks(self) -> DemoFuturesMarks | None:
        """The embedded market's marks this venue reads (demo), for the demo stream; None otherwise (paper)."""
        return self._marks_source if isinstance(self._marks_source, DemoFuturesMarks) else None

    def load_contracts(self) -> dict[str, FuturesContract]:
        self._contracts = self._contracts_source()
        return dict(self._contracts)

    def fetch_marks(self) -> dict[str, Decimal]:
        self._marks = dict(self._marks_source())
        self._run_orders()  # a new mark fires the triggers before anything reads the account
        return dict(self._marks)

    def _ready(self) -> None:
        if not self._contracts:
            self.load_contracts()
        if not self._marks:
            self.fetch_marks()
        if self._book is None:
            self._book = (demo_futures_book(self._marks) if self.mode is AccountKind.DEMO
                          else PaperFuturesBook(Decimal(10000)))
            self._seed_orders()

    def fetch_account(self) -> tuple[FlexAccount, list[FuturesPosition]]:
        self._ready()
        assert self._book is not None
        try:
            return self._book.flex(self._marks, self._contracts), self._book.as_positions()
        except KeyError as missing:
            raise BadResponse(f"No mark price for {missing} in the {self.mode} futures market.") from None

    def leverage_preferences(self) -> dict[str, Decimal]:
        self._ready()
        assert self._book is not None
        return {pair: p.leverage for pair, p in self._book.positions.items() if p.leverage is not None}

    def transfer_to_flex(self, amount: Decimal, currency: str = "USD") -> OrderResult:
        """Simulated money, Kraken's rules: from the paper cash wallet into the flex collateral (USD only)."""
        self._ready()
        assert self._book is not None
        if currency.upper() != "USD":
            raise Rejected(f"Kraken Futures refused: invalidUnit (the {self.mode} account holds USD only)")
        try:
            self._book.transfer_to_flex(amount)
        except TransferRefused as refused:
            raise Rejected(f"Kraken Futures refused: {refused}") from None
        return OrderResult("transfer", f"{format(amount.normalize(), 'f')} USD moved from the {self.mode} futures "
                                       "cash wallet into the flex account")

    def export_state(self) -> dict | None:
        """The simulated account as saved (domain.futures_paper to_state) with its resting orders; None before
        it exists. The orders are additive: a save from before they were kept restores with none."""
        if self._book is None:
            return None
        return {**self._book.to_state(), "orders": [order_to_state(o) for o in self._orders],
                "order_count": self._order_count}

    def import_state(self, state: dict) -> None:
        """Restore a saved account (before the first read); DamagedState when it cannot be read back."""
        book = PaperFuturesBook.from_state(state)
        try:
            orders = tuple(order_from_state(row) for row in state.get("orders") or ())
            count = int(state.get("order_count") or 0)
        except (TypeError, ValueError, KeyError, ArithmeticError) as exc:
            raise DamagedState(f"orders: {type(exc).__name__}: {exc}") from None
        self._book, self._orders, self._order_count = book, orders, max(count, len(orders))

    def set_leverage(self, pair: str, leverage: Decimal | None) -> OrderResult:
        self._ready()
        assert self._book is not None
        if pair not in self._book.positions:
            raise Rejected(f"No {self.mode} futures position in {pair}.")
        preview = self._book.set_leverage(pair, leverage, self._marks, self._contracts)
        if preview is not None and preview.refusal is not None:
            raise Rejected(f"Kraken Futures refused: {_KRAKEN_WORDS[preview.refusal]}")
        shown = "cross margin" if leverage is None else f"isolated at {format(leverage.normalize(), 'f')}x"
        return OrderResult(pair, f"{pair} set to {shown} ({self.mode})")

    # ----- protective orders (domain/futures_paper_orders.py): reduce-only, triggered on the mark -----
    _orders: tuple[OpenOrder, ...] = ()
    _order_count = 0

    def _seed_orders(self) -> None:
        """The demo futures book starts with one protected position (a stop under the BTC long)."""
        if self.mode is AccountKind.DEMO and self._book is not None:
            self._orders = fpo.demo_orders(self._book, self._marks, datetime.now(timezone.utc))

    def _run_orders(self) -> None:
        if self._book is not None and self._orders:
            self._orders, _filled = fpo.run_orders(self._book, self._orders, self._marks)

    def fetch_open_orders(self) -> tuple[OpenOrder, ...]:
        self._ready()
        return self._orders

    def order_capabilities(self) -> Capabilities:
        return Capabilities(can_trade=True, can_settle=False, can_add_collateral=True, can_add_isolated_margin=False,
                            can_place_orders=True, can_trail=True,
                            trailing_note=f"{self.mode} futures: triggers on the mark (the only simulated price)")

    def place_order(self, spec: OrderSpec) -> OrderResult:
        self._ready()
        assert self._book is not None
        mark = self._marks.get(spec.pair)
        if mark is None:
            raise Rejected(f"No {self.mode} futures mark for {spec.pair}.")
        self._order_count += 1
        order_id = f"{self.mode}-fut-{self._order_count}"
        try:
            order = fpo.new_order(order_id, self._book, spec, mark, datetime.now(timezone.utc))
        except DomainError as exc:
            raise Rejected(str(exc)) from None
        self._orders = (*self._orders, order)
        return OrderResult(order_id, f"{spec.type.value} {spec.side.value} {spec.volume} {spec.pair} placed "
                                     f"({self.mode})")

    def cancel_order(self, order_id: str, pair: str) -> OrderResult:
        self._ready()
        if not any(o.id == order_id for o in self._orders):
            raise Rejected(f"Order {order_id} is no longer open ({self.mode} futures).")
        self._orders = tuple(o for o in self._orders if o.id != order_id)
        return OrderResult(order_id, "cancelled")

    def modify_order(self, order_id: str, spec: OrderSpec) -> OrderResult:
        """Cancel then place (validated first, so a refused change leaves the old order standing)."""
        self._ready()
        assert self._book is not None
        mark = self._marks.get(spec.pair)
        if mark is None:
            raise Rejected(f"No {self.mode} futures mark for {spec.pair}.")
        try:
            fpo.new_order(order_id, self._book, spec, mark, datetime.now(timezone.utc))
        except DomainError as exc:
            raise Rejected(str(exc)) from None
        self.cancel_order(order_id, spec.pair)
        return self.place_order(spec)
