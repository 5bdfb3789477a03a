"""ClosedOrders on the Kraken test server: Kraken liquidating a position itself, and the ClosedOrders query."""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from kraken_monitor.testing import kraken_trades

if TYPE_CHECKING:
    from kraken_monitor.testing.kraken_sim import KrakenSim


def liquidate_position(sim: KrakenSim, txid: str, price: Decimal | None = None) -> str:
    """Kraken liquidates a position itself: it leaves OpenPositions and ClosedOrders shows the closing
    market order with misc "liquidated" (as Kraken marks them). Returns the closing order's txid."""
    with sim._lock:
        p = sim.positions.pop(txid)
        fill = Decimal(price) if price is not None else sim.prices[p.spec.symbol]
        now = time.time()
        order_id = f"O{next(sim._ids):05d}-SIMUL-LIQUID"
        closing = "sell" if p.type == "buy" else "buy"
        volume = p.remaining
        kraken_trades.record_closing(sim, p, volume, fill, order_id)
        sim.closed_orders[order_id] = {
            "refid": None, "userref": 0, "status": "closed", "opentm": now, "closetm": now, "starttm": 0,
            "expiretm": 0, "descr": {"pair": p.spec.altname, "type": closing, "ordertype": "market", "price": "0",
                                     "price2": "0", "leverage": f"{int(p.cost / p.margin)}:1",
                                     "order": f"{closing} {volume} {p.spec.altname} @ market", "close": ""},
            "vol": str(volume), "vol_exec": str(volume), "cost": str(fill * volume),
            "fee": str(fill * volume * sim.fee_rate), "price": str(fill), "stopprice": "0", "limitprice": "0",
            "misc": "liquidated", "oflags": "fciq", "margin": True, "reason": None,
        }
        return order_id



def closed_orders_payload(sim: KrakenSim, params: Mapping[str, str]) -> dict:
    """ClosedOrders: orders closed at or after `start` (unix seconds), newest first, with their count."""
    start = float(params.get("start") or 0)
    with sim._lock:
        rows = {k: dict(v) for k, v in sorted(sim.closed_orders.items(), key=lambda kv: -kv[1]["closetm"])
                if v["closetm"] >= start}
    for row in rows.values():
        row["opentm"], row["closetm"] = f"{row['opentm']:.4f}", f"{row['closetm']:.4f}"
    return {"closed": kraken_trades.page(rows, params), "count": len(rows)}

