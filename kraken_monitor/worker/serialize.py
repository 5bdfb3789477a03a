"""JSON shapes of snapshots, alerts and closed positions (and the history CSV): decimal strings, never floats."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TextIO

from kraken_monitor.domain.exposure import pair_currency
from kraken_monitor.domain.futures import FuturesAccountFigures, FuturesBook, FuturesPositionFigures
from kraken_monitor.domain.fx import common_currency
from kraken_monitor.domain.history import ClosedPosition
from kraken_monitor.domain.models import AccountFigures, Alert, PositionFigures, Risk, Snapshot
from kraken_monitor.text.alerts import alert_message

MONEY_PLACES = Decimal("1e-8")  # amounts and prices: finer than any Kraken pair quotes (and BTC's satoshi)
PCT_PLACES = Decimal("1e-4")  # percentages (margin levels, distances)


def _num(value: Decimal | None, places: Decimal | None = MONEY_PLACES) -> str | None:
    """Fixed-point text, rounded half-even to `places` (None = as is) with trailing zeros dropped.

    The engine keeps 28 significant digits; printing them all ("49627.11409204243707722375076") is
    false precision. Decimal's str() may switch to exponent form ("1E+3"), which scripts misread.
    """
    if value is None:
        return None
    if places is not None and value.is_finite():
        value = value.quantize(places, rounding=ROUND_HALF_EVEN)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pct(value: Decimal | None) -> str | None:
    return _num(value, PCT_PLACES)


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _risk(value: Risk) -> str:
    return Risk(value).label


def account_to_json(account: AccountFigures | None) -> dict[str, Any] | None:
    if account is None:
        return None
    return {
        "currency": account.currency,
        "trade_balance": _num(account.trade_balance),
        "equity": _num(account.equity),
        "used_margin": _num(account.used_margin),
        "free_margin": _num(account.free_margin),
        "margin_level": _pct(account.margin_level),
        "margin_level_exchange": _pct(account.margin_level_exchange),
        "margin_call_level": _pct(account.margin_call_level),
        "liquidation_level": _pct(account.liquidation_level),
        "risk": _risk(account.risk),
        "fx_sensitivity": fx_sensitivity_to_json(account.fx_sensitivity),
        "orders": [order_to_json(o) for o in account.orders],  # resting orders attached to no position
    }


def order_to_json(order: Any) -> dict[str, Any]:
    """One resting order (issue 16 item 6: exactly these keys); a trailing stop's trigger is its stop price now."""
    return {
        "id": order.id,
        "type": order.type.value,
        "side": order.side.value,
        "volume": _num(order.volume, None),
        "trigger_price": _num(order.trigger_price),
        "limit_price": _num(order.limit_price),
        "trigger": order.trigger.value,
        "reduce_only": order.reduce_only,
    }


def fx_sensitivity_to_json(sensitivity: Any) -> dict[str, Any] | None:
    """How far the account currency can move against the positions' currencies; None when none is foreign."""
    if sensitivity is None:
        return None
    return {
        "currencies": list(sensitivity.currencies),
        "margin_call_move_pct": _pct(sensitivity.margin_call_move_pct),
        "liquidation_move_pct": _pct(sensitivity.liquidation_move_pct),
        "levels": [{"move_pct": _pct(move), "margin_level": _pct(level)} for move, level in sensitivity.levels],
    }


def quote_currency(pf: PositionFigures) -> str:
    """The common code (BTC, not XBT) of the currency the position's prices are in."""
    return common_currency(pf.quote_currency) if pf.quote_currency else pair_currency(pf.position.pair, None)


