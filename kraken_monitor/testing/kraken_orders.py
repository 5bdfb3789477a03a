"""Resting orders of the Kraken test server: AddOrder's trigger types, OpenOrders, CancelOrder, AmendOrder, fills.

Validation and error strings as Kraken's (docs.kraken.com/api/docs/rest-api/add-order, amend-order,
cancel-order; shared reference kraken-futures-orders-streams.md section 2): `price` is the trigger of
stop-loss / take-profit (-limit) and the `+` offset of a trailing stop, `price2` the limit (a `+`/`-`
offset for trailing-stop-limit); a trailing % offset arrives only in a JSON body (urlencoded it was
refused with `EOrder:Invalid price`, ccxt PR #20404); `reduce_only` needs a leveraged order. Triggers are
checked whenever a price moves; a fired order fills at once at its trigger (its limit for -limit types)
and reduces the pair's opposite positions like a reduce-only close. `index` triggers fall back to the
last price, as Kraken does when its index feed is unavailable.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kraken_monitor.testing.kraken_data import PairSpec
    from kraken_monitor.testing.kraken_sim import KrakenSim

TRIGGER_TYPES = ("stop-loss", "stop-loss-limit", "take-profit", "take-profit-limit", "trailing-stop",
                 "trailing-stop-limit")
_STOPS = ("stop-loss", "stop-loss-limit", "trailing-stop", "trailing-stop-limit")
REDUCE_ONLY_NEEDS_LEVERAGE = "EGeneral:Invalid arguments:reduce_only only valid for leveraged orders"


@dataclass
class RestingOrder:
    """One open order the server keeps; prices Decimal, offsets as typed (`+500`, `+2%`, `-50`)."""

    txid: str
    spec: PairSpec
    side: str  # buy | sell
    ordertype: str
    vol: Decimal
    price: str  # as sent: trigger, limit or trailing offset
    price2: str
    leverage: Decimal | None
    reduce_only: bool
    trigger: str  # last | index
    opened: float
    best: Decimal | None = None  # trailing: best price since placed
    misc: str = ""
    params: dict = field(default_factory=dict)

    def offset(self, text: str, at: Decimal) -> Decimal:
        """A relative price's size: '+500' -> 500; '+2%' -> 2 % of `at`."""
        body = text.lstrip("+-#")
        if body.endswith("%"):
            return at * Decimal(body[:-1]) / 100
        return Decimal(body)

    def stop_price(self) -> Decimal | None:
        """The trigger now: fixed for stop-loss / take-profit; for a trailing stop the best price -/+ the offset."""
        if self.ordertype in ("trailing-stop", "trailing-stop-limit"):
            if self.best is None:
                return None
            gap = self.offset(self.price, self.best)
            return self.best - gap if self.side == "sell" else self.best + gap
        if self.ordertype == "limit":
            return None
        return Decimal(self.price)

    def fires(self, last: Decimal) -> bool:
        stop = self.stop_price()
        if stop is None:
            return False
        if self.ordertype in _STOPS:
            return last <= stop if self.side == "sell" else last >= stop
        return last >= stop if self.side == "sell" else last <= stop  # take-profit

    def fill_price(self, last: Decimal) -> Decimal:
        stop = self.stop_price() or last
        if self.ordertype == "trailing-stop-limit":
            gap = self.offset(self.price2, stop)
            return stop - gap if self.price2.startswith("-") else stop + gap
        if self.ordertype.endswith("-limit"):
            return Decimal(self.price2)
        return stop

    def row(self, report_reduce_only: bool) -> dict:
        lev = f"{int(self.leverage)}:1" if self.leverage is not None else "none"
        stop = self.stop_price()
        row = {
            "refid": None, "userref": 0, "status": "open", "opentm": round(self.opened, 4), "starttm": 0, "expiretm": 0,
            "descr": {"pair": self.spec.altname, "type": self.side, "ordertype": self.ordertype,
                      "price": self.price or "0", "price2": self.price2 or "0", "leverage": lev,
                      "order": f"{self.side} {self.vol} {self.spec.altname} @ {self.ordertype} {self.price}",
                      "close": ""},
            "vol": f"{self.vol:.8f}", "vol_exec": "0.00000000", "cost": "0.00000", "fee": "0.00000",
            "price": "0.00000", "stopprice": "0.00000" if stop is None or not self.ordertype.startswith("trailing")
            else str(stop), "limitprice": "0.00000", "misc": self.misc, "oflags": "fciq",
            "margin": self.leverage is not None,
        }
        if self.trigger != "last":
            row["trigger"] = self.trigger  # Kraken leaves `trigger` out for last
        if report_reduce_only:
            row["reduce_only"] = self.reduce_only
        return row


def _number(text: str | None, key: str, *, relative: bool = False) -> str:
    if text in (None, ""):
        raise _error(f"EGeneral:Invalid arguments:{key}")
    body = text.lstrip("+-#") if relative else text
    if relative and body.endswith("%"):
        body = body[:-1]
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise _error(f"EGeneral:Invalid arguments:{key}") from None
    if not value.is_finite() or value <= 0:
        raise _error(f"EGeneral:Invalid arguments:{key}")
    return text


def _error(message: str) -> Exception:
    from kraken_monitor.testing.kraken_sim import KrakenApiError

    return KrakenApiError(message)


