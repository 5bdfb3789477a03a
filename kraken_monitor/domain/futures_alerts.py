"""Futures alerts: an Alert record when the account's or a position's risk rises to a danger level (pure)."""

from __future__ import annotations

from datetime import datetime

from kraken_monitor.domain.alert_levels import DANGER_LEVELS
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.models import FUTURES_KEY_PREFIX, Alert, Risk

REASON_ACCOUNT = "futures_margin_level"
REASON_POSITION = "futures_distance"


class FuturesAlertTracker:
    """Fires once per rise (watch -> warning -> critical ...); a level falls back silently and re-arms.

    Stale books fire nothing and change nothing: "risk unknown" is shown by the caller as such.
    """

    def __init__(self, account_label: str) -> None:
        self.account_label = account_label  # "futures demo", named in every alert
        self._levels: dict[str, Risk] = {}
        self._snoozed: dict[str, tuple[datetime, Risk]] = {}  # key -> (until, at this level and below)

    def follow(self, alert: Alert) -> None:
        """The trader snoozed one of these alerts (the journal's record): its key stays quiet at that level
        and below until then; a higher level fires through, as for spot alerts."""
        if alert.is_futures and alert.snoozed_until is not None:
            self._snoozed[alert.key] = (alert.snoozed_until, alert.level)

    def _silenced(self, key: str, level: Risk, now: datetime) -> bool:
        until, snoozed_level = self._snoozed.get(key, (None, Risk.OK))
        return until is not None and now < until and level <= snoozed_level

    def update(self, book: FuturesBook) -> tuple[Alert, ...]:
        if book.stale or book.account is None:
            return ()
        account = book.account
        fired = []
        account_key = f"{FUTURES_KEY_PREFIX}account"
        checks: list[tuple[str, Risk, Alert]] = [(account_key, account.risk, Alert(
            key=account_key, level=account.risk, position_id=None, pair=None,
            margin_level=account.margin_level, distance_to_liquidation_pct=None, reason=REASON_ACCOUNT,
            fired_at=book.as_of, facts=(("account", self.account_label),)))]
        for pf in book.positions:
            key = f"{FUTURES_KEY_PREFIX}{pf.position.id}"
            checks.append((key, pf.risk, Alert(
                key=key, level=pf.risk, position_id=pf.position.id, pair=pf.position.pair,
                margin_level=account.margin_level, distance_to_liquidation_pct=pf.distance_to_liquidation_pct,
                reason=REASON_POSITION, fired_at=book.as_of,
                facts=(("account", self.account_label), ("side", pf.position.side.value),
                       ("liquidation_price", pf.liquidation_price), ("source", pf.liquidation_price_source),
                       # issue 16: worded "no stop-loss" (only when its orders were read and none is a stop)
                       ("unprotected", int("unprotected" in pf.warnings))))))
        for key, level, alert in checks:
            before = self._levels.get(key, Risk.OK)
            self._levels[key] = level
            if level in DANGER_LEVELS and level > before and not self._silenced(key, level, book.as_of):
                fired.append(alert)
        return tuple(fired)
