"""The one exchange interface the worker uses: domain objects in and out, typed errors only."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from kraken_monitor.domain.candles import Candle
from kraken_monitor.domain.models import AccountState, PairRules, Ticker
from kraken_monitor.domain.orders import OrderSpec


@dataclass(frozen=True)
class OrderResult:
    """What an action returned: the exchange's order/txid and a human description."""

    order_id: str
    description: str


@dataclass(frozen=True)
class Capabilities:
    """What a venue supports, so the UI can explain instead of failing."""

    can_trade: bool
    can_settle: bool
    can_add_collateral: bool  # paper/demo: credit the cross account; live Kraken spot: no (deposit via Kraken)
    can_add_isolated_margin: bool
    note: str = ""
    can_place_orders: bool = False  # stop-loss / take-profit / limit closes (issue 16)
    can_trail: bool = False  # trailing stops
    trailing_note: str = ""  # why not, or what is unconfirmed ("Kraken Futures trailing stops: unconfirmed")


class Exchange(ABC):
    """Implemented by KrakenExchange (live), PaperExchange (demo and paper).

    Thread contract: an instance is created and used by one thread only (the poll worker's).
    Every method raises only `kraken_monitor.exchange.errors.ExchangeError` subclasses.
    """

    mode: str = ""

    @abstractmethod
    def load_pair_rules(self) -> dict[str, PairRules]:
        """Rules for every margin-tradable pair the account may hold, keyed by unified symbol."""

    def listed_pairs(self) -> dict[str, tuple[str, str]]:
        """Pairs the venue prices besides its margin pairs (symbol -> (base, quote)), after load_pair_rules.

        FX conversion may need a pair nobody trades on margin (GBP/EUR ...); {} = the margin pairs are all.
        """
        return {}

    @abstractmethod
    def fetch_tickers(self, pairs: list[str]) -> dict[str, Ticker]:
        """Prices for many pairs in ONE request."""

    @abstractmethod
    def fetch_account(self) -> AccountState:
        """Trade balance plus per-position list; raises, never returns an empty list on failure."""

    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def close_position(
        self, position_id: str, volume: Decimal, order_type: str = "market", limit_price: Decimal | None = None
    ) -> OrderResult:
        """Reduce-only close of `volume` (full or partial) of one position."""

    @abstractmethod
    def settle_position(self, position_id: str) -> OrderResult:
        """Settle a spot position with collateral (no trading fee)."""

    @abstractmethod
    def add_collateral(self, amount: Decimal) -> OrderResult:
        """Credit the cross account (paper/demo); live raises Rejected explaining to deposit on Kraken."""

    @abstractmethod
    def add_isolated_margin(self, position_id: str, amount: Decimal) -> OrderResult:
        """Move collateral into one isolated position, moving its liquidation price away."""

    def place_order(self, spec: OrderSpec) -> OrderResult:
        """Place a reduce-only protective order (stop-loss, take-profit, trailing stop, limit) on one position."""
        from kraken_monitor.exchange.errors import Rejected

        raise Rejected(f"{type(self).__name__} cannot place protective orders.")

    def cancel_order(self, order_id: str, pair: str) -> OrderResult:
        """Cancel one resting order."""
        from kraken_monitor.exchange.errors import Rejected

        raise Rejected(f"{type(self).__name__} cannot cancel orders.")

    def modify_order(self, order_id: str, spec: OrderSpec) -> OrderResult:
        """Replace a resting order by `spec` (the venue's edit, or cancel then place); the new id in the result."""
        self.cancel_order(order_id, spec.pair)
        return self.place_order(spec)

    def fetch_ohlcv(self, pair: str, timeframe: str, since: float | None = None) -> list[Candle]:
        """Candles of `pair` (timeframe 1m .. 1w, see domain.candles.TIMEFRAMES) from `since` (unix s)."""
        from kraken_monitor.exchange.errors import ExchangeUnavailable

        raise ExchangeUnavailable(f"{type(self).__name__} serves no candles")

    def advance(self, seconds: float) -> None:  # noqa: B027 - optional hook
        """Simulated venues move their clock (demo acceleration); live/paper ignore it."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources."""
