"""Resting orders of the futures test server: sendorder's types, openorders, cancelorder, editorder, trigger fills.

Kraken Futures v3 (docs.kraken.com/api/docs/futures-api/trading/send-order, get-open-orders, cancel-order,
edit-order-spring; shared reference kraken-futures-orders-streams.md 1.4). `orderType` lmt | post | mkt |
ioc | stp | take_profit | trailing_stop; `stopPrice` is the trigger of stp / take_profit, `limitPrice`
their worst fill (none: a market order once triggered); `triggerSignal` mark | index | last (required
with a trigger); trailing_stop takes `trailingStopMaxDeviation` + `trailingStopDeviationUnit` PERCENT |
QUOTE_CURRENCY and follows the best signal price since it was placed. Malformed arguments answer a
top-level `{"result":"error","error":...}`; refused orders answer success with `sendStatus.status` set to
Kraken's word (invalidOrderType, invalidSize, invalidPrice, wouldNotReducePosition,
insufficientAvailableFunds) and no orderEvents. openorders lists trigger orders with Kraken's
own vocabulary there: orderType `stop` / `take_profit` / `trailing_stop` / `lmt`, triggerSignal
`mark_price` / `last_price` / `spot_price` (the index). A fired order fills at once at its trigger (its
limit when one is set) and pays the taker fee; a reduce-only one is cut to the position it reduces.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kraken_monitor.testing.futures_sim import FuturesSim

TYPES = ("lmt", "post", "mkt", "ioc", "stp", "take_profit", "trailing_stop")
TRIGGERED = ("stp", "take_profit", "trailing_stop")
SIGNALS = ("mark", "index", "last")
_LISTED_TYPE = {"stp": "stop", "take_profit": "take_profit", "trailing_stop": "trailing_stop", "lmt": "lmt",
                "post": "lmt"}
_LISTED_SIGNAL = {"mark": "mark_price", "last": "last_price", "index": "spot_price"}
UNITS = ("PERCENT", "QUOTE_CURRENCY")
TAKER_FEE = Decimal("0.0005")  # Kraken Futures' lowest tier taker fee


class SendRefused(Exception):
    """Kraken accepted the request but not the order: result success, `status` = this word, no orderEvents."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


@dataclass
class FuturesOrder:
    order_id: str
    symbol: str  # upper case, PF_XBTUSD
    side: str  # buy | sell
    order_type: str  # as sent: stp, take_profit, trailing_stop, lmt
    size: Decimal
    stop_price: Decimal | None
    limit_price: Decimal | None
    trigger_signal: str
    reduce_only: bool
    received: float
    deviation: Decimal | None = None  # trailing_stop: trailingStopMaxDeviation
    unit: str = ""  # trailing_stop: PERCENT | QUOTE_CURRENCY
    best: Decimal | None = None  # trailing_stop: best signal price since placed

    def current_stop(self) -> Decimal | None:
        if self.order_type != "trailing_stop":
            return self.stop_price
        if self.best is None or self.deviation is None:
            return None
        gap = self.best * self.deviation / 100 if self.unit == "PERCENT" else self.deviation
        return self.best - gap if self.side == "sell" else self.best + gap

    def follow(self, price: Decimal) -> None:
        """A trailing stop's best price: the highest since placed for a sell, the lowest for a buy."""
        better = self.best is None or (price > self.best if self.side == "sell" else price < self.best)
        if self.order_type == "trailing_stop" and better:
            self.best = price

    def fires(self, price: Decimal) -> bool:
        stop = self.current_stop()
        if stop is None or self.order_type not in TRIGGERED:
            return False
        if self.order_type == "take_profit":
            return price >= stop if self.side == "sell" else price <= stop
        return price <= stop if self.side == "sell" else price >= stop

    def row(self, number) -> dict[str, object]:  # noqa: ANN001 - the sim's number formatter
        """One openorders entry (get-open-orders: trigger orders carry stopPrice and triggerSignal)."""
        row: dict[str, object] = {
            "order_id": self.order_id, "symbol": self.symbol, "side": self.side,
            "orderType": _LISTED_TYPE.get(self.order_type, self.order_type),
            "unfilledSize": number(self.size), "receivedTime": _iso(self.received), "status": "untouched",
            "filledSize": number(Decimal(0)), "reduceOnly": self.reduce_only, "lastUpdateTime": _iso(self.received)}
        if self.limit_price is not None:
            row["limitPrice"] = number(self.limit_price)
        if self.order_type in TRIGGERED:
            stop = self.current_stop()
            row["stopPrice"] = number(stop) if stop is not None else None
            row["triggerSignal"] = _LISTED_SIGNAL[self.trigger_signal]
        if self.order_type == "trailing_stop":
            row["trailingStopOptions"] = {"maxDeviation": number(self.deviation), "unit": self.unit}
        return row

    def event(self, kind: str = "PLACE") -> dict[str, object]:
        body = {"uid": self.order_id, "clientId": None, "type": "lmt" if self.limit_price is not None else "ioc",
                "symbol": self.symbol.lower(), "side": self.side, "quantity": float(self.size),
                "limitPrice": float(self.limit_price) if self.limit_price is not None else None,
                "triggerPrice": float(self.current_stop()) if self.current_stop() is not None else None,
                "triggerSide": "trigger_below" if (self.order_type == "take_profit") == (self.side == "buy")
                else "trigger_above",
                "triggerSignal": _LISTED_SIGNAL.get(self.trigger_signal, "last_price"),
                "reduceOnly": self.reduce_only, "timestamp": _iso(self.received),
                "lastUpdateTimestamp": _iso(self.received)}
        return {"orderTrigger": body, "type": kind}


