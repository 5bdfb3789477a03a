"""Alert records for the notify tests (real domain records, built the way the engine builds them)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.domain.events import LIQUIDATED, position_event
from kraken_monitor.domain.models import Alert, Risk
from kraken_monitor.testing.builders import position

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def level_alert(level: Risk, alert_id: int = 1, key: str = "account") -> Alert:
    return Alert(key=key, level=level, position_id="PAPER-00001", pair="BTC/USD",
                 margin_level=Decimal("79.9"), distance_to_liquidation_pct=Decimal("3.25"),
                 reason="margin_level", fired_at=T0, id=alert_id,
                 facts=(("margin_call_level", Decimal(80)), ("liquidation_level", Decimal(40)),
                        ("margin_risk", int(level))))


def liquidation_event(alert_id: int = 9) -> Alert:
    event = position_event(LIQUIDATED, position("PAPER-00001"), T0, Decimal("0.5"), Decimal("47500"),
                           Decimal("-2500"), "USD", "paper")
    return Alert(**{**event.__dict__, "id": alert_id})
