"""Escalation: a critical or liquidation alert nobody acknowledged within N s goes to the channels (pure, fake-clock testable)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kraken_monitor.domain.models import Alert
from kraken_monitor.notify.channels import ESCALATING

DEFAULT_AFTER_S = 60.0


def escalates(alert: Alert) -> bool:
    """Critical (margin call) and liquidation level alerts wait for the desk first; stale data and
    position events do not (a liquidation already happened: nobody can act on it at the desk)."""
    return not alert.is_event and not alert.stale and alert.level in ESCALATING


@dataclass
class Escalation:
    """Alerts waiting for an acknowledgement, by alert id. `tick()` (from a timer) sends the overdue ones.

    `clock` is monotonic seconds (injectable); `send(alert, waited_s)` hands one alert to the channels.
    One alert escalates once; acknowledging or snoozing it anywhere before then cancels it.
    """

    send: Callable[[Alert, float], None]
    after_s: float = DEFAULT_AFTER_S
    clock: Callable[[], float] = field(default=None)  # type: ignore[assignment]
    _waiting: dict[int, tuple[Alert, float]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.clock is None:
            import time

            self.clock = time.monotonic

    def fired(self, alert: Alert) -> bool:
        """Start waiting for this alert (True), or ignore it (not an escalating level, or already handled).

        A later alert on the same key replaces the earlier one but keeps its start: the trader has been
        away since the first one popped up."""
        if not escalates(alert) or alert.acknowledged_at is not None or alert.snoozed_until is not None:
            return False
        started = self.clock()
        for alert_id, (old, old_start) in list(self._waiting.items()):
            if old.key == alert.key:
                started = min(started, old_start)
                del self._waiting[alert_id]
        self._waiting[alert.id] = (alert, started)
        return True

    def acknowledged(self, alert_id: int) -> None:
        self._waiting.pop(alert_id, None)

    def changed(self, alerts: Iterable[Alert]) -> None:
        """The engine's updated records (acknowledged or snoozed anywhere): those stop waiting."""
        for alert in alerts:
            if alert.acknowledged_at is not None or alert.snoozed_until is not None:
                self._waiting.pop(alert.id, None)

    def clear(self) -> None:
        self._waiting.clear()

    def waiting(self) -> tuple[Alert, ...]:
        return tuple(alert for alert, _ in self._waiting.values())

    def tick(self) -> tuple[Alert, ...]:
        """Send every alert waiting for `after_s` or longer; the ones sent."""
        now = self.clock()
        due = [(alert_id, alert, now - start) for alert_id, (alert, start) in self._waiting.items()
               if now - start >= self.after_s]
        for alert_id, alert, waited in due:
            del self._waiting[alert_id]
            self.send(alert, waited)
        return tuple(alert for _, alert, _ in due)
