"""Every string of replay mode (the banner, the bar, the disabled actions' reason, the `replay` command)."""

from __future__ import annotations

from datetime import datetime

from kraken_monitor.text import numbers as fmt

BANNER = "REPLAY {when} \u2014 not live"
BANNER_TIP = ("The positions table, account bar, gauge and alert log show the journal as it was at {when}. "
              "Live monitoring and alerts keep running underneath. Esc returns to live data.")
BAR_LABEL = "Replay"
SLIDER_TIP = "Drag to a past moment of the journal ({first} \u2026 {last})"
TIME_TIP = "The moment to replay (local time); the last recorded cycle at or before it is shown"
GO_BUTTON = "Replay"
GO_TIP = "Show the journal as it was at the chosen time"
LIVE_BUTTON = "Back to live"
LIVE_TIP = "Return to live data (Esc)"
ACTION = "Replay\u2026"
ACTION_TIP = "Show the positions, account and alerts as they were at a past moment (Ctrl+R)"
EVENT_ACTION = "Replay this moment"
EVENT_TIP = "Show the positions, account and alerts as they were when this happened"
HISTORY_ACTION = "Replay the moment before it ended"
DISABLED_REASON = "Disabled during replay: the figures on screen are history, not live. Esc returns to live data."
NOTHING = "Nothing to replay yet: the journal has no cycle recorded since replay was added."
FAILED = "Replay unavailable: {reason}"
NO_LIVE_YET = "waiting for the first live read"
BANNER_TITLE = "REPLAY {when} (not live)"
POPUP_NOTE = "Live alert while replaying: press Esc to return to live data."


def when(at: datetime) -> str:
    """The replayed moment as the banner names it: local date and time to the second."""
    return fmt.fmt_datetime(at)


def banner(at: datetime) -> str:
    return BANNER.format(when=when(at))


def title(at: datetime) -> str:
    return BANNER_TITLE.format(when=when(at))


def banner_tip(at: datetime) -> str:
    return BANNER_TIP.format(when=when(at))


def slider_tip(first: datetime, last: datetime) -> str:
    return SLIDER_TIP.format(first=when(first), last=when(last))


def command_header(at: datetime, mode: str) -> str:
    return f"REPLAY of the {mode} journal at {when(at)} \u2014 not live"