def _decimal(params: Mapping[str, str], key: str, refused: str, *, required: bool = True) -> Decimal | None:
    from kraken_monitor.testing.futures_sim import FuturesApiError

    text = params.get(key)
    if text in (None, ""):
        if required:
            raise FuturesApiError("requiredArgumentMissing")
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise SendRefused(refused) from None
    if not value.is_finite() or value <= 0:
        raise SendRefused(refused)
    return value


def _flag(text: str | None) -> bool:
    return str(text).lower() == "true"


class FuturesOrderBook:
    """The open orders of one FuturesSim; every method runs under the sim's lock (the sim calls them)."""

    def __init__(self, sim: FuturesSim) -> None:
        self.sim = sim
        self.open: dict[str, FuturesOrder] = {}
        self.fills: list[tuple[str, Decimal]] = []  # (order_id, fill price), oldest first
        self._ids = itertools.count(1)

    def signal_price(self, symbol: str, signal: str) -> Decimal:
        return self.sim.signal_price(symbol, signal)

    def send(self, params: Mapping[str, str]) -> FuturesOrder:
        """Validate and place (a market order fills at once); raises FuturesApiError / SendRefused as Kraken does."""
        from kraken_monitor.testing.futures_sim import FuturesApiError

        if self.sim.refuse_next_order:
            word, self.sim.refuse_next_order = self.sim.refuse_next_order, ""
            raise SendRefused(word)
        symbol = params.get("symbol", "").upper()
        if not symbol or symbol not in self.sim.marks:
            raise FuturesApiError("contractNotFound")
        order_type = params.get("orderType", "")
        if order_type not in TYPES:
            raise SendRefused("invalidOrderType")
        side = params.get("side", "")
        if side not in ("buy", "sell"):
            raise SendRefused("invalidSide")
        size = _decimal(params, "size", "invalidSize")
        assert size is not None
        signal = params.get("triggerSignal", "")
        stop = limit = deviation = None
        unit = ""
        if order_type in TRIGGERED:
            if signal not in SIGNALS:
                raise FuturesApiError("invalidArgument: triggerSignal")
            if order_type == "trailing_stop":
                deviation = _decimal(params, "trailingStopMaxDeviation", "invalidPrice")
                unit = params.get("trailingStopDeviationUnit", "")
                if unit not in UNITS:
                    raise FuturesApiError("invalidArgument: trailingStopDeviationUnit")
                if unit == "PERCENT" and deviation is not None and deviation >= 100:
                    raise SendRefused("invalidPrice")
            else:
                stop = _decimal(params, "stopPrice", "invalidPrice")
        limit = _decimal(params, "limitPrice", "invalidPrice", required=order_type in ("lmt", "post"))
        reduce_only = _flag(params.get("reduceOnly"))
        position = self.sim.position_of(symbol)
        if reduce_only and (position is None or (position.side == "long") == (side == "buy")):
            raise SendRefused("wouldNotReducePosition")
        if not reduce_only and not self.sim.can_open(symbol, side, size):
            raise SendRefused("insufficientAvailableFunds")
        order = FuturesOrder(f"fut-{next(self._ids):04d}-{int(time.time() * 1000) % 100000:05d}", symbol, side,
                             order_type, size, stop, limit, signal or "last", reduce_only, time.time(), deviation, unit)
        if order_type in ("mkt", "ioc"):
            self._fill(order, self.signal_price(symbol, "last"))
            return order
        order.follow(self.signal_price(symbol, order.trigger_signal))
        self.open[order.order_id] = order
        return order

    def cancel(self, order_id: str) -> FuturesOrder:
        order = self.open.pop(order_id, None)
        if order is None:
            raise SendRefused("notFound")
        return order

    def edit(self, params: Mapping[str, str]) -> FuturesOrder:
        """editorder: size, limitPrice, stopPrice, trailingStopMaxDeviation of an open order (its type stays)."""
        from kraken_monitor.testing.futures_sim import FuturesApiError

        order_id = params.get("orderId") or params.get("order_id") or ""
        if not order_id:
            raise FuturesApiError("requiredArgumentMissing")
        order = self.open.get(order_id)
        if order is None:
            raise SendRefused("orderForEditNotFound")
        size = _decimal(params, "size", "invalidSize", required=False)
        stop = _decimal(params, "stopPrice", "invalidPrice", required=False)
        limit = _decimal(params, "limitPrice", "invalidPrice", required=False)
        deviation = _decimal(params, "trailingStopMaxDeviation", "invalidPrice", required=False)
        if stop is not None and order.order_type not in ("stp", "take_profit"):
            raise SendRefused("orderForEditNotAStop")
        if size is not None:
            order.size = size
        if stop is not None:
            order.stop_price = stop
        if limit is not None:
            order.limit_price = limit
        if deviation is not None and order.order_type == "trailing_stop":
            order.deviation = deviation
        return order

    def rows(self) -> list[dict[str, object]]:
        return [o.row(self.sim._n) for o in self.open.values()]

    def on_prices(self, symbol: str) -> None:
        """Trailing stops follow and triggers fire on the contract's prices now (oldest order first)."""
        for order in [o for o in self.open.values() if o.symbol == symbol]:
            price = self.signal_price(symbol, order.trigger_signal)
            order.follow(price)
            if order.fires(price) or (order.order_type in ("lmt", "post") and order.limit_price is not None
                                      and (price >= order.limit_price if order.side == "sell"
                                           else price <= order.limit_price)):
                stop = order.current_stop()
                self.open.pop(order.order_id, None)
                fill = order.limit_price if order.limit_price is not None else (stop if stop is not None else price)
                self._fill(order, fill)

    def _fill(self, order: FuturesOrder, price: Decimal) -> None:
        size = order.size
        if order.reduce_only:
            position = self.sim.position_of(order.symbol)
            size = min(size, position.size) if position is not None else Decimal(0)
        if size > 0:
            self.sim.trade(order.symbol, order.side, size, price, TAKER_FEE)
            self.fills.append((order.order_id, price))


