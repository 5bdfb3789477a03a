"""Resting orders that protect a position (stop-loss, take-profit, trailing stop, limit close) and the request to place one.

Sources: Kraken AddOrder / OpenOrders (docs.kraken.com/api/docs/rest-api/add-order, get-open-orders) and
issue 16: a stop-loss of a long is a SELL triggered when the price falls to the trigger; a take-profit of a
long is a SELL triggered when it rises to it; a short's are BUYs the other way round. A trailing stop keeps
its trigger `trailing_offset` (an amount in the quote currency, or % of the price when `trailing_percent`)
behind the best price since it was placed. Prices are in the pair's quote currency, volumes in its base.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.models import Side

HUNDRED = Decimal(100)


class InvalidOrder(DomainError):
    """An order the trader asked for that cannot be right (wrong side of the price, too large, ...)."""


class OrderType(str, enum.Enum):
    """Kraken's spot `ordertype` names; futures orders are read into the same names (stp -> stop-loss)."""

    STOP_LOSS = "stop-loss"
    STOP_LOSS_LIMIT = "stop-loss-limit"
    TAKE_PROFIT = "take-profit"
    TAKE_PROFIT_LIMIT = "take-profit-limit"
    TRAILING_STOP = "trailing-stop"
    TRAILING_STOP_LIMIT = "trailing-stop-limit"
    LIMIT = "limit"

    @property
    def is_stop(self) -> bool:
        """Limits a loss: a stop-loss or a trailing stop (its trigger sits on the losing side of the price)."""
        return self in _STOPS

    @property
    def is_take_profit(self) -> bool:
        return self in (OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT)

    @property
    def is_trailing(self) -> bool:
        return self in (OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT)

    @property
    def has_limit(self) -> bool:
        """Fills at a limit price once triggered (or rests at it: a plain limit) rather than at market."""
        return self in (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT, OrderType.TRAILING_STOP_LIMIT,
                        OrderType.LIMIT)

    @property
    def has_trigger(self) -> bool:
        return self is not OrderType.LIMIT


_STOPS = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT, OrderType.TRAILING_STOP,
                    OrderType.TRAILING_STOP_LIMIT})


class TriggerSignal(str, enum.Enum):
    """Which price fires the trigger: Kraken's `trigger` (spot: last | index) / `triggerSignal` (futures: mark too)."""

    LAST = "last"
    INDEX = "index"
    MARK = "mark"


class OrderSide(str, enum.Enum):
    """buy / sell; a position's `Side` is accepted too (long = buy, as Kraken's `type` reads)."""

    BUY = "buy"
    SELL = "sell"

    @classmethod
    def _missing_(cls, value: object) -> OrderSide | None:
        return {"long": cls.BUY, "short": cls.SELL}.get(str(getattr(value, "value", value)).lower())

    @classmethod
    def closing(cls, side: Side) -> OrderSide:
        """The side of an order that reduces a position of `side`: a long is closed by selling."""
        return cls.SELL if Side(side) is Side.LONG else cls.BUY

    def closes(self, side: Side) -> bool:
        return self is OrderSide.closing(side)


@dataclass(frozen=True)
class OpenOrder:
    """One resting order as the venue lists it (Kraken OpenOrders / Futures openorders, or the paper book).

    `trigger_price`: the price that fires it; for a trailing stop the stop price it has reached now
    (Kraken's `stopprice`), None when the venue has not reported one yet. `limit_price`: the fill limit of a
    -limit type (for a trailing-stop-limit: the limit's offset from the trigger, as Kraken's `price2`).
    `reduce_only_inferred`: Kraken omitted reduce_only and the monitor concluded it from the order being a
    margin order on the closing side no larger than the position (shown as inferred, never as a fact).
    """

    id: str
    pair: str
    type: OrderType
    side: OrderSide
    volume: Decimal  # remaining to fill (Kraken vol - vol_exec), base currency
    trigger_price: Decimal | None
    limit_price: Decimal | None
    trigger: TriggerSignal = TriggerSignal.LAST
    reduce_only: bool = False
    reduce_only_inferred: bool = False
    trailing_offset: Decimal | None = None
    trailing_percent: bool = False
    position_id: str | None = None  # the position it protects, once attached (domain/protection.attach)
    margin: bool = False  # a leveraged (margin) order: may reduce a margin position
    reduce_only_known: bool = True  # False: the venue's row did not say (Kraken OpenOrders may omit it)
    conditional: bool = False  # a conditional close (`close[ordertype]`): independent once triggered
    opened_at: datetime | None = None
    leverage: Decimal | None = None

    def __post_init__(self) -> None:
        for name, enum_type in (("type", OrderType), ("side", OrderSide), ("trigger", TriggerSignal)):
            value = getattr(self, name)
            if not isinstance(value, enum_type):
                object.__setattr__(self, name, enum_type(value))

    def closes(self, side: Side) -> bool:
        """This order reduces a position of `side` (it trades the other way)."""
        return self.side.closes(side)


