"""Every sentence a notification channel sends or the notification settings show (titles, bodies, status)."""

from __future__ import annotations

from datetime import datetime

from kraken_monitor.domain.models import Alert
from kraken_monitor.text.alerts import alert_details, alert_headline

APP = "kraken-monitor"
TEST_TITLE = f"{APP}: test notification"
TEST_BODY = "This channel receives kraken-monitor alerts."
STATUS_OK = "delivered"
UNKNOWN_URL = "not a notification URL apprise knows (check the scheme, e.g. ntfy://, tgram://, mailto://, json://)"
REFUSED = "the service refused it or could not be reached"
DELIVERY_FAILED_TITLE = f"{APP}: an alert notification was not delivered"


def notification(alert: Alert, *, escalated_after_s: float | None = None) -> tuple[str, str]:
    """(title, body) for one alert or position event, made from the record like the popup's text."""
    title = f"{APP}: {alert_headline(alert)}"
    lines = alert_details(alert)
    if escalated_after_s is not None:
        lines.append(f"Not acknowledged at the desk within {escalated_after_s:g} s.")
    return title, "\n".join(lines)


def delivery_status(label: str, ok: bool, reason: str, attempts: int, when: datetime) -> str:
    """'12:03:07 Phone (ntfy): delivered' / '... failed after 4 attempts: the service refused it ...'."""
    stamp = f"{when.astimezone():%H:%M:%S}"
    if ok:
        return f"{stamp} {label}: {STATUS_OK}"
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    return f"{stamp} {label}: failed after {tries}: {reason}"


def retrying(label: str, attempt: int, delay_s: float) -> str:
    return f"{label}: attempt {attempt} failed, retrying in {delay_s:.0f} s"

# -- the settings' words for what a channel receives ---------------------------------------------------
LEVEL_LABELS = {
    "watch": "Watch",
    "warning": "Warning",
    "critical": "Critical (margin call)",
    "liquidation": "Liquidation",
    "stale": "Risk unknown (stale data)",
}
EVENT_LABELS = {
    "opened": "Opened",
    "partially_closed": "Partly closed",
    "closed": "Closed",
    "settled": "Settled",
    "liquidated": "Liquidated",
}
NO_KEYRING = ("No OS keyring: channel URLs (they hold tokens) cannot be saved. "
              "`kraken-monitor watch --notify URL` works without one.")
TEST_SENDING = "sending a test..."


def channel_summary(label: str, levels: frozenset[str], events: frozenset[str]) -> str:
    """'Phone: alerts critical, liquidation, stale; events liquidated' (the channel list's line)."""
    alerts = ", ".join(w for w in LEVEL_LABELS if w in levels) or "none"
    kinds = ", ".join(w.replace("_", " ") for w in EVENT_LABELS if w in events) or "none"
    return f"{label}: alerts {alerts}; events {kinds}"


def receives_title(label: str | None) -> str:
    return f"{label} receives" if label else "Select a channel to choose what it receives"