def order_answer(sim: FuturesSim, endpoint: str, params: Mapping[str, str], now: str) -> dict[str, object]:
    """The body of sendorder / editorder / cancelorder: sendStatus / editStatus / cancelStatus, Kraken's shapes."""
    book = sim.orders
    try:
        if endpoint == "sendorder":
            order = book.send(params)
            status = "placed" if order.order_id in book.open else "filled"
            return {"sendStatus": {"order_id": order.order_id, "status": status, "receivedTime": now,
                                   "orderEvents": [order.event()]}}
        if endpoint == "editorder":
            order = book.edit(params)
            return {"editStatus": {"orderId": order.order_id, "status": "edited", "receivedTime": now,
                                   "orderEvents": [order.event("EDIT")]}}
        order = book.cancel(params.get("order_id", ""))
        return {"cancelStatus": {"order_id": order.order_id, "status": "cancelled", "receivedTime": now,
                                 "orderEvents": [{"uid": order.order_id, "order": order.event()["orderTrigger"],
                                                  "type": "CANCEL"}]}}
    except SendRefused as refused:
        key = {"sendorder": "sendStatus", "editorder": "editStatus"}.get(endpoint, "cancelStatus")
        return {key: {"status": refused.status, "receivedTime": now, "orderEvents": []}}