class OrderBook:
    """The resting orders of one KrakenSim; called under the sim's lock."""

    def __init__(self, sim: KrakenSim) -> None:
        self.sim = sim
        self.open: dict[str, RestingOrder] = {}
        self.report_reduce_only = False  # Kraken's OpenOrders may omit reduce_only (issue 16 item 6)
        self.fills: list[tuple[str, Decimal]] = []  # (txid, price) of fired orders, oldest first
        self._ids = itertools.count(1)

    def add(self, params: Mapping[str, str], spec: PairSpec, json_body: bool) -> dict:
        side, ordertype = params.get("type", ""), params.get("ordertype", "")
        volume = Decimal(params["volume"])
        leverage = Decimal(params["leverage"]) if params.get("leverage") not in (None, "", "none") else None
        reduce_only = params.get("reduce_only", "false").lower() == "true"
        if reduce_only and leverage is None:
            raise _error(REDUCE_ONLY_NEEDS_LEVERAGE)
        trigger = params.get("trigger", "last")
        if trigger not in ("last", "index"):
            raise _error("EGeneral:Invalid arguments:trigger")
        trailing = ordertype.startswith("trailing")
        price = params.get("price")
        if trailing:
            if not price or not price.startswith("+"):
                raise _error("EGeneral:Invalid arguments:price")  # a trailing offset must be "+X" or "+X%"
            if price.endswith("%") and not json_body:
                raise _error("EOrder:Invalid price")
            _number(price, "price", relative=True)
        else:
            _number(price, "price")
        price2 = params.get("price2", "")
        if ordertype.endswith("-limit"):
            if trailing and (not price2 or price2[0] not in "+-"):
                raise _error("EGeneral:Invalid arguments:price2")
            _number(price2, "price2", relative=trailing)
        if leverage is not None and (int(leverage) != leverage or int(leverage) not in spec.leverage):
            raise _error("EGeneral:Invalid arguments:leverage")
        if reduce_only and not self._opposite(spec, side):
            raise _error("EOrder:Reduce only:No position exists")
        txid = f"OS{next(self._ids):04d}-SIMUL-TRIGGR"
        order = RestingOrder(txid, spec, side, ordertype, volume, price or "", price2, leverage, reduce_only,
                             trigger, time.time(), params=dict(params))
        if trailing:
            order.best = self.sim.prices[spec.symbol]
        self.open[txid] = order
        return {"descr": {"order": f"{side} {volume} {spec.altname} @ {ordertype} {price}"}, "txid": [txid]}

    def _opposite(self, spec: PairSpec, side: str) -> list:
        held = "sell" if side == "buy" else "buy"
        return [p for p in self.sim.positions.values() if p.spec is spec and p.type == held]

    def payload(self) -> dict:
        return {"open": {txid: o.row(self.report_reduce_only) for txid, o in self.open.items()}}

    def cancel(self, params: Mapping[str, str]) -> dict:
        txid = params.get("txid", "")
        if txid not in self.open:
            raise _error("EOrder:Unknown order")
        del self.open[txid]
        return {"count": 1}

    def amend(self, params: Mapping[str, str]) -> dict:
        """AmendOrder: new `order_qty`, `limit_price`, `trigger_price` of a resting order, same txid."""
        order = self.open.get(params.get("txid", ""))
        if order is None:
            raise _error("EOrder:Unknown order")
        if params.get("order_qty"):
            qty = Decimal(_number(params["order_qty"], "order_qty"))
            order.vol = qty
        if params.get("trigger_price"):
            trigger = params["trigger_price"]
            if order.ordertype.startswith("trailing"):
                if not trigger.startswith("+"):
                    raise _error("EGeneral:Invalid arguments:trigger_price")
                _number(trigger, "trigger_price", relative=True)
                order.best = self.sim.prices[order.spec.symbol]
            else:
                _number(trigger, "trigger_price")
            order.price = trigger
        if params.get("limit_price"):
            if not order.ordertype.endswith("limit"):
                raise _error("EGeneral:Invalid arguments:limit_price")
            order.price2 = _number(params["limit_price"], "limit_price", relative=order.ordertype.startswith("trailing"))
        order.misc = "amended"
        return {"amend_id": f"TA{next(self._ids):04d}-SIMUL-AMEND"}

    def on_prices(self) -> None:
        """Follow trailing stops, then fire every order whose trigger the last price reached."""
        for txid, order in list(self.open.items()):
            last = self.sim.prices[order.spec.symbol]
            if order.best is not None:
                order.best = max(order.best, last) if order.side == "sell" else min(order.best, last)
            if not order.fires(last):
                continue
            fill = order.fill_price(last)
            del self.open[txid]
            self.fills.append((txid, fill))
            held = self._opposite(order.spec, order.side)
            volume = min(order.vol, sum((p.remaining for p in held), Decimal(0)))
            if held and (order.reduce_only or order.leverage is not None):
                self.sim._reduce(order.spec, held[0].type, volume)
            now = time.time()
            lev = f"{int(order.leverage)}:1" if order.leverage is not None else "none"
            self.sim.closed_orders[txid] = {
                "refid": None, "userref": 0, "status": "closed", "opentm": order.opened, "closetm": now,
                "starttm": 0, "expiretm": 0,
                "descr": {"pair": order.spec.altname, "type": order.side, "ordertype": order.ordertype,
                          "price": order.price, "price2": order.price2 or "0", "leverage": lev,
                          "order": f"{order.side} {order.vol} {order.spec.altname} @ {order.ordertype}", "close": ""},
                "vol": str(order.vol), "vol_exec": str(volume), "cost": str(fill * volume),
                "fee": str(fill * volume * self.sim.fee_rate), "price": str(fill), "stopprice": str(order.stop_price()),
                "limitprice": "0", "misc": "stopped", "oflags": "fciq", "margin": order.leverage is not None,
                "reason": None,
            }
