"""PlaceOrder / ModifyOrder / CancelOrder through PollWorker.handle on the real demo poller: journaled, validated."""

from __future__ import annotations

from decimal import Decimal

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.orders import OrderSide, OrderSpec, OrderType
from kraken_monitor.worker.opening import open_poller
from kraken_monitor.worker.poll_worker import PollWorker
from kraken_monitor.worker.requests import CancelOrder, ModifyOrder, PlaceOrder


def test_place_modify_cancel_round_trip_journaled(tmp_path):
    config = MonitorConfig(mode="demo", db_path=tmp_path / "demo.sqlite3")
    worker = PollWorker(config)
    worker.poller = open_poller(config).poller
    results = []
    worker.action_finished.connect(lambda request, result: results.append(("finished", request, result)))
    worker.action_failed.connect(lambda request, text: results.append(("failed", request, text)))
    try:
        now = worker._now()
        worker.poller.poll_account(now)
        worker.poller.poll_prices(now)
        btc = next(p for p in worker.poller.account.positions if p.pair == "BTC/USD")  # the oldest, unprotected
        # The demo book comes with one resting stop (on its newer BTC long, not on `btc`): it stays throughout.
        seeded = [o.id for o in worker.poller.account.orders]
        assert len(seeded) == 1 and worker.poller.account.orders[0].position_id != btc.id
        price = worker.poller.tickers["BTC/USD"].last
        spec = OrderSpec(btc.id, "BTC/USD", OrderType.STOP_LOSS, OrderSide.SELL, btc.remaining_volume,
                         (price * Decimal("0.9")).quantize(Decimal("0.1")))
        worker.handle(PlaceOrder(spec))
        assert results[-1][0] == "finished", results[-1]
        order_id = results[-1][2].order_id
        assert [o.id for o in worker.poller.account.orders] == [*seeded, order_id]  # re-read at once after the action
        pf = next(pf for pf in worker.poller.build_snapshot().positions if pf.position.id == btc.id)
        assert pf.stop_loss_price == spec.trigger_price and "unprotected" not in pf.warnings
        wrong = OrderSpec(btc.id, "BTC/USD", OrderType.STOP_LOSS, OrderSide.SELL, btc.remaining_volume,
                          price * 2)  # above the price: would fire at once
        worker.handle(ModifyOrder(order_id, wrong))
        assert results[-1][0] == "failed" and "must trigger below" in results[-1][2]
        worker.handle(CancelOrder(order_id, "BTC/USD"))
        assert results[-1][0] == "finished" and [o.id for o in worker.poller.account.orders] == seeded
        kinds = [r[0] for r in worker.poller.journal.conn.execute(
            "SELECT kind FROM actions WHERE kind NOT LIKE 'paper:%' ORDER BY rowid").fetchall()]
        assert kinds == ["place_order", "cancel_order"]  # the refused modify was never sent (nor journaled)
    finally:
        worker.poller.flush()


def test_live_orders_need_live_trading_enabled(tmp_path):
    import pytest

    from kraken_monitor.domain.errors import NotSupported
    from kraken_monitor.worker.cycle import Poller

    poller = Poller(MonitorConfig(mode="live"), exchange=None)  # type: ignore[arg-type]
    with pytest.raises(NotSupported, match="Live trading is off"):
        poller.cancel_order("O1", "BTC/USD")
