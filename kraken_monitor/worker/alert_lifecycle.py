"""The poller's alert lifecycle: the alert engine decides fired / acknowledged / snoozed, the journal persists it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from kraken_monitor.domain.alerts import AlertEngine
from kraken_monitor.domain.models import Alert

log = logging.getLogger(__name__)


class AlertLifecycle:
    """Mixed into worker/cycle.Poller, whose thread runs it: its engine and journal (None when headless)."""

    engine: AlertEngine
    journal: Any

    def restore_alerts(self, now: datetime, latch_since: datetime | None, limit: int = 500) -> tuple[Alert, ...]:
        """Seed the engine from the journal; returns the journalled alerts, newest first (the log's rows)."""
        if self.journal is None:
            return ()
        alerts = tuple(self.journal.recent_alerts(limit))
        self.engine.restore(alerts, now, latch_since)
        return alerts

    def acknowledge_alert(self, alert_id: int, now: datetime) -> Alert | None:
        return self._persist_state(self.engine.acknowledge_alert(alert_id, now))

    def snooze_alert(self, alert_id: int, until: datetime, confirmed: bool = False) -> Alert | None:
        """Raises NeedsConfirmation for an unconfirmed LIQUIDATION snooze (nothing journalled then)."""
        return self._persist_state(self.engine.snooze_alert(alert_id, until, confirmed=confirmed))

    def record_alerts(self, alerts: tuple[Alert, ...]) -> tuple[Alert, ...]:
        """Another account's alerts (the futures one): journalled with ids, remembered by the engine; a failed
        write still gives them local ids (acknowledge works until the restart) and is logged."""
        if self.journal is None:
            return self.engine.recorded(alerts)
        try:
            ids = self.journal.write_alerts(alerts)
        except Exception as exc:  # the journal's health shows at the next cycle write
            log.error("journal write of %d futures alerts failed: %s: %s", len(alerts), type(exc).__name__, exc)
            return self.engine.recorded(alerts)
        return self.engine.recorded(alerts, ids)

    def _persist_state(self, alert: Alert | None) -> Alert | None:
        if alert is not None and self.journal is not None and alert.id > 0:
            self.journal.save_alert_state(alert)
        return alert
