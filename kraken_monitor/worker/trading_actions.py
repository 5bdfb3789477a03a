"""The poller's account actions (close, protective orders, settle, margin top-ups): checked, journalled, sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kraken_monitor.domain.decimals import to_decimal
from kraken_monitor.domain.errors import DomainError, InvalidAmount, NotSupported
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.base import OrderResult
from kraken_monitor.exchange.errors import ExchangeError, Rejected


class TradingActions:
    """Mixed into worker/cycle.Poller, whose thread runs it: uses its config, exchange, journal, safety net,
    last account read and tickers. Each action journals its request and outcome; typed errors pass unchanged."""

    config: Any
    exchange: Any
    journal: Any
    safety: Any
    account: Any
    tickers: dict

    def save_paper_state(self) -> None:  # Poller's: money moved, the paper account is saved at once
        raise NotImplementedError

    def _record(self, kind: str, request: dict, ok: bool, result: str) -> None:
        if self.journal is not None:
            self.journal.record_action(kind, request, ok=ok, result=result)

    def _act(self, kind: str, request: dict, call: Callable[[], OrderResult]) -> OrderResult:
        """Run one action, journal request + outcome, re-raise typed errors unchanged."""
        try:
            result = call()
        except (ExchangeError, DomainError) as exc:
            if isinstance(exc, Rejected):
                self.safety.order_rejected()  # Kraken's margin rules may have changed: re-read them
            self._record(kind, request, ok=False, result=f"{type(exc).__name__}: {exc}")
            raise
        self._record(kind, request, ok=True, result=f"{result.order_id} {result.description}".strip())
        self.save_paper_state()  # money moved: do not wait for the periodic save
        return result

    def close(
        self, position_id: str, volume: object, order_type: str = "market", limit_price: object = None
    ) -> OrderResult:
        vol = to_decimal(volume, "Volume", positive=True)
        limit = None if limit_price is None else to_decimal(limit_price, "Limit price", positive=True)
        if order_type not in ("market", "limit"):
            raise InvalidAmount(f"unknown order type {order_type!r}")
        if order_type == "limit" and limit is None:
            raise InvalidAmount("a limit close needs a limit price")
        request = {"position_id": position_id, "volume": str(vol), "order_type": order_type,
                   "limit_price": None if limit is None else str(limit)}
        return self._act("close", request, lambda: self.exchange.close_position(position_id, vol, order_type, limit))

    def _order_position(self, spec: Any) -> tuple[Any, Any]:
        """The position a protective order is for, from the last account read, and its pair's price now."""
        if self.account is None:
            raise InvalidAmount("The account has not been read yet; wait for the first read.")
        position = next((p for p in self.account.positions if p.id == spec.position_id), None)
        if position is None:
            raise InvalidAmount(f"Position {spec.position_id} is not open.")
        ticker = self.tickers.get(position.pair)
        return position, None if ticker is None else ticker.last

    def _trading_allowed(self) -> None:
        # The dialogs refuse first (as for closes); this is the worker's own floor for a live account.
        if self.config.mode is AccountKind.LIVE and not self.config.live_trading_enabled:
            raise NotSupported('Live trading is off: enable "Live trading" in Settings to place or cancel orders.')

    def place_order(self, spec: Any) -> OrderResult:
        """Validate against the position (volume, side, trigger on the right side of the price), journal, place."""
        self._trading_allowed()
        position, price = self._order_position(spec)
        spec.validate(price, position.remaining_volume, position.side)
        return self._act("place_order", spec_dict(spec), lambda: self.exchange.place_order(spec))

    def cancel_order(self, order_id: str, pair: str) -> OrderResult:
        self._trading_allowed()
        return self._act("cancel_order", {"order_id": order_id, "pair": pair},
                         lambda: self.exchange.cancel_order(order_id, pair))

    def modify_order(self, order_id: str, spec: Any) -> OrderResult:
        self._trading_allowed()
        position, price = self._order_position(spec)
        spec.validate(price, position.remaining_volume, position.side)
        return self._act("modify_order", {"order_id": order_id, **spec_dict(spec)},
                         lambda: self.exchange.modify_order(order_id, spec))

    def settle(self, position_id: str) -> OrderResult:
        return self._act("settle", {"position_id": position_id},
                         lambda: self.exchange.settle_position(position_id))

    def add_collateral(self, amount: object) -> OrderResult:
        value = to_decimal(amount, "Amount", positive=True)
        return self._act("add_collateral", {"amount": str(value)}, lambda: self.exchange.add_collateral(value))

    def add_isolated_margin(self, position_id: str, amount: object) -> OrderResult:
        value = to_decimal(amount, "Amount", positive=True)
        return self._act("add_isolated_margin", {"position_id": position_id, "amount": str(value)},
                         lambda: self.exchange.add_isolated_margin(position_id, value))



def spec_dict(spec: Any) -> dict:
    """A protective order's request as the journal keeps it (strings, no secrets)."""
    return {name: (None if value is None else getattr(value, "value", value if isinstance(value, bool) else str(value)))
            for name, value in vars(spec).items()}