@dataclass(frozen=True)
class OrderSpec:
    """What the trader asks to place (or to replace an order with): always reduce-only, on one position.

    For a trailing stop `trigger_price` may be None (the venue computes it from the offset) or the
    trigger it starts at; `limit_price` of a trailing-stop-limit is the limit's offset from the trigger.
    """

    position_id: str
    pair: str
    type: OrderType
    side: OrderSide
    volume: Decimal
    trigger_price: Decimal | None = None
    limit_price: Decimal | None = None
    trigger: TriggerSignal = TriggerSignal.LAST
    trailing_offset: Decimal | None = None
    trailing_percent: bool = False

    def __post_init__(self) -> None:
        for name, enum_type in (("type", OrderType), ("side", OrderSide), ("trigger", TriggerSignal)):
            value = getattr(self, name)
            if not isinstance(value, enum_type):
                object.__setattr__(self, name, enum_type(value))

    def initial_trigger(self, price: Decimal) -> Decimal | None:
        """The trigger price if placed at `price` now: the given trigger, or price -/+ the trailing offset."""
        if not self.type.is_trailing or self.trailing_offset is None:
            return self.trigger_price
        offset = price * self.trailing_offset / HUNDRED if self.trailing_percent else self.trailing_offset
        return price - offset if self.side is OrderSide.SELL else price + offset

    def validate(self, price: Decimal | None = None, remaining_volume: Decimal | None = None,
                 position_side: Side | None = None) -> OrderSpec:
        """Raise InvalidOrder with a message for the trader, or return self. `price` = the trigger signal's price now."""
        _positive(self.volume, "The volume")
        if remaining_volume is not None and self.volume > remaining_volume:
            raise InvalidOrder(f"The volume {_plain(self.volume)} is more than the position's remaining "
                               f"{_plain(remaining_volume)}: a protective order may only reduce it.")
        if position_side is not None and not self.side.closes(position_side):
            raise InvalidOrder(f"A {Side(position_side).value} position is protected by a "
                               f"{OrderSide.closing(position_side).value} order, not a {self.side.value}.")
        kind = self.type
        if kind.is_trailing:
            if self.trailing_offset is None:
                raise InvalidOrder("A trailing stop needs its trailing distance (an amount or a %).")
            _positive(self.trailing_offset, "The trailing distance")
            if self.trailing_percent and self.trailing_offset >= HUNDRED:
                raise InvalidOrder("A trailing distance in % must be below 100 %.")
            if price is not None and not self.trailing_percent and self.trailing_offset >= price \
                    and self.side is OrderSide.SELL:
                raise InvalidOrder(f"The trailing distance {_plain(self.trailing_offset)} is not below the price "
                                   f"{_plain(price)}: the stop would sit at or below zero.")
        elif kind.has_trigger:
            if self.trigger_price is None:
                raise InvalidOrder(f"A {kind.value} order needs a trigger price.")
            _positive(self.trigger_price, "The trigger price")
        elif self.trigger_price is not None:
            raise InvalidOrder("A limit order has no trigger price; give only its limit price.")
        if kind.has_limit:
            if self.limit_price is None:
                what = "limit offset" if kind.is_trailing else "limit price"
                raise InvalidOrder(f"A {kind.value} order needs a {what}.")
            _positive(self.limit_price, "The limit offset" if kind.is_trailing else "The limit price")
        elif self.limit_price is not None:
            raise InvalidOrder(f"A {kind.value} order fills at market once triggered: it takes no limit price "
                               f"(choose {kind.value}-limit).")
        trigger = self.initial_trigger(price) if price is not None else self.trigger_price
        if price is not None and trigger is not None:
            _check_side_of_price(kind, self.side, trigger, price)
        return self


def _check_side_of_price(kind: OrderType, side: OrderSide, trigger: Decimal, price: Decimal) -> None:
    """A stop must sit on the losing side of the price, a take-profit / limit close on the winning side."""
    selling = side is OrderSide.SELL
    if kind.is_stop:
        if selling and trigger >= price:
            raise InvalidOrder(f"A sell stop must trigger below the price now ({_plain(price)}); "
                               f"{_plain(trigger)} would fire at once.")
        if not selling and trigger <= price:
            raise InvalidOrder(f"A buy stop must trigger above the price now ({_plain(price)}); "
                               f"{_plain(trigger)} would fire at once.")
    elif kind.is_take_profit:
        if selling and trigger <= price:
            raise InvalidOrder(f"A sell take-profit must trigger above the price now ({_plain(price)}); "
                               f"{_plain(trigger)} would fire at once.")
        if not selling and trigger >= price:
            raise InvalidOrder(f"A buy take-profit must trigger below the price now ({_plain(price)}); "
                               f"{_plain(trigger)} would fire at once.")


def _positive(value: object, what: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidOrder(f"{what} must be a number.")
    if value <= 0:
        raise InvalidOrder(f"{what} must be more than zero.")
    return value


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