def position_to_json(pf: PositionFigures) -> dict[str, Any]:
    p = pf.position
    return {
        "id": p.id,
        "pair": p.pair,
        "side": p.side.value,
        "margin_mode": p.margin_mode.value,
        "volume": _num(pf.remaining_volume, None),
        "entry_price": _num(pf.entry_price),
        "price": _num(pf.price),
        "leverage": _num(pf.leverage),
        # Prices above are in quote_currency; money below in the account currency (issue 11, item 2).
        "cost": _num(pf.cost if pf.account_currency else p.cost),
        "used_margin": _num(pf.used_margin),
        "unrealized_pnl": _num(pf.unrealized_pnl),
        "fees": _num(pf.fees),
        "net_pnl": _num(pf.net_pnl),
        "break_even_price": _num(pf.break_even_price),
        "margin_call_price": _num(pf.margin_call_price),
        "liquidation_price": _num(pf.liquidation_price),
        "distance_to_liquidation_pct": _pct(pf.distance_to_liquidation_pct),
        "next_rollover": _ts(pf.next_rollover),
        "risk": _risk(pf.risk),
        "quote_currency": quote_currency(pf),
        "orders": [order_to_json(o) for o in pf.orders],
        "stop_loss_price": _num(pf.stop_loss_price),  # the nearest protective trigger, or null
        "take_profit_price": _num(pf.take_profit_price),
        "warnings": list(pf.warnings),
    }


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    """The documented `kraken-monitor snapshot --json` object; `stale_reason` only when stale."""
    result: dict[str, Any] = {
        "venue": "spot",
        "mode": snapshot.mode.value,
        "as_of": _ts(snapshot.as_of),
        "stale": snapshot.stale,
        "account": account_to_json(snapshot.account),
        "positions": [position_to_json(pf) for pf in snapshot.positions],
    }
    if snapshot.stale:
        result["stale_reason"] = snapshot.stale_reason
    return result


def futures_account_to_json(account: FuturesAccountFigures | None) -> dict[str, Any] | None:
    if account is None:
        return None
    flex = account.flex
    return {
        "currency": flex.currency,
        "margin_equity": _num(flex.margin_equity),
        "initial_margin": _num(flex.initial_margin),
        "maintenance_margin": _num(flex.maintenance_margin),
        "available_margin": _num(flex.available_margin),
        "portfolio_value": _num(flex.portfolio_value),
        "margin_level": _pct(account.margin_level),
        "risk": _risk(account.risk),
    }


def futures_position_to_json(pf: FuturesPositionFigures) -> dict[str, Any]:
    p = pf.position
    return {
        "id": p.id,
        "pair": p.pair,
        "side": p.side.value,
        "margin_mode": p.margin_mode.value,
        "volume": _num(p.volume, None),
        "entry_price": _num(p.entry_price),
        "mark_price": _num(pf.mark_price),
        "leverage": _num(p.leverage),  # isolated: Kraken's maxFixedLeverage; cross: null (Kraken sets none)
        "unrealized_pnl": _num(pf.unrealized_pnl),
        "unrealized_funding": _num(p.unrealized_funding),
        "liquidation_price": _num(pf.liquidation_price),
        "liquidation_price_source": pf.liquidation_price_source,
        "distance_to_liquidation_pct": _pct(pf.distance_to_liquidation_pct),
        "risk": _risk(pf.risk),
        # Protective orders (issue 16), the spot keys and shapes: the nearest trigger or null, warning codes.
        "orders": [order_to_json(o) for o in pf.orders or ()],
        "stop_loss_price": _num(pf.stop_loss_price),
        "take_profit_price": _num(pf.take_profit_price),
        "warnings": list(pf.warnings),
    }


def futures_snapshot_to_json(book: FuturesBook) -> dict[str, Any]:
    """The documented `snapshot --venue futures --json` object (issue 15); `stale_reason` only when stale."""
    result: dict[str, Any] = {
        "venue": "futures",
        "mode": book.mode,
        "as_of": _ts(book.as_of),
        "stale": book.stale,
        "account": futures_account_to_json(book.account),
        "positions": [futures_position_to_json(pf) for pf in book.positions],
    }
    if result["account"] is not None:
        result["account"]["orders"] = [order_to_json(o) for o in book.orders]  # attached to no position
    if book.stale:
        result["stale_reason"] = book.stale_reason
    return result


def alert_to_json(alert: Alert) -> dict[str, Any]:
    """One `watch --json` alert line."""
    return {
        "type": "alert",
        "ts": _ts(alert.fired_at),
        "level": _risk(alert.level),
        "position": alert.position_id,
        "pair": alert.pair,
        "margin_level": _pct(alert.margin_level),
        "distance_to_liquidation_pct": _pct(alert.distance_to_liquidation_pct),
        "message": alert_message(alert),
    }


def event_to_json(alert: Alert) -> dict[str, Any]:
    """One `watch --json` position event line (issue 13: exactly these keys, null where unknown)."""
    def amount(name: str) -> str | None:
        value = alert.fact(name)
        return _num(value) if isinstance(value, Decimal) else None

    return {
        "type": "event",
        "kind": alert.reason.removeprefix("position_"),
        "position": alert.position_id,
        "pair": alert.pair,
        "volume": amount("volume"),
        "price": amount("price"),
        "pnl": amount("pnl"),
    }


