"""Closed margin positions from Kraken's own history: TradesHistory, ClosedOrders and Ledgers (issue 18, item 3).

One history row per CLOSING trade, so a position closed in three parts gives three rows (its id
the position's txid each time). Entry = the opening trade's price, exit = the closing trade's price.
Fees in the pair's quote currency: trading = the opening trade's fee pro rata to the volume closed
plus the closing trade's fee; the opening fee and rollovers from Ledgers (type "margin" and
"rollover" whose `refid` is the position's txid -- UNCONFIRMED: Kraken documents the ledger types but
not that link), also pro rata. How it ended: "settled" for a settle-position order, "liquidated" when
the closing order's ClosedOrders `misc` says so, else "closed".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from kraken_monitor.domain.fx import common_currency
from kraken_monitor.domain.history import ClosedPosition, FeeSplit
from kraken_monitor.exchange.errors import BadResponse


def _dec(value: object) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _time(value: object) -> datetime | None:
    seconds = _dec(value)
    return None if seconds is None else datetime.fromtimestamp(float(seconds), timezone.utc)


def _rows(result: Any, key: str, what: str) -> dict[str, dict]:
    rows = result.get(key) if isinstance(result, dict) else None
    if not isinstance(rows, dict):
        raise BadResponse(f"Kraken {what} response has no '{key}'.")
    return {k: v for k, v in rows.items() if isinstance(v, dict)}


def _ledger_fees(ledger: Mapping[str, dict]) -> dict[str, dict[str, Decimal]]:
    """Per position txid: the margin opening fee and the rollovers it paid (positive amounts)."""
    fees: dict[str, dict[str, Decimal]] = {}
    for entry in ledger.values():
        kind, refid, amount = entry.get("type"), entry.get("refid"), _dec(entry.get("amount"))
        if kind in ("margin", "rollover") and refid and amount is not None:
            bucket = fees.setdefault(str(refid), {"margin": Decimal(0), "rollover": Decimal(0)})
            bucket[kind] += -amount + (_dec(entry.get("fee")) or Decimal(0))
    return fees


PAGE_SIZE = 50  # Kraken's rows per TradesHistory / ClosedOrders / Ledgers call
MAX_PAGES = 40  # 2,000 rows: beyond that the trader narrows the period (a clear error, never a cut history)


def all_pages(fetch: Callable[[dict], Any], params: dict, key: str, what: str) -> dict[str, dict]:
    """Every row of a paged history call (`ofs` onwards until Kraken's `count`): a history cut at the first
    page would silently drop closed positions. Rows are keyed by id, so a trade arriving between two pages
    (shifting the offsets by one) is read twice, never lost."""
    rows: dict[str, dict] = {}
    for n in range(MAX_PAGES):
        result = fetch({**params, "ofs": str(n * PAGE_SIZE)} if n else params)
        page = result.get(key) if isinstance(result, dict) else None
        if not isinstance(page, dict):
            raise BadResponse(f"Kraken {what} response has no '{key}'.")
        rows.update(page)
        count = _dec(result.get("count"))
        if not page or count is None or (n + 1) * PAGE_SIZE >= count:
            return rows
    raise BadResponse(f"Kraken {what} holds more than {MAX_PAGES * PAGE_SIZE:,} rows for this period: "
                      "choose a later start date.")


def opening_ids(trades_result: Any) -> set[str]:
    """The positions (opening trade ids) the closing trades of a TradesHistory response name."""
    rows = trades_result.get("trades") if isinstance(trades_result, dict) else None
    return {str(t["postxid"]) for t in (rows or {}).values()
            if isinstance(t, dict) and t.get("postxid") and "posstatus" not in t}


def oldest_opening(trades_result: Any, since: float) -> float:
    """The earliest of `since` and every opening trade's time (where the fees' ledger window must start)."""
    rows = trades_result.get("trades") if isinstance(trades_result, dict) else None
    times = [_dec(t.get("time")) for t in (rows or {}).values() if isinstance(t, dict) and "posstatus" in t]
    return min([since, *(float(t) for t in times if t is not None)])


def closed_from_history(
    trades_result: Any,
    closed_orders_result: Any,
    ledgers_result: Any,
    symbol_for_id: Callable[[str], str | None],
    account_currency: str,
    price_places: Mapping[str, int] | None = None,
) -> list[ClosedPosition]:
    """History rows from the three responses, newest first; a trade Kraken gave without a price is skipped."""
    trades = _rows(trades_result, "trades", "TradesHistory")
    orders = _rows(closed_orders_result, "closed", "ClosedOrders")
    fees_by_position = _ledger_fees(_rows(ledgers_result, "ledger", "Ledgers"))
    account = common_currency(account_currency)
    rows = []
    for trade in trades.values():
        position_id = trade.get("postxid")
        if "posstatus" in trade or not position_id:
            continue  # an opening trade (its position's closes are the rows), or no position at all
        pair = symbol_for_id(str(trade.get("pair", ""))) or str(trade.get("pair", ""))
        volume, exit_price, closed_at = _dec(trade.get("vol")), _dec(trade.get("price")), _time(trade.get("time"))
        if not volume or exit_price is None or closed_at is None:
            continue
        opening = trades.get(str(position_id), {})
        entry, opened_vol = _dec(opening.get("price")), _dec(opening.get("vol"))
        share = volume / opened_vol if opened_vol else None
        side = "long" if trade.get("type") == "sell" else "short"
        open_fee = _dec(opening.get("fee")) if opening else None
        ledger = fees_by_position.get(str(position_id))
        close_fee = _dec(trade.get("fee"))
        trading = None if share is None or open_fee is None or close_fee is None else open_fee * share + close_fee
        fees = FeeSplit(trading, None if ledger is None or share is None else ledger["margin"] * share,
                        None if ledger is None or share is None else ledger["rollover"] * share)
        realized = None
        if entry is not None and fees.total is not None:
            gross = (exit_price - entry) * volume if side == "long" else (entry - exit_price) * volume
            realized = gross - fees.total
        quote = common_currency(pair.rpartition("/")[2]) if "/" in pair else account
        order = orders.get(str(trade.get("ordertxid", "")), {})
        if trade.get("ordertype") == "settle-position":
            reason = "settled"
        elif "liquidated" in str(order.get("misc", "")).split(","):
            reason = "liquidated"
        else:
            reason = "closed"
        rows.append(ClosedPosition(
            id=str(position_id), pair=pair, side=side, volume=volume, opened_at=_time(opening.get("time")),
            closed_at=closed_at, entry_price=entry, exit_price=exit_price, realized_pnl=realized, fees=fees,
            reason=reason, currency=quote,  # Kraken books these in the pair's quote currency
            price_places=(price_places or {}).get(pair),
        ))
    return sorted(rows, key=lambda r: r.closed_at, reverse=True)

