"""The replay inputs the journal keeps only when they change: positions' exchange records and pair rules, as JSON.

A cycle hands every position and every pair's rules to `InputLog.rows`; a record that is the very
object seen last cycle costs one identity check (the poller reuses them between reads), an equal
copy one comparison, and only a changed one becomes a row. Decimals keep their exact digits.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.domain.models import MarginMode, PairRules, Position, PositionFigures, Side
from kraken_monitor.domain.orders import OpenOrder, OrderSide, OrderType, TriggerSignal

_POSITION_FIELDS = tuple(f.name for f in dataclasses.fields(Position))
_RULES_FIELDS = tuple(f.name for f in dataclasses.fields(PairRules))
_POSITION_DECIMALS = frozenset({"volume", "volume_closed", "cost", "margin", "trading_fee", "opening_fee",
                                "allocated_margin", "exchange_value", "exchange_net"})
_RULES_DECIMALS = frozenset({"margin_call_level", "margin_stop_level", "min_order", "maintenance_rate"})
_TIMES = frozenset({"opened_at", "next_rollover"})
_ORDER_FIELDS = tuple(f.name for f in dataclasses.fields(OpenOrder))
_ORDER_DECIMALS = frozenset({"volume", "trigger_price", "limit_price", "trailing_offset", "leverage"})
_ORDER_ENUMS = {"type": OrderType, "side": OrderSide, "trigger": TriggerSignal}


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (Side, MarginMode, OrderType, OrderSide, TriggerSignal)):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def position_state(position: Position) -> str:
    return json.dumps({name: _plain(getattr(position, name)) for name in _POSITION_FIELDS}, separators=(",", ":"),
                      default=str)  # a malformed record still fails at the insert, inside the transaction


def position_from_state(text: str) -> Position:
    data = json.loads(text)
    values: dict[str, object] = {}
    for name in _POSITION_FIELDS:
        if name not in data:
            continue  # a field added after the row was written keeps its default
        value = data[name]
        if value is not None and name in _POSITION_DECIMALS:
            value = Decimal(value)
        elif value is not None and name in _TIMES:
            value = datetime.fromtimestamp(value, timezone.utc)
        values[name] = value
    values["side"] = Side(values["side"])
    values["margin_mode"] = MarginMode(values.get("margin_mode", MarginMode.CROSS.value))
    return Position(**values)  # type: ignore[arg-type]


def rules_state(rules: PairRules) -> str:
    return json.dumps({name: _plain(getattr(rules, name)) for name in _RULES_FIELDS}, separators=(",", ":"))


def rules_from_state(text: str) -> PairRules:
    data = json.loads(text)
    values: dict[str, object] = {}
    for name in _RULES_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in _RULES_DECIMALS:
            value = Decimal(value)
        elif name in ("leverage_buy", "leverage_sell"):
            value = tuple(value)
        values[name] = value
    return PairRules(**values)  # type: ignore[arg-type]


def orders_state(orders: Iterable[OpenOrder]) -> str:
    return json.dumps([{name: _plain(getattr(o, name)) for name in _ORDER_FIELDS} for o in orders],
                      separators=(",", ":"), default=str)


def orders_from_state(text: str) -> tuple[OpenOrder, ...]:
    orders = []
    for data in json.loads(text):
        values: dict[str, object] = {}
        for name in _ORDER_FIELDS:
            if name not in data:
                continue  # a field added after the row was written keeps its default
            value = data[name]
            if value is not None and name in _ORDER_DECIMALS:
                value = Decimal(value)
            elif value is not None and name == "opened_at":
                value = datetime.fromtimestamp(value, timezone.utc)
            elif name in _ORDER_ENUMS:
                value = _ORDER_ENUMS[name](value)
            values[name] = value
        orders.append(OpenOrder(**values))  # type: ignore[arg-type]
    return tuple(orders)


def shown_orders(figures: Iterable[PositionFigures], loose: Iterable[OpenOrder]) -> tuple[OpenOrder, ...]:
    """Every open order of a cycle as shown: each position's attached orders, then the unattached ones."""
    return (*(o for pf in figures for o in pf.orders), *loose)


_POSITION = operator.attrgetter("position")


def _same(new: tuple, old: tuple) -> bool:
    """The very same objects in the same order (C-speed identity check: the every-cycle case)."""
    return len(new) == len(old) and all(map(operator.is_, new, old))


class InputLog:
    """Remembers the records last journalled, so a cycle writes only what changed (one journal's writer)."""

    def __init__(self) -> None:
        self._positions: dict[str, Position] = {}
        self._position_order: tuple[Position, ...] = ()
        self._rules: dict[str, PairRules] = {}
        self._rules_order: tuple[PairRules, ...] = ()
        self._orders: tuple[OpenOrder, ...] | None = None  # None: nothing journalled yet by this writer

    def orders_row(self, ts: float, orders: tuple[OpenOrder, ...]) -> tuple | None:
        """(ts, orders) when the open orders differ from the last ones journalled, else None."""
        last = self._orders
        if last is not None and (_same(orders, last) or orders == last):
            return None
        self._orders = orders
        return ts, orders_state(orders)

    def position_rows(self, ts: float, figures: Iterable[PositionFigures]) -> list[tuple]:
        """(ts, position_id, state) for every position new or changed since the last account read."""
        positions = tuple(map(_POSITION, figures))
        if _same(positions, self._position_order):
            return []
        rows = []
        seen = self._positions
        current: dict[str, Position] = {}
        for p in positions:
            current[p.id] = p
            last = seen.get(p.id)
            if last is not p and last != p:
                rows.append((ts, p.id, position_state(p)))
        self._positions = current
        self._position_order = positions
        return rows

    def rules_rows(self, ts: float, rules: Mapping[str, PairRules]) -> list[tuple]:
        """(ts, pair, rules) for every pair whose margin rules are new or changed."""
        values = tuple(rules.values())
        if _same(values, self._rules_order):
            return []
        seen = self._rules
        rows = []
        for pair, r in rules.items():
            last = seen.get(pair)
            if last is not r:
                if last != r:
                    rows.append((ts, pair, rules_state(r)))
                seen[pair] = r
        self._rules_order = values
        return rows

    def forget(self, position_rows: list[tuple], rules_rows: list[tuple], orders_row: tuple | None = None) -> None:
        """A rolled-back write: those records were not kept, so the next cycle must write them again."""
        if orders_row is not None:
            self._orders = None
        for _ts, position_id, _state in position_rows:
            self._positions.pop(position_id, None)
        for _ts, pair, _state in rules_rows:
            self._rules.pop(pair, None)
        if position_rows:
            self._position_order = ()
        if rules_rows:
            self._rules_order = ()
