"""TradesHistory for the Kraken-protocol test server: the opening and closing trades of margin positions.

Kraken's shape: `{"trades": {txid: {...}}, "count": n}`. A position's id is its opening trade's txid;
the opening trade carries `posstatus` ("open" / "closed") and, once (part of) it is closed, `cprice`,
`ccost`, `cfee`, `cvol`, `cmargin`, `net` and `trades` (the closing trades' ids). Each closing trade
names its position in `postxid`, and its order in `ordertxid` (ClosedOrders has that order; a
liquidation's order says misc "liquidated"). Kept in its own module so the sim's order code stays apart.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def _book(sim: Any) -> dict[str, dict]:
    return sim.__dict__.setdefault("trades_history", {})


def record_opening(sim: Any, p: Any) -> None:
    """The trade that opened position `p` (a SimPosition), under the position's own txid."""
    volume = p.vol
    price = p.cost / p.remaining if p.remaining else Decimal(0)
    _book(sim)[p.txid] = {
        "ordertxid": p.ordertxid, "postxid": p.txid, "pair": p.spec.altname, "time": p.time, "type": p.type,
        "ordertype": "market", "price": str(price), "cost": str(price * volume), "fee": str(p.fee),
        "vol": str(volume), "margin": str(p.margin), "leverage": str(int(p.cost / p.margin)) if p.margin else "0",
        "misc": "", "posstatus": "open",
    }


def record_closing(sim: Any, p: Any, volume: Decimal, price: Decimal, ordertxid: str, ordertype: str = "market") -> str:
    """A trade closing `volume` of `p` at `price`; updates the opening trade's closed figures. Its txid."""
    book = _book(sim)
    trade_id = f"T{next(sim._ids):05d}-SIMUL-CLOSE"
    closing = "sell" if p.type == "buy" else "buy"
    fee = Decimal(0) if ordertype == "settle-position" else price * volume * sim.fee_rate
    book[trade_id] = {
        "ordertxid": ordertxid, "postxid": p.txid, "pair": p.spec.altname, "time": time.time(), "type": closing,
        "ordertype": ordertype, "price": str(price), "cost": str(price * volume), "fee": str(fee),
        "vol": str(volume), "margin": "0", "misc": "closing",
    }
    opening = book.get(p.txid)
    if opening is not None:
        entry = Decimal(opening["price"])
        cvol = Decimal(opening.get("cvol", "0")) + volume
        ccost = Decimal(opening.get("ccost", "0")) + price * volume
        gross = (price - entry) * volume if p.type == "buy" else (entry - price) * volume
        opening.update({
            "cvol": str(cvol), "ccost": str(ccost), "cprice": str(ccost / cvol),
            "cfee": str(Decimal(opening.get("cfee", "0")) + fee),
            "net": str(Decimal(opening.get("net", "0")) + gross - fee),
            "trades": [*opening.get("trades", []), trade_id],
            "posstatus": "closed" if cvol >= Decimal(opening["vol"]) else "open",
        })
    return trade_id


PAGE_SIZE = 50  # TradesHistory, ClosedOrders and Ledgers answer 50 rows per call; `ofs` pages, `count` = all


def page(rows: dict[str, dict], params: Mapping[str, str]) -> dict[str, dict]:
    """The page Kraken returns: `PAGE_SIZE` rows from offset `ofs` of `rows` (already newest first)."""
    ofs = int(params.get("ofs") or 0)
    return dict(list(rows.items())[ofs:ofs + PAGE_SIZE])


def trades_history_payload(sim: Any, params: Mapping[str, str]) -> dict:
    """TradesHistory: trades at or after `start` (unix seconds), newest first; `type` "closing position"
    keeps the closing trades only, "closed position" the openings of closed positions."""
    start = float(params.get("start") or 0)
    kind = params.get("type", "all")
    with sim._lock:
        rows = {k: dict(v) for k, v in sorted(_book(sim).items(), key=lambda kv: -kv[1]["time"]) if v["time"] >= start}
    if kind == "closing position":
        rows = {k: v for k, v in rows.items() if "posstatus" not in v}
    elif kind == "closed position":
        rows = {k: v for k, v in rows.items() if v.get("posstatus") == "closed"}
    for row in rows.values():
        row["time"] = f"{row['time']:.4f}"
    return {"trades": page(rows, params), "count": len(rows)}


ROLLOVER_RATE = Decimal("0.0001")  # the sim's positions carry Kraken's usual "0.0100% per 4 hours"
ROLLOVER_S = 4 * 3600


def ledgers_payload(sim: Any, params: Mapping[str, str]) -> dict:
    """Ledgers: each position's margin opening fee (type "margin", at its opening) and one "rollover" entry per
    4 h mark until it closed (or now), `refid` the position's txid, fees as negative amounts in its quote asset."""
    start = float(params.get("start") or 0)
    now = time.time()
    rows: dict[str, dict] = {}
    with sim._lock:
        book = dict(_book(sim))
    for txid, trade in book.items():
        if "posstatus" not in trade:
            continue
        cost, opened = Decimal(trade["cost"]), float(trade["time"])
        closes = [book[t] for t in trade.get("trades", []) if t in book]
        ended = max((float(c["time"]) for c in closes), default=now) if trade["posstatus"] == "closed" else now
        marks = [("margin", opened)] + [("rollover", opened + k * ROLLOVER_S)
                                        for k in range(1, int((ended - opened) // ROLLOVER_S) + 1)]
        for n, (kind, at) in enumerate(marks):
            if at >= start:
                fee = cost * ROLLOVER_RATE
                rows[f"L{txid}-{n:03d}"] = {"refid": txid, "time": f"{at:.4f}", "type": kind, "subtype": "",
                                            "aclass": "currency", "asset": "ZUSD", "amount": str(-fee),
                                            "fee": "0", "balance": "0"}
    rows = dict(sorted(rows.items(), key=lambda kv: -float(kv[1]["time"])))  # newest first, as Kraken pages them
    return {"ledger": page(rows, params), "count": len(rows)}


def query_trades_payload(sim: Any, params: Mapping[str, str]) -> dict:
    """QueryTrades: the trades named in `txid` (comma-separated), whatever their age; unknown ids are left out."""
    wanted = [t for t in str(params.get("txid", "")).split(",") if t]
    with sim._lock:
        rows = {t: dict(_book(sim)[t]) for t in wanted if t in _book(sim)}
    for row in rows.values():
        row["time"] = f"{row['time']:.4f}"
    return rows