def freshness_to_json(snapshot: Snapshot) -> dict[str, Any]:
    """One `watch --json` transition line: data went stale, or is fresh again."""
    return {"type": "stale" if snapshot.stale else "fresh", "ts": _ts(snapshot.as_of), "reason": snapshot.stale_reason}


def watch_snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    """One `watch --json` snapshot line: a heartbeat with the account's margin level and risk."""
    account = snapshot.account
    return {
        "type": "snapshot",
        "ts": _ts(snapshot.as_of),
        "stale": snapshot.stale,
        "margin_level": _pct(account.margin_level) if account is not None else None,
        "risk": _risk(account.risk) if account is not None else "unknown",
        "positions": len(snapshot.positions),
    }


HISTORY_KEYS = ("id", "pair", "side", "volume", "opened_at", "closed_at", "entry_price", "exit_price",
                "realized_pnl", "fees", "reason")
# CSV: the JSON columns, then the fee split and the currency of the money columns.
HISTORY_CSV_COLUMNS = (*HISTORY_KEYS, "fee_trading", "fee_opening", "fee_rollovers", "currency")


def closed_position_to_json(row: ClosedPosition) -> dict[str, Any]:
    """One `history --json` object (issue 18: exactly these keys). Prices in the pair's quote currency;
    `realized_pnl` (after every fee) and `fees` (their total) in the account currency; null where unknown."""
    return {
        "id": row.id,
        "pair": row.pair,
        "side": row.side,
        "volume": _num(row.volume, None),
        "opened_at": _ts(row.opened_at),
        "closed_at": _ts(row.closed_at),
        "entry_price": _num(row.entry_price),
        "exit_price": _num(row.exit_price),
        "realized_pnl": _num(row.realized_pnl),
        "fees": _num(row.fees.total),
        "reason": row.reason,
    }


def closed_position_to_csv(row: ClosedPosition) -> list[str]:
    """One CSV row in `HISTORY_CSV_COLUMNS` order; an unknown figure is an empty cell."""
    data = closed_position_to_json(row)
    extra = {"fee_trading": _num(row.fees.trading), "fee_opening": _num(row.fees.opening),
             "fee_rollovers": _num(row.fees.rollovers), "currency": row.currency}
    return ["" if value is None else str(value) for value in (*(data[k] for k in HISTORY_KEYS), *extra.values())]


def write_history_csv(rows: Iterable[ClosedPosition], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_CSV_COLUMNS)
    writer.writerows(closed_position_to_csv(row) for row in rows)


def with_venue(line: dict[str, Any], venue: str) -> dict[str, Any]:
    """A `watch --json` line tagged with the venue it is about (issue 15): "type" first, then "venue"."""
    return {"type": line["type"], "venue": venue, **{k: v for k, v in line.items() if k != "type"}}


def futures_freshness_to_json(book: FuturesBook) -> dict[str, Any]:
    return {"type": "stale" if book.stale else "fresh", "venue": "futures", "ts": _ts(book.as_of),
            "reason": book.stale_reason}


def futures_watch_to_json(book: FuturesBook) -> dict[str, Any]:
    """One `watch --json` futures heartbeat: margin level (Kraken liquidates at 100 %) and risk."""
    account = book.account
    return {"type": "snapshot", "venue": "futures", "ts": _ts(book.as_of), "stale": book.stale,
            "margin_level": _pct(account.margin_level) if account is not None else None,
            "risk": _risk(account.risk) if account is not None and not book.stale else "unknown",
            "positions": len(book.positions)}


def futures_alert_to_json(book: FuturesBook, pf: FuturesPositionFigures | None, level: Risk,
                          message: str) -> dict[str, Any]:
    """A futures alert line: the spot alert's keys plus venue; position/pair null for an account alert."""
    return {"type": "alert", "venue": "futures", "ts": _ts(book.as_of), "level": _risk(level),
            "position": pf.position.id if pf is not None else None,
            "pair": pf.position.pair if pf is not None else None,
            "margin_level": _pct(book.account.margin_level) if book.account is not None else None,
            "distance_to_liquidation_pct": _pct(pf.distance_to_liquidation_pct) if pf is not None else None,
            "message": message}
