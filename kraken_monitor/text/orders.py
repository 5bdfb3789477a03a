"""Words and number formats of protective orders: types, triggers, warnings, table cells, previews, confirmations."""

from __future__ import annotations

from decimal import Decimal

from kraken_monitor.domain.costs import PnlBreakdown
from kraken_monitor.domain.models import PairRules
from kraken_monitor.domain.orders import OpenOrder, OrderSpec, OrderType, TriggerSignal
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.pnl import NET_PNL_MEANING, fee_rate_name, net_pnl_tooltip

TYPE_LABELS = {
    OrderType.STOP_LOSS: "Stop-loss",
    OrderType.STOP_LOSS_LIMIT: "Stop-loss limit",
    OrderType.TAKE_PROFIT: "Take-profit",
    OrderType.TAKE_PROFIT_LIMIT: "Take-profit limit",
    OrderType.TRAILING_STOP: "Trailing stop",
    OrderType.TRAILING_STOP_LIMIT: "Trailing stop limit",
    OrderType.LIMIT: "Limit",
}
TRIGGER_LABELS = {
    TriggerSignal.LAST: "last trade",
    TriggerSignal.INDEX: "index price",
    TriggerSignal.MARK: "mark price",
}
TRIGGER_TIP = ("Which price fires the order: the last trade on Kraken, the index (the average of other "
               "exchanges; Kraken falls back to the last trade when the index feed fails) or, on Kraken "
               "Futures, the mark price")
SPOT_NO_MARK = "Kraken spot margin triggers on the last trade or the index price only (no mark price)."

# Warning codes of a position's protection (the backend's PositionFigures.warnings).
STOP_BEYOND_LIQUIDATION = "stop_beyond_liquidation"
UNPROTECTED = "unprotected"
ORDER_EXCEEDS_POSITION = "order_exceeds_position"
WARNING_SHORT = {
    STOP_BEYOND_LIQUIDATION: "stop past liquidation",
    UNPROTECTED: "no stop-loss",
    ORDER_EXCEEDS_POSITION: "orders > position",
}
WARNING_TEXT = {
    STOP_BEYOND_LIQUIDATION: ("The stop-loss triggers only past the liquidation price: Kraken liquidates the "
                              "position first, so this stop never protects it."),
    UNPROTECTED: "No stop-loss: nothing closes this position before the margin call or liquidation.",
    ORDER_EXCEEDS_POSITION: ("Protective or conditional orders add up to more than the remaining volume: once "
                             "triggered, the excess opens a position the other way."),
}
PASSED = "passed"
INFERRED = "inferred"
INFERRED_TIP = ("Kraken's OpenOrders did not say whether this order is reduce-only; the monitor inferred it "
                "(a margin order on the closing side, no larger than the position).")
NOT_REDUCE_ONLY = "not reduce-only"
REDUCE_ONLY_TEXT = "Always reduce-only: the order can only shrink this position, never open or flip one."
LIVE_TRADING_OFF = 'Live trading is off: enable "Live trading" in Settings to place or cancel orders from here.'

STOP_LOSS_HEADER = "Stop-loss"
TAKE_PROFIT_HEADER = "Take-profit"
PROTECTION_HEADER = "Protection"
STOP_LOSS_HEADER_TIP = ("The nearest stop-loss (or trailing stop) trigger and how far the price must move to "
                        "reach it, % of the current price")
TAKE_PROFIT_HEADER_TIP = "The nearest take-profit trigger and how far the price must move to reach it"
PROTECTION_HEADER_TIP = "What is wrong with this position's protective orders (hover for details)"


def type_label(order_type: OrderType | str) -> str:
    return TYPE_LABELS[OrderType(order_type)]


def trigger_label(trigger: TriggerSignal | str) -> str:
    return TRIGGER_LABELS[TriggerSignal(trigger)]


def trigger_cell(trigger: Decimal | None, distance: Decimal | None, rules: PairRules | None) -> str:
    """'60,000.0 (6.61 %)': the trigger in the pair's precision and the room left to it (the backend's distance,
    positive = not reached); 'passed' when the market is already beyond it; the dash when there is none."""
    if trigger is None:
        return fmt.DASH
    room = PASSED if distance is not None and distance < 0 else fmt.fmt_pct(distance)
    return f"{fmt.fmt_price(trigger, rules)} ({room})"


def distance_text(trigger: Decimal | None, distance: Decimal | None, price: Decimal | None,
                  rules: PairRules | None, trailing: bool = False) -> str:
    """The dialog's 'Trigger distance' line: where it fires and how far the market must move to get there."""
    if trigger is None:
        return fmt.DASH
    follows = ", then trails the best price" if trailing else ""
    if distance is None:
        return f"{fmt.fmt_price(trigger, rules)}{follows}"
    now = f" from {fmt.fmt_price(price, rules)} now" if price is not None else ""
    return f"{fmt.fmt_price(trigger, rules)}: {fmt.fmt_pct(distance)}{now}{follows}"


