"""The name of a monitored account (venue x kind) as the table, the account bars and the alerts say it."""

from __future__ import annotations

from kraken_monitor.domain.models import Alert
from kraken_monitor.domain.venue import AccountKind, Venue

_VENUE_WORDS = {Venue.SPOT_MARGIN: "spot margin", Venue.FUTURES: "futures"}


def account_name(venue: Venue, kind: AccountKind | str) -> str:
    """'spot margin demo', 'futures live': the words every view uses for one account."""
    return f"{_VENUE_WORDS[venue]} {AccountKind.parse(kind).value}"


def alert_account(alert: Alert, default: str) -> str:
    """The account an alert concerns: its own fact (futures alerts name theirs), else `default`."""
    named = alert.fact("account")
    return str(named) if named else default
