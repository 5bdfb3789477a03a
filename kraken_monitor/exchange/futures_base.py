"""The interface of a futures venue (live Kraken Futures, paper, demo): domain objects out, typed errors only."""

from __future__ import annotations

from abc import ABC, abstractmethod
from decimal import Decimal

from kraken_monitor.domain.futures import FlexAccount, FuturesPosition
from kraken_monitor.domain.futures_liquidation import FuturesContract
from kraken_monitor.domain.orders import OpenOrder, OrderSpec
from kraken_monitor.exchange.base import Capabilities, OrderResult
from kraken_monitor.exchange.errors import BadResponse, Rejected


class FuturesExchange(ABC):
    """Thread contract: one instance is used by one thread. Every method raises only ExchangeError subclasses."""

    mode: str = ""

    @abstractmethod
    def load_contracts(self) -> dict[str, FuturesContract]:
        """Every flex perpetual with its margin schedule, keyed by unified symbol (BTC/USD:USD)."""

    @abstractmethod
    def fetch_marks(self) -> dict[str, Decimal]:
        """Mark prices (liquidation is judged on them), keyed by unified symbol, in one request."""

    @abstractmethod
    def fetch_account(self) -> tuple[FlexAccount, list[FuturesPosition]]:
        """The flex account and every open position; raises, never returns "no positions" on a failed read."""

    @abstractmethod
    def leverage_preferences(self) -> dict[str, Decimal]:
        """Symbols set to isolated, with their max leverage (Kraken's maxLeverage, not truncated)."""

    @abstractmethod
    def set_leverage(self, pair: str, leverage: Decimal | None) -> OrderResult:
        """Isolated at `leverage` (lower = more margin allocated), or back to cross with None; may be Rejected."""

    def transfer_to_flex(self, amount: Decimal, currency: str = "USD") -> OrderResult:
        """Cross "add margin": move collateral from the futures cash wallet into the flex account."""
        raise Rejected("This futures venue cannot transfer collateral.")

    # ----- protective orders (issue 16): read with the account, placed reduce-only -----
    def fetch_open_orders(self) -> tuple[OpenOrder, ...]:
        """Every open order, trigger orders included; raises on a failed read (never "no orders")."""
        raise BadResponse(f"{type(self).__name__} cannot read open orders: the positions' protection is unknown.")

    def order_capabilities(self) -> Capabilities:
        """What the Protect dialog may offer on this venue."""
        return Capabilities(False, False, False, False, note=f"{type(self).__name__} cannot place orders.")

    def place_order(self, spec: OrderSpec) -> OrderResult:
        """A reduce-only stop-loss / take-profit / trailing stop / limit close on one position's contract."""
        raise Rejected(f"{type(self).__name__} cannot place protective orders.")

    def cancel_order(self, order_id: str, pair: str) -> OrderResult:
        raise Rejected(f"{type(self).__name__} cannot cancel orders.")

    def modify_order(self, order_id: str, spec: OrderSpec) -> OrderResult:
        """Move a resting order to `spec` (the venue's edit, or cancel then place)."""
        raise Rejected(f"{type(self).__name__} cannot modify orders.")

    def advance(self, seconds: float) -> None:  # noqa: B027 - optional hook
        """Simulated venues move their market; live ignores it."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources."""