def warnings_cell(codes: tuple[str, ...] | list[str]) -> str:
    return ", ".join(WARNING_SHORT.get(code, code.replace("_", " ")) for code in codes)


def warnings_tooltip(codes: tuple[str, ...] | list[str]) -> str | None:
    lines = [WARNING_TEXT.get(code, code) for code in codes]
    return "\n".join(lines) or None


def offset_text(offset: Decimal | None, percent: bool, rules: PairRules | None, quote: str = "") -> str:
    """A trailing distance: '2 %' or '500.0 USD'."""
    if offset is None:
        return fmt.DASH
    if percent:
        return fmt.fmt_pct(offset, places=2)
    return fmt.with_unit(fmt.fmt_price(offset, rules), quote)


def price_text(order: OpenOrder | OrderSpec, rules: PairRules | None) -> str:
    """What fires it: the trigger price, or for a trailing stop its distance and (when known) its stop now."""
    if OrderType(order.type).is_trailing:
        distance = offset_text(order.trailing_offset, order.trailing_percent, rules)
        stop = order.trigger_price
        return f"trails {distance}" + (f", stop now {fmt.fmt_price(stop, rules)}" if stop is not None else "")
    if order.trigger_price is None:
        return fmt.fmt_price(order.limit_price, rules)
    return fmt.fmt_price(order.trigger_price, rules)


def reduce_only_text(order: OpenOrder) -> str:
    if order.reduce_only and order.reduce_only_inferred:
        return f"yes ({INFERRED})"
    return "yes" if order.reduce_only else ("unknown" if not order.reduce_only_known else "no")


def order_summary(order: OpenOrder | OrderSpec, rules: PairRules | None) -> str:
    """'Stop-loss sell 0.50000000 BTC at 60,000.0 (last trade)'."""
    base = rules.base if rules is not None else order.pair.split("/")[0]
    kind = OrderType(order.type)
    size = f"{fmt.fmt_volume(order.volume, rules)} {base}"
    where = price_text(order, rules) if kind.is_trailing else f"at {price_text(order, rules)}"
    limit = ""
    if kind.has_limit and kind.has_trigger and order.limit_price is not None:
        limit = (f", limit offset {fmt.fmt_price(order.limit_price, rules)}" if kind.is_trailing
                 else f", limit {fmt.fmt_price(order.limit_price, rules)}")
    trigger = f" ({trigger_label(order.trigger)})" if kind.has_trigger else ""
    return f"{type_label(kind)} {order.side.value} {size} {where}{limit}{trigger}"


def relation_text(relation: str, margin_call: Decimal | None, liquidation: Decimal | None,
                  rules: PairRules | None) -> str:
    """Where a stop sits against the margin-call and liquidation prices (domain/protection.Relation), in words."""
    call, liq = fmt.fmt_price(margin_call, rules), fmt.fmt_price(liquidation, rules)
    return {
        "before_margin_call": f"Fires before the margin call ({call}) and liquidation ({liq}).",
        "past_margin_call": f"Fires past the margin call ({call}), before liquidation ({liq}).",
        "beyond_liquidation": (f"Fires only past liquidation ({liq}): Kraken liquidates first, so this stop "
                               "never protects the position."),
        "profit_side": f"On the profit side (margin call at {call}, liquidation at {liq}).",
        "unknown": "No margin-call or liquidation price known for this position.",
    }.get(str(getattr(relation, "value", relation)), "")


def confirmation_text(action: str, spec: OrderSpec | None, order: OpenOrder | None, position_label: str,
                      rules: PairRules | None, mode: str, extra: str = "") -> str:
    """The question asked before anything is sent; it names position, type, trigger and size."""
    if action == "cancel" and order is not None:
        head = f"Cancel this order on {position_label}?\n\n{order_summary(order, rules)} (order {order.id})"
    elif action == "modify" and spec is not None and order is not None:
        head = (f"Modify order {order.id} on {position_label}?\n\nfrom: {order_summary(order, rules)}\n"
                f"to:   {order_summary(spec, rules)}")
    elif spec is not None:
        head = f"Place on {position_label}?\n\n{order_summary(spec, rules)}"
    else:
        head = f"{action} on {position_label}?"
    tail = "" if action == "cancel" else "\n\nReduce-only."
    return head + (f"\n\n{extra}" if extra else "") + tail + f" Mode: {mode}."


def position_label(pair: str, side: str, volume: Decimal, rules: PairRules | None, position_id: str) -> str:
    """'position P1 (long 1.00000000 BTC BTC/USD)'."""
    base = rules.base if rules is not None else pair.split("/")[0]
    return f"position {position_id} ({side} {fmt.fmt_volume(volume, rules)} {base} {pair})"


