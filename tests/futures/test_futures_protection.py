"""Kraken Futures orders attached to positions with domain/protection.py's rules (pure domain)."""

from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.domain import futures_protection as fp
from kraken_monitor.domain.futures import FuturesPosition, FuturesPositionFigures
from kraken_monitor.domain.models import MarginMode, Risk, Side
from kraken_monitor.domain.orders import OpenOrder, OrderSpec, OrderType, TriggerSignal
from kraken_monitor.domain.protection import Relation

D = Decimal
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
BTC = "BTC/USD:USD"


def row(side=Side.LONG, volume="0.5", entry=58000, mark=60000, liquidation=40000, funding="-2"):
    p = FuturesPosition("PF_XBTUSD", BTC, side, D(volume), D(entry), MarginMode.ISOLATED, D(5),
                        unrealized_funding=D(funding))
    return FuturesPositionFigures(p, D(mark), D(1000), D(998), D(5800), D(liquidation), "estimate", D(33), Risk.OK)


def order(oid, kind, side, volume, trigger=None, limit=None, reduce_only=True, pair=BTC):
    return OpenOrder(oid, pair, kind, side, D(volume), None if trigger is None else D(trigger),
                     None if limit is None else D(limit), TriggerSignal.MARK, reduce_only)


def test_reduce_only_opposite_orders_attach_with_pnl_after_the_taker_fee():
    rows, loose = fp.attach_orders((row(),), [
        order("s", OrderType.STOP_LOSS, "sell", "0.5", 55000),
        order("t", OrderType.TAKE_PROFIT, "sell", "0.5", 65000),
        order("open", OrderType.STOP_LOSS, "sell", "0.5", 54000, reduce_only=False),  # could flip it: not protection
        order("eth", OrderType.STOP_LOSS, "sell", "1", 2500, pair="ETH/USD:USD"),
    ], NOW)
    (pf,) = rows
    assert [o.id for o in pf.orders] == ["s", "t"] and [o.id for o in loose] == ["open", "eth"]
    assert (pf.stop_loss_price, pf.take_profit_price, pf.warnings) == (D(55000), D(65000), ())
    # stop: 0.5 x (55000 - 58000) = -1500, funding -2, fee 0.5 x 55000 x 0.05 % = 13.75 -> -1515.75
    assert pf.stop_loss_pnl == D("-1515.75")
    # take-profit: 0.5 x 7000 = 3500 - 2 - 0.5 x 65000 x 0.05 % (16.25) = 3481.75
    assert pf.take_profit_pnl == D("3481.75")
    assert pf.stop_loss_distance_pct == D("8.333333333333333333333333333")  # (60000 - 55000) / 60000


def test_warnings_unprotected_beyond_liquidation_and_exceeding():
    (bare,), _ = fp.attach_orders((row(),), [], NOW)
    assert bare.warnings == ("unprotected",) and bare.orders == ()
    (late,), _ = fp.attach_orders((row(),), [order("s", OrderType.STOP_LOSS, "sell", "0.5", 39000)], NOW)
    assert late.warnings == ("stop_beyond_liquidation",)  # 39000 < the 40000 liquidation on the mark
    (big,), _ = fp.attach_orders((row(),), [order("a", OrderType.STOP_LOSS, "sell", "0.5", 55000),
                                            order("b", OrderType.STOP_LOSS, "sell", "0.2", 54000)], NOW)
    assert big.warnings == ("order_exceeds_position",)  # 0.7 of stops on a 0.5 position


def test_preview_against_the_liquidation_price_of_a_short():
    short = row(side=Side.SHORT, entry=62000, liquidation=70000, funding="0")
    spec = OrderSpec("PF_XBTUSD", BTC, OrderType.STOP_LOSS, "buy", D("0.5"), D(71000), trigger=TriggerSignal.MARK)
    result = fp.preview(short, spec, NOW)
    assert result.relation is Relation.BEYOND_LIQUIDATION and result.vs_liquidation == D(1000)
    assert result.vs_margin_call is None and result.breakdown is None  # no margin call on Kraken Futures
    # -0.5 x (71000 - 62000) = -4500, fee 0.5 x 71000 x 0.05 % = 17.75
    assert result.pnl_at_trigger == D("-4517.75") and result.currency == "USD"
    assert "stop_beyond_liquidation" in result.warnings


def test_a_futures_alert_about_an_unprotected_position_says_no_stop_loss():
    from kraken_monitor.domain.futures_alerts import FuturesAlertTracker
    from kraken_monitor.testing.futures_books import futures_book
    from kraken_monitor.text.alerts import alert_message

    stop = OpenOrder("f-1", BTC, OrderType.STOP_LOSS, "sell", D(1), D(48000), None, TriggerSignal.MARK, True)
    protected = fp.with_orders(futures_book(), [stop])
    fired = {a.pair: alert_message(a) for a in FuturesAlertTracker("futures demo").update(protected) if a.pair}
    assert fired[BTC].startswith("futures demo: BTC/USD:USD long") and "no stop-loss" not in fired[BTC]
    bare = fp.with_orders(futures_book(), [])
    fired = {a.pair: alert_message(a) for a in FuturesAlertTracker("futures demo").update(bare) if a.pair}
    assert fired[BTC].endswith("; no stop-loss") and ".;" not in fired[BTC]  # one sentence, as spot words it
    unread = futures_book()  # orders not read: unknown, never worded "no stop-loss"
    fired = {a.pair: alert_message(a) for a in FuturesAlertTracker("futures demo").update(unread) if a.pair}
    assert "no stop-loss" not in fired[BTC]
