"""The paper account's own events, read by the poller: how its positions ended, and their action-log fields."""

from __future__ import annotations

from dataclasses import replace

from kraken_monitor.domain.events import CloseInfo

PAPER_CLOSE_KINDS = {"liquidation": "liquidated", "isolated_liquidation": "liquidated", "closed": "closed",
                "settled": "settled"}


def paper_closes(events) -> dict[str, CloseInfo]:
    """The paper account's own word on how positions ended (P&L after fees, in the account currency)."""
    closes: dict[str, CloseInfo] = {}
    for event in events:
        kind = PAPER_CLOSE_KINDS.get(getattr(event, "kind", ""))
        position_id = getattr(event, "position_id", None)
        if kind is not None and position_id:
            closes[position_id] = CloseInfo(kind, getattr(event, "price", None), getattr(event, "amount", None),
                                            "paper", getattr(event, "fee", None))
        elif getattr(event, "kind", "") == "order_filled" and position_id in closes:
            # Logged right after the close it caused: that close was the stop (or take-profit) filling.
            closes[position_id] = replace(closes[position_id], order=getattr(event, "order", None) or "")
    return closes


def event_fields(event: object) -> dict:
    fields = getattr(event, "__dataclass_fields__", None) or {}
    return {name: None if getattr(event, name) is None else str(getattr(event, name)) for name in fields}
