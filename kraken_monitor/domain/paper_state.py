"""Paper account persistence: Decimals, datetimes and enums to JSON-able values and back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain.models import MarginMode, Side

_DECIMAL_FIELDS = {"volume", "volume_closed", "cost", "margin", "trading_fee", "opening_fee", "allocated_margin",
                   "exchange_value", "exchange_net", "amount",
                   "price", "fee"}
_TIME_FIELDS = {"opened_at", "next_rollover", "at"}


def _dump(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (Side, MarginMode)):
        return value.value
    return value


def _load(record: type, key: str, value: object) -> object:
    if value is None or key not in record.__dataclass_fields__:
        if key not in record.__dataclass_fields__:
            raise ValueError(f"unknown field {key!r}")
        return None
    if key in _DECIMAL_FIELDS:
        return Decimal(value)
    if key in _TIME_FIELDS:
        return datetime.fromisoformat(value)
    if key == "side":
        return Side(value)
    if key == "margin_mode":
        return MarginMode(value)
    return value
