"""Kraken spot protective orders: OpenOrders rows -> OpenOrder, OrderSpec -> ccxt create_order / edit_order arguments.

ccxt 4.5.90 `kraken.order_request` (shared reference kraken-futures-orders-streams.md 2.2): `stopLossPrice` /
`takeProfitPrice` make stop-loss / take-profit (with a limit price, the -limit type and `price2`);
`trailingAmount` / `trailingPercent` make trailing-stop (`price=+X`, a % in a JSON body);
`trailingLimitAmount` with `offset` makes trailing-stop-limit. Never `triggerPrice` (not mapped for Kraken
spot: a plain market order with a stray field) and never `type='stop-loss'` with a positional price (ccxt
drops it: `EGeneral:Invalid arguments:price`). No ccxt import here: pure arguments and parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from kraken_monitor.domain.orders import OpenOrder, OrderSide, OrderSpec, OrderType, TriggerSignal
from kraken_monitor.exchange.errors import BadResponse, Rejected

_TYPES = {t.value: t for t in OrderType}


def _plain(value: Decimal) -> str:
    return format(value, "f")


def create_args(spec: OrderSpec, leverage: int) -> tuple[str, str | None, dict[str, Any]]:
    """(ccxt order type, positional price, params) for `create_order(pair, type, side, volume, price, params)`."""
    if spec.trigger is TriggerSignal.MARK:
        raise Rejected("Kraken spot triggers on the last trade or the index price, not a mark price.")
    params: dict[str, Any] = {"leverage": leverage, "reduceOnly": True}
    if spec.trigger is TriggerSignal.INDEX:
        params["trigger"] = "index"
    kind = spec.type
    if kind is OrderType.LIMIT:
        return "limit", _plain(spec.limit_price), params  # type: ignore[arg-type]
    if kind in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT):
        params["stopLossPrice"] = _plain(spec.trigger_price)  # type: ignore[arg-type]
    elif kind in (OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT):
        params["takeProfitPrice"] = _plain(spec.trigger_price)  # type: ignore[arg-type]
    else:
        offset = _plain(spec.trailing_offset)  # type: ignore[arg-type]
        if spec.trailing_percent:
            if kind is OrderType.TRAILING_STOP_LIMIT:
                # ccxt builds price2 only from an amount with an amount offset: a % trail then sends no price.
                raise Rejected("A trailing-stop-limit needs its trailing distance as an amount, not a %.")
            params["trailingPercent"] = offset
        else:
            params["trailingAmount"] = offset
        if kind is OrderType.TRAILING_STOP_LIMIT:
            params["trailingLimitAmount"] = _plain(spec.limit_price)  # type: ignore[arg-type]
            # The limit sits past the trigger: below it for a sell, above for a buy.
            params["offset"] = "-" if spec.side is OrderSide.SELL else "+"
            return "limit", None, params
        return "market", None, params
    if kind.has_limit:
        return "limit", _plain(spec.limit_price), params  # type: ignore[arg-type]
    return "market", None, params


def amend_args(spec: OrderSpec) -> tuple[str, str | None, dict[str, Any]]:
    """(type, price, params) for ccxt `edit_order` (Kraken AmendOrder: order_qty, limit_price, trigger_price)."""
    params: dict[str, Any] = {}
    kind = spec.type
    if kind.is_trailing:
        value = _plain(spec.trailing_offset)  # type: ignore[arg-type]
        params["trailingAmount"] = value + "%" if spec.trailing_percent else value
        params["offset"] = "+"  # a trailing trigger is always "+X"
        price = None
        if kind is OrderType.TRAILING_STOP_LIMIT:
            sign = "-" if spec.side is OrderSide.SELL else "+"
            params["limit_price"] = sign + _plain(spec.limit_price)  # type: ignore[arg-type]
        return "market", price, params
    if kind is OrderType.LIMIT:
        return "limit", _plain(spec.limit_price), params  # type: ignore[arg-type]
    params["stopLossPrice" if kind.is_stop else "takeProfitPrice"] = _plain(spec.trigger_price)  # type: ignore[arg-type]
    if kind.has_limit:
        return "limit", _plain(spec.limit_price), params  # type: ignore[arg-type]
    return "market", None, params


def can_amend(current: OpenOrder, spec: OrderSpec) -> bool:
    """AmendOrder changes size and prices only: the same type, side, trigger signal and offset unit."""
    return (current.type is spec.type and current.side is spec.side and current.trigger is spec.trigger
            and current.trailing_percent == spec.trailing_percent)


def _number(value: Any) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _relative(text: str) -> tuple[Decimal | None, bool]:
    """'+500.0' -> (500, False); '+2.0000%' -> (2, True); '-50' -> (50, False)."""
    body = text.strip().lstrip("+-#")
    percent = body.endswith("%")
    value = _number(body[:-1] if percent else body)
    return (abs(value) if value is not None else None), percent


def parse_open_order(txid: str, row: Mapping[str, Any], symbol_for_id: Callable[[str], str | None]) -> OpenOrder | None:
    """One OpenOrders row; None for an order type the monitor does not show (market, iceberg, settle-position)."""
    descr = row.get("descr") if isinstance(row, Mapping) else None
    if not isinstance(descr, Mapping):
        raise BadResponse(f"Kraken OpenOrders row {txid} has no descr")
    kind = _TYPES.get(str(descr.get("ordertype", "")))
    if kind is None:
        return None
    pair = symbol_for_id(str(descr.get("pair", "")))
    if pair is None:
        raise BadResponse(f"Kraken OpenOrders row {txid} names an unknown pair {descr.get('pair')!r}")
    side = str(descr.get("type", ""))
    if side not in ("buy", "sell"):
        raise BadResponse(f"Kraken OpenOrders row {txid} has side {side!r}")
    vol, done = _number(row.get("vol")), _number(row.get("vol_exec", "0"))
    if vol is None or done is None:
        raise BadResponse(f"Kraken OpenOrders row {txid} has no usable volume")
    price, price2 = str(descr.get("price", "0")), str(descr.get("price2", "0"))
    trigger_price = limit_price = offset = None
    percent = False
    if kind.is_trailing:
        offset, percent = _relative(price)
        stop = _number(row.get("stopprice"))
        trigger_price = stop if stop else None  # 0 = not computed yet
        if kind is OrderType.TRAILING_STOP_LIMIT:
            limit_price, _ = _relative(price2)
    elif kind is OrderType.LIMIT:
        limit_price = _number(price)
    else:
        trigger_price = _number(price)
        if kind.has_limit:
            limit_price = _number(price2)
    leverage_text = str(descr.get("leverage", "none"))
    leverage = _number(leverage_text.split(":")[0]) if leverage_text not in ("none", "") else None
    margin = bool(row.get("margin")) or leverage is not None
    known = "reduce_only" in row
    opened = _number(row.get("opentm"))
    return OpenOrder(
        id=txid, pair=pair, type=kind, side=OrderSide(side), volume=vol - done, trigger_price=trigger_price,
        limit_price=limit_price, trigger=TriggerSignal.INDEX if row.get("trigger") == "index" else TriggerSignal.LAST,
        reduce_only=bool(row.get("reduce_only")) if known else False, reduce_only_inferred=False,
        trailing_offset=offset, trailing_percent=percent, position_id=None, margin=margin, reduce_only_known=known,
        opened_at=datetime.fromtimestamp(float(opened), timezone.utc) if opened else None, leverage=leverage,
    )


def parse_open_orders(result: Any, symbol_for_id: Callable[[str], str | None]) -> tuple[OpenOrder, ...]:
    """OpenOrders result {'open': {txid: row}}, oldest first; a missing 'open' is a BadResponse (never "no orders")."""
    rows = result.get("open") if isinstance(result, Mapping) else None
    if not isinstance(rows, Mapping):
        raise BadResponse("Kraken OpenOrders response has no 'open' orders.")
    orders = [parse_open_order(str(txid), row, symbol_for_id) for txid, row in rows.items()]
    shown = [o for o in orders if o is not None]
    epoch = datetime.fromtimestamp(0, timezone.utc)
    return tuple(sorted(shown, key=lambda o: (o.opened_at or epoch, o.id)))