def exceeds_text(spec: OrderSpec, others: tuple[OpenOrder, ...], rules: PairRules | None) -> str:
    """The dialog's warning when this order and the resting ones of its kind add up to more than the position."""
    same_kind = [o for o in others if (o.type.is_stop, o.type.is_take_profit) == (spec.type.is_stop,
                                                                                 spec.type.is_take_profit)]
    if not same_kind:
        return WARNING_TEXT[ORDER_EXCEEDS_POSITION]
    resting = "; ".join(f"{order_summary(o, rules)} ({o.id})" for o in same_kind)
    return (f"{WARNING_TEXT[ORDER_EXCEEDS_POSITION]}\nAlready resting: {resting}. To change it, choose it under "
            "Order instead of placing another.")


def pnl_at_trigger_text(breakdown: PnlBreakdown | None, at: Decimal | None, rules: PairRules | None) -> str:
    """'-1,234.56 USD at 60,000.0 (all fees; closing at 0.40 % taker)': the table's net P&L at that fill."""
    if breakdown is None:
        return fmt.DASH
    where = f" at {fmt.fmt_price(at, rules)}" if at is not None else ""
    return (f"{fmt.fmt_money(breakdown.net, breakdown.currency, signed=True)}{where} "
            f"(all fees; closing at {fee_rate_name(breakdown.closing_fee_rate)})")


def pnl_at_trigger_tip(breakdown: PnlBreakdown | None) -> str:
    return NET_PNL_MEANING if breakdown is None else net_pnl_tooltip(breakdown)


def move_question(order: OpenOrder, new_trigger: Decimal, position_label_text: str, rules: PairRules | None,
                  mode: str) -> str:
    """The chart's drag: move a stop or take-profit trigger."""
    return (f"Move the {type_label(order.type).lower()} of {position_label_text}\nfrom "
            f"{fmt.fmt_price(order.trigger_price, rules)} to {fmt.fmt_price(new_trigger, rules)} "
            f"({fmt.fmt_volume(order.volume, rules)}, {trigger_label(order.trigger)})?\n\nReduce-only. Mode: {mode}.")


# -- the Orders dock ---------------------------------------------------------------------------------
ORDER_COLUMNS = (  # (key, header)
    ("pair", "Pair"), ("position", "Position"), ("type", "Type"), ("side", "Side"), ("volume", "Volume"),
    ("trigger", "Trigger / trail"), ("limit", "Limit"), ("signal", "Trigger on"), ("distance", "Distance"),
    ("reduce_only", "Reduce-only"), ("id", "Order id"),
)
ORDER_NUMERIC = frozenset({"volume", "trigger", "limit", "distance"})
UNATTACHED = "unattached"
UNATTACHED_TIP = ("No open position of this pair that it would reduce: it is not protecting anything, and it "
                  "may open a new position if it fills")
DISTANCE_TIP = "How far the price must move to fire it, % of the current price (positive = not reached)"
CONDITIONAL_TIP = ("A conditional close (set on the opening order): once triggered it is an independent order "
                   "that may reduce or increase the position")
DOCK_TITLE = "Orders"
DOCK_EMPTY = "No open orders."
CANCEL_BUTTON = "Cancel order..."
MODIFY_BUTTON = "Modify..."
CANCEL_TIP = "Cancel the selected order (asks first) (Del)"
MODIFY_TIP = "Open the Protect dialog on the selected order"


def order_cell(order: OpenOrder, key: str, rules: PairRules | None, distance: Decimal | None) -> str:
    if key == "pair":
        return order.pair
    if key == "position":
        return order.position_id or UNATTACHED
    if key == "type":
        return type_label(order.type) + (" (conditional)" if order.conditional else "")
    if key == "side":
        return order.side.value
    if key == "volume":
        return fmt.fmt_volume(order.volume, rules)
    if key == "trigger":
        return price_text(order, rules) if order.type.has_trigger else fmt.DASH
    if key == "limit":
        return fmt.fmt_price(order.limit_price, rules)
    if key == "signal":
        return trigger_label(order.trigger) if order.type.has_trigger else fmt.DASH
    if key == "distance":
        return PASSED if distance is not None and distance < 0 else fmt.fmt_pct(distance)
    if key == "reduce_only":
        return reduce_only_text(order)
    return order.id


def order_tip(order: OpenOrder, key: str) -> str | None:
    if key == "reduce_only" and order.reduce_only_inferred:
        return INFERRED_TIP
    if key == "position" and order.position_id is None:
        return UNATTACHED_TIP
    if key == "distance":
        return DISTANCE_TIP
    if key == "type" and order.conditional:
        return CONDITIONAL_TIP
    return None
