"""Notification channels: which alert levels and position events go where (routing is not secret; URLs are)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from kraken_monitor.domain.events import KINDS as EVENT_KINDS
from kraken_monitor.domain.events import LIQUIDATED
from kraken_monitor.domain.models import EVENT_REASON_PREFIX, Alert, Risk

# Routable alert levels by the words the settings show; "stale" is risk unknown (the monitor is blind).
LEVELS = ("watch", "warning", "critical", "liquidation", "stale")
DEFAULT_LEVELS = frozenset({"critical", "liquidation", "stale"})  # critical = below the margin call
DEFAULT_EVENTS = frozenset({LIQUIDATED})
# Levels a trader must act on at once: at the desk they pop up first and escalate if nobody acknowledges.
ESCALATING = frozenset({Risk.CRITICAL, Risk.LIQUIDATION})
_ID = re.compile(r"^[a-z0-9-]{1,40}$")


def new_channel_id() -> str:
    return "ch-" + uuid.uuid4().hex[:12]


def alert_word(alert: Alert) -> str:
    """The routing word of an alert: a level, 'stale', or the event kind ('liquidated', ...)."""
    if alert.is_event:
        return alert.reason.removeprefix(EVENT_REASON_PREFIX)
    if alert.stale or alert.level == Risk.UNKNOWN:
        return "stale"
    return Risk(alert.level).label


@dataclass(frozen=True)
class Channel:
    """One destination. `id` names its URL in the keyring; `label` is what the trader calls it."""

    id: str
    label: str
    levels: frozenset[str] = field(default=DEFAULT_LEVELS)
    events: frozenset[str] = field(default=DEFAULT_EVENTS)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError("a channel id is 1-40 lowercase letters, digits or '-'")
        object.__setattr__(self, "levels", frozenset(self.levels) & frozenset(LEVELS))
        object.__setattr__(self, "events", frozenset(self.events) & frozenset(EVENT_KINDS))

    def wants(self, alert: Alert) -> bool:
        word = alert_word(alert)
        return word in (self.events if alert.is_event else self.levels)


def routing_text(words: frozenset[str], order: tuple[str, ...]) -> str:
    """'critical,liquidation' in a stable order (how the settings file keeps a routing)."""
    return ",".join(w for w in order if w in words)


def parse_routing(text: object, order: tuple[str, ...], default: frozenset[str]) -> frozenset[str]:
    """A stored routing back; anything unreadable is the default (never a crash, never "send nothing")."""
    if text is None:
        return default
    words = {part.strip().lower() for part in str(text).split(",") if part.strip()}
    return frozenset(words & set(order)) if words <= set(order) else default
