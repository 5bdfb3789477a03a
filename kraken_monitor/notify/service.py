"""Alerts to channels: events and routed levels at once, critical/liquidation after the escalation wait."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from kraken_monitor.domain.models import Alert
from kraken_monitor.notify.channels import Channel
from kraken_monitor.notify.delivery import DeliveryStatus, Notifier
from kraken_monitor.notify.escalation import DEFAULT_AFTER_S, Escalation, escalates
from kraken_monitor.text import notify as text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Destination:
    """A channel with its URL, loaded from the keyring (or given on the command line) for this run only."""

    channel: Channel
    url: str

    def __repr__(self) -> str:  # never the URL, wherever a destination is printed
        return f"Destination({self.channel.id!r}, {self.channel.label!r})"

    __str__ = __repr__


class AlertNotifications:
    """The one place alerts leave the machine. `at_desk=False` (the headless watcher, where nobody can
    acknowledge) sends escalating levels at once instead of waiting."""

    def __init__(
        self,
        destinations: Sequence[Destination] = (),
        *,
        at_desk: bool = True,
        escalate_after_s: float = DEFAULT_AFTER_S,
        clock: Callable[[], float] | None = None,
        on_status: Callable[[DeliveryStatus], None] | None = None,
        notifier: Notifier | None = None,
    ):
        self.destinations = tuple(destinations)
        self.at_desk = at_desk
        self.notifier = notifier or Notifier(on_status)
        self.escalation = Escalation(self._escalate, escalate_after_s, clock)  # type: ignore[arg-type]

    def set_destinations(self, destinations: Iterable[Destination], escalate_after_s: float) -> None:
        self.destinations = tuple(destinations)
        self.escalation.after_s = escalate_after_s

    def fired(self, alerts: Iterable[Alert]) -> None:
        for alert in alerts:
            if self.at_desk and escalates(alert):
                self.escalation.fired(alert)
            else:
                self.deliver(alert)

    def acknowledged(self, alert_id: int) -> None:
        self.escalation.acknowledged(alert_id)

    def changed(self, alerts: Iterable[Alert]) -> None:
        self.escalation.changed(alerts)

    def tick(self) -> tuple[Alert, ...]:
        return self.escalation.tick()

    def _escalate(self, alert: Alert, waited_s: float) -> None:
        self.deliver(alert, escalated_after_s=round(waited_s))

    def deliver(self, alert: Alert, escalated_after_s: float | None = None) -> int:
        """Queue the alert for every channel that routes it; how many were queued."""
        title, body = text.notification(alert, escalated_after_s=escalated_after_s)
        sent = 0
        for dest in self.destinations:
            if dest.channel.wants(alert):
                sent += self.notifier.submit(dest.channel.id, dest.channel.label, dest.url, title, body)
        return sent

    def send_test(self, destination: Destination) -> bool:
        return self.notifier.submit(destination.channel.id, destination.channel.label, destination.url,
                                    text.TEST_TITLE, text.TEST_BODY)

    def stop(self) -> None:
        self.escalation.clear()
        self.notifier.stop()
