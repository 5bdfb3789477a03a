"""Kraken Futures protective orders: OrderSpec -> ccxt `krakenfutures` arguments, openorders rows -> OpenOrder.

ccxt 4.5.90 `krakenfutures.create_order_request` (shared reference kraken-futures-orders-streams.md 1.4):
`stopLossPrice` makes `orderType=stp, stopPrice, reduceOnly=true`; `takeProfitPrice` makes `take_profit`;
a positional price on a `limit` call adds `limitPrice` (the worst fill of a triggered order); never
`triggerPrice` (it sends stp WITHOUT reduceOnly). `triggerSignal` is sent raw (mark | index | last).
Trailing stops are not unified in ccxt: the raw `orderType=trailing_stop` with `trailingStopMaxDeviation`
and `trailingStopDeviationUnit` (PERCENT | QUOTE_CURRENCY) goes through `params` (ccxt keeps a params
`orderType` and forwards unknown keys); Kraken's live acceptance of it is unconfirmed (ccxt PR #20437 got
"invalid order type" on demo), so a refusal is shown in Kraken's words. No ccxt import here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kraken_monitor.domain.orders import OpenOrder, OrderSide, OrderSpec, OrderType, TriggerSignal
from kraken_monitor.exchange.errors import BadResponse, Rejected
from kraken_monitor.exchange.text import printable

# sendStatus / editStatus / cancelStatus words that mean it worked; any other is Kraken refusing the order
# (ccxt raises only for the words it knows and returns a "rejected" order for the rest: we check ourselves).
ACCEPTED = {"sendorder": ("placed", "filled", "partiallyFilled"), "editorder": ("edited",),
            "cancelorder": ("cancelled",)}
TRAILING_UNCONFIRMED = ("Kraken Futures trailing stops (orderType trailing_stop) are sent as Kraken documents them; "
                        "live acceptance is unconfirmed: a refusal is shown in Kraken's words.")
_LISTED = {"stp": OrderType.STOP_LOSS, "stop": OrderType.STOP_LOSS, "take_profit": OrderType.TAKE_PROFIT,
           "trailing_stop": OrderType.TRAILING_STOP, "lmt": OrderType.LIMIT, "post": OrderType.LIMIT,
           "limit": OrderType.LIMIT}
_NOT_RESTING = frozenset({"mkt", "ioc", "market"})
_SIGNALS = {"mark": TriggerSignal.MARK, "mark_price": TriggerSignal.MARK, "index": TriggerSignal.INDEX,
            "index_price": TriggerSignal.INDEX, "spot_price": TriggerSignal.INDEX, "last": TriggerSignal.LAST,
            "last_price": TriggerSignal.LAST}


def _plain(value: Decimal | None) -> str:
    if value is None:
        raise Rejected("A price this order needs is missing.")
    return format(value, "f")


def create_args(spec: OrderSpec) -> tuple[str, str | None, dict[str, Any]]:
    """(ccxt type, positional price, params) for `create_order(pair, type, side, size, price, params)`; always
    reduce-only. Raises Rejected for what Kraken Futures has no order for (a trailing-stop-limit)."""
    params: dict[str, Any] = {"reduceOnly": True}
    kind = spec.type
    if kind is OrderType.LIMIT:
        return "limit", _plain(spec.limit_price), params
    params["triggerSignal"] = spec.trigger.value
    if kind is OrderType.TRAILING_STOP_LIMIT:
        raise Rejected("Kraken Futures trailing stops fill at market: there is no trailing-stop-limit. "
                       "Choose a market trailing stop.")
    if kind is OrderType.TRAILING_STOP:
        params.update(orderType="trailing_stop", trailingStopMaxDeviation=_plain(spec.trailing_offset),
                      trailingStopDeviationUnit="PERCENT" if spec.trailing_percent else "QUOTE_CURRENCY")
        return "market", None, params
    params["stopLossPrice" if kind.is_stop else "takeProfitPrice"] = _plain(spec.trigger_price)
    if kind.has_limit:
        return "limit", _plain(spec.limit_price), params
    return "market", None, params


def can_edit(current: OpenOrder, spec: OrderSpec) -> bool:
    """editorder changes size and prices only: the same type, side, trigger signal and trailing unit."""
    return (current.type is spec.type and current.side is spec.side and current.trigger is spec.trigger
            and current.trailing_percent == spec.trailing_percent and spec.type is not OrderType.TRAILING_STOP_LIMIT)


def edit_params(spec: OrderSpec) -> dict[str, Any]:
    """Kraken editorder fields (ccxt edit_order forwards them): size, stopPrice, limitPrice, trailing deviation."""
    params: dict[str, Any] = {"size": format(spec.volume, "f")}
    if spec.type.is_trailing:
        params["trailingStopMaxDeviation"] = _plain(spec.trailing_offset)
    elif spec.type.has_trigger:
        params["stopPrice"] = _plain(spec.trigger_price)
    if spec.type.has_limit:
        params["limitPrice"] = _plain(spec.limit_price)
    return params


def check_status(answer: Any, endpoint: str, key: str) -> str:
    """The status word of a sendStatus / editStatus / cancelStatus, or Rejected in Kraken's word; the order id."""
    body = answer.get(key) if isinstance(answer, Mapping) else None
    if not isinstance(body, Mapping):
        raise BadResponse(f"Kraken Futures {endpoint} answered without {key}: the outcome is unknown, check Kraken "
                          "Futures before retrying.")
    status = str(body.get("status", ""))
    if status not in ACCEPTED[endpoint]:
        raise Rejected(f"Kraken Futures refused the order: {printable(status)[:60] or 'no status'}")
    return str(body.get("order_id") or body.get("orderId") or "")


