"""JSON shapes of the headless commands: exact keys, decimal strings, nulls, risk labels."""

import json
from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.domain.models import (
    Alert,
    MarginMode,
    Risk,
    Snapshot,
)
from kraken_monitor.testing.builders import (
    BTC,
    ETH,
    PRICES,
    RULES,
    account_state,
    engine_snapshot,
    open_order,
)
from kraken_monitor.testing.builders import position as build_position
from kraken_monitor.testing.records import shape_account, shape_figures
from kraken_monitor.worker.serialize import alert_to_json, snapshot_to_json

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)

ACCOUNT_KEYS = {"currency", "trade_balance", "equity", "used_margin", "free_margin", "margin_level",
                "margin_level_exchange", "margin_call_level", "liquidation_level", "risk", "fx_sensitivity", "orders"}
POSITION_KEYS = {"id", "pair", "side", "margin_mode", "volume", "entry_price", "price", "leverage", "cost",
                 "used_margin", "unrealized_pnl", "fees", "net_pnl", "break_even_price", "margin_call_price",
                 "liquidation_price", "distance_to_liquidation_pct", "next_rollover", "risk", "quote_currency",
                 "orders", "stop_loss_price", "take_profit_price", "warnings"}


def test_snapshot_json_has_exactly_the_documented_shape():
    snap = Snapshot(mode="demo", as_of=NOW, stale=False, account=shape_account(), positions=(shape_figures(),))
    data = json.loads(json.dumps(snapshot_to_json(snap)))
    assert set(data) == {"venue", "mode", "as_of", "stale", "account", "positions"}
    assert set(data["account"]) == ACCOUNT_KEYS
    assert set(data["positions"][0]) == POSITION_KEYS
    pos = data["positions"][0]
    assert pos["side"] == "short" and pos["margin_mode"] == MarginMode.CROSS.value
    assert pos["volume"] == "0.75"  # remaining volume, what the trader still holds
    assert pos["fees"] == "10"  # fixed-point text, never "1E+1"
    assert pos["distance_to_liquidation_pct"] == "-47.6"
    assert pos["risk"] == "warning"
    assert data["account"]["margin_level"] == "95.5" and data["account"]["margin_level_exchange"] is None
    assert data["as_of"] == "2026-02-01T12:00:00+00:00"


def test_stale_snapshot_carries_reason_and_nulls():
    pf = shape_figures(risk=Risk.UNKNOWN, liq=None)
    snap = Snapshot(mode="live", as_of=NOW, stale=True, account=shape_account(level=None), positions=(pf,),
                    stale_reason="prices are 9.0 s old")
    data = snapshot_to_json(snap)
    assert data["stale"] is True and data["stale_reason"] == "prices are 9.0 s old"
    assert data["positions"][0]["liquidation_price"] is None
    assert data["positions"][0]["risk"] == "unknown"
    assert data["account"]["margin_level"] is None


def test_alert_json_line():
    alert = Alert(key="pos:TXID-1", level=Risk.CRITICAL, position_id="TXID-1", pair="BTC/USD",
                  margin_level=Decimal("81.24"), distance_to_liquidation_pct=Decimal("6.5"),
                  reason="isolated_distance", fired_at=NOW,
                  facts=(("pair", "BTC/USD"), ("side", "short"), ("distance", Decimal("6.5")),
                         ("liquidation_price", Decimal("70123.4")), ("price_places", 1)))
    assert alert_to_json(alert) == {
        "type": "alert", "ts": "2026-02-01T12:00:00+00:00", "level": "critical", "position": "TXID-1",
        "pair": "BTC/USD", "margin_level": "81.24", "distance_to_liquidation_pct": "6.5",
        "message": "Isolated BTC/USD short is 6.5% from liquidation at 70,123 (margin level 81.2%)",
    }


