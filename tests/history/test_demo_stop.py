"""The demo crash shows a stop saving a position (issue 16 item 5): the real poller, a real journal file."""

from __future__ import annotations

from decimal import Decimal

from kraken_monitor.domain.costs import TAKER_FEE_RATE
from kraken_monitor.storage.history_queries import read_history
from kraken_monitor.testing.recordings import record_demo_crash
from kraken_monitor.text.alerts import alert_message


def test_in_the_demo_crash_the_stop_closes_its_position_before_the_oldest_is_liquidated(tmp_path):
    config, snapshots, fired = record_demo_crash(tmp_path)
    first = {pf.position.id: pf for pf in snapshots[0].positions}
    protected = [pf for pf in first.values() if "unprotected" not in pf.warnings]
    # One position carries a stop; the rest (the oldest BTC long included) still say "unprotected".
    assert len(protected) == 1 and len(first) - 1 == sum("unprotected" in pf.warnings for pf in first.values())
    pf = protected[0]
    (stop,) = pf.orders
    assert (pf.position.pair, stop.type.value, stop.reduce_only, stop.volume) == (
        "BTC/USD", "stop-loss", True, pf.remaining_volume)
    assert stop.trigger_price == pf.stop_loss_price < pf.price  # a sell stop below the price
    assert pf.liquidation_price is None or stop.trigger_price > pf.liquidation_price

    events = {a.position_id: a for a in fired if a.is_event and a.reason != "position_opened"}
    saved = events[pf.position.id]
    assert saved.reason == "position_closed" and saved.fact("closed_by") == "stop-loss"
    # Filled at its trigger (the paper venue fills a market stop there), the whole position, before
    # the crash liquidated the oldest BTC long (the liquidation is the recording's last event).
    assert saved.fact("price") == stop.trigger_price and saved.fact("volume") == pf.remaining_volume
    assert [a.reason for a in fired if a.is_event][-1] == "position_liquidated"
    assert fired.index(saved) < fired.index(events["PAPER-00001"])
    assert events["PAPER-00001"].reason == "position_liquidated"
    # Realised loss, derived: gross (trigger - entry) x volume, minus the taker fee on the opening and
    # the closing trade, the margin opening fee and the rollovers (none: opened 3 h ago, first at 4 h).
    volume, entry, trigger = pf.remaining_volume, pf.entry_price, stop.trigger_price
    closing_fee = (TAKER_FEE_RATE * trigger * volume).quantize(Decimal("0.0001"))
    assert saved.fact("fee_trading") == pf.position.trading_fee + closing_fee
    assert saved.fact("fee_rollovers") == 0
    expected = (trigger - entry) * volume - pf.position.trading_fee - closing_fee - pf.position.opening_fee
    realized = saved.fact("realized_pnl")
    assert abs(realized - expected) <= Decimal("0.0001")  # the paper account books to 0.0001 USD
    # Bounded: about the 5 % from entry to the stop plus fees, a small part of what the liquidation lost.
    assert -Decimal("0.06") * pf.position.cost < realized < 0
    assert realized * 50 > events["PAPER-00001"].fact("realized_pnl")
    assert alert_message(saved).endswith("(stop-loss filled)")

    # The history (what `history` and the dock read) says "closed", not "liquidated".
    rows = {row.id: row for row in read_history(config.db_path)}
    assert rows[pf.position.id].reason == "closed" and rows["PAPER-00001"].reason == "liquidated"
    assert rows[pf.position.id].exit_price == trigger