def refusal_word(message: str) -> str:
    """ccxt's 'krakenfutures: createOrder failed due to invalidSize' -> 'invalidSize' ('' if not that form)."""
    marker = "failed due to "
    return printable(message.split(marker, 1)[1].strip())[:60] if marker in message else ""


def _number(row: Mapping[str, Any], key: str) -> Decimal | None:
    value = row.get(key)
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadResponse(f"Kraken Futures openorders has a non-numeric {key}.") from None
    if not number.is_finite():
        raise BadResponse(f"Kraken Futures openorders has a non-finite {key}.")
    return number


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_open_order(row: Mapping[str, Any], unified: Callable[[str], str | None]) -> OpenOrder | None:
    """One openorders row (read from its own fields, not ccxt's parse: that drops triggerSignal and the trailing
    options); None for an order that does not rest (mkt / ioc caught mid-fill)."""
    if not isinstance(row, Mapping):
        raise BadResponse("Kraken Futures openorders has a row that is not an object.")
    order_id = printable(str(row.get("order_id") or row.get("orderId") or ""))[:80]
    raw_type = str(row.get("orderType") or row.get("type") or "").lower()
    if raw_type in _NOT_RESTING:
        return None
    limit = _number(row, "limitPrice")
    kind = _LISTED.get(raw_type)
    if kind is None or not order_id:
        raise BadResponse(f"Kraken Futures openorders lists an order the monitor cannot read "
                          f"(type {printable(raw_type)[:20]!r}).")
    if limit is not None and kind in (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT):
        kind = OrderType.STOP_LOSS_LIMIT if kind is OrderType.STOP_LOSS else OrderType.TAKE_PROFIT_LIMIT
    side = str(row.get("side", "")).lower()
    if side not in ("buy", "sell"):
        raise BadResponse(f"Kraken Futures openorders order {order_id} has side {printable(side)[:10]!r}.")
    size = _number(row, "unfilledSize")
    if size is None:
        raise BadResponse(f"Kraken Futures openorders order {order_id} has no unfilledSize.")
    symbol = str(row.get("symbol", ""))
    signal = _SIGNALS.get(str(row.get("triggerSignal", "last")).lower(), TriggerSignal.LAST)
    options = row.get("trailingStopOptions") if isinstance(row.get("trailingStopOptions"), Mapping) else {}
    offset = _number(options, "maxDeviation") if options else None
    known = isinstance(row.get("reduceOnly"), bool)
    return OpenOrder(
        id=order_id, pair=unified(symbol) or printable(symbol)[:40], type=kind, side=OrderSide(side), volume=size,
        trigger_price=_number(row, "stopPrice") if kind.has_trigger else None,
        limit_price=limit if kind.has_limit else None, trigger=signal if kind.has_trigger else TriggerSignal.LAST,
        reduce_only=bool(row.get("reduceOnly")) if known else False, reduce_only_known=known,
        trailing_offset=offset, trailing_percent=str(options.get("unit", "")).upper() == "PERCENT" if options else False,
        opened_at=_time(row.get("receivedTime")))


def parse_open_orders(answer: Any, unified: Callable[[str], str | None]) -> tuple[OpenOrder, ...]:
    """GET openorders -> orders, oldest first. A missing `openOrders` is a failed read (never "no orders"): ccxt's
    fetch_open_orders would read it as an empty list, so the raw answer is checked here."""
    rows = answer.get("openOrders") if isinstance(answer, Mapping) else None
    if not isinstance(rows, list):
        raise BadResponse("Kraken Futures openorders has no openOrders list: the orders are unknown.")
    orders = [o for o in (parse_open_order(row, unified) for row in rows) if o is not None]
    return tuple(sorted(orders, key=lambda o: (o.opened_at.timestamp() if o.opened_at else 0.0, o.id)))