def test_numbers_are_rounded_half_even_without_false_precision():
    from kraken_monitor.worker.serialize import _num, _pct

    assert _num(Decimal("49627.11409204243707722375076")) == "49627.11409204"
    assert _num(Decimal("0.000000005")) == "0"  # half-even at 8 places
    assert _num(Decimal("0.000000015")) == "0.00000002"
    assert _pct(Decimal("107.3164936113746686860635859")) == "107.3165"
    assert _num(Decimal("80")) == "80" and _num(Decimal("1E+3")) == "1000"  # never exponent form
    assert _num(Decimal("-0.000000001")) == "0"
    assert _num(Decimal("0.31580044"), None) == "0.31580044"
    assert _num(None) is None


def test_watch_lines_come_from_the_serializer():
    from kraken_monitor.worker.serialize import freshness_to_json, watch_snapshot_to_json

    fresh = Snapshot(mode="demo", as_of=NOW, stale=False, account=shape_account(Decimal("95.50")), positions=(shape_figures(),))
    assert watch_snapshot_to_json(fresh) == {"type": "snapshot", "ts": NOW.isoformat(), "stale": False,
                                             "margin_level": "95.5", "risk": "warning", "positions": 1}
    stale = Snapshot(mode="demo", as_of=NOW, stale=True, stale_reason="prices are 9.0 s old", account=None,
                     positions=())
    assert watch_snapshot_to_json(stale)["margin_level"] is None
    assert watch_snapshot_to_json(stale)["risk"] == "unknown"
    assert freshness_to_json(stale) == {"type": "stale", "ts": NOW.isoformat(), "reason": "prices are 9.0 s old"}


def test_terminal_table_shows_a_fractional_threshold_as_configured():
    from dataclasses import replace

    from kraken_monitor.worker.headless import format_table

    account = replace(shape_account(), margin_call_level=Decimal("82.5"))
    text = format_table(Snapshot(mode="demo", as_of=NOW, stale=False, account=account, positions=(shape_figures(),)))
    assert "margin level 95.5%  (call 82.5%, liquidation 40%)" in text  # not "call 82%"
    assert "equity 4,250.00" in text
    # volume in the pair's precision (no rules known: 8 places)
    row = text.splitlines()[-1].split()
    # the quote column: the record names no quote currency and no rules are known, so "-" (not a guess)
    assert row[:6] == ["TXID-1", "BTC/USD", "short", "cross", "-", "0.75000000"]


ORDER_KEYS = {"id", "type", "side", "volume", "trigger_price", "limit_price", "trigger", "reduce_only"}


def test_orders_in_the_snapshot_json_exactly_as_issue_16_writes_them():
    long_btc = build_position("P1", BTC, vol="1", entry="60000", lev=5)
    state = account_state("30000", long_btc, orders=(
        open_order("S1", trigger="55000"),
        open_order("T1", kind="take-profit-limit", trigger="70000", limit="69900", trigger_signal="index"),
        open_order("E1", pair=ETH, kind="limit", side="buy", trigger=None, limit="2000"),
    ))
    data = json.loads(json.dumps(snapshot_to_json(engine_snapshot(state, PRICES, RULES, NOW))))
    pos = data["positions"][0]
    assert [o["id"] for o in pos["orders"]] == ["S1", "T1"]
    assert all(set(o) == ORDER_KEYS for o in pos["orders"])
    assert pos["orders"][0] == {"id": "S1", "type": "stop-loss", "side": "sell", "volume": "1",
                                "trigger_price": "55000", "limit_price": None, "trigger": "last",
                                "reduce_only": True}  # inferred: a 1 BTC margin sell on a 1 BTC long
    assert pos["orders"][1]["type"] == "take-profit-limit" and pos["orders"][1]["limit_price"] == "69900"
    assert pos["stop_loss_price"] == "55000" and pos["take_profit_price"] == "70000"
    assert pos["warnings"] == []
    assert [o["id"] for o in data["account"]["orders"]] == ["E1"]  # protects nothing: unattached
    assert data["account"]["orders"][0]["reduce_only"] is False


def test_a_position_without_a_stop_says_unprotected():
    state = account_state("30000", build_position("P1", BTC, vol="1", entry="60000", lev=5))
    pos = snapshot_to_json(engine_snapshot(state, PRICES, RULES, NOW))["positions"][0]
    assert pos["orders"] == [] and pos["stop_loss_price"] is None and pos["warnings"] == ["unprotected"]
