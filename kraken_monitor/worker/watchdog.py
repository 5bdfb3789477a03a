"""The watchdog outside the poll thread: no fresh snapshot within the stale window -> risk unknown, saying why.

The poll thread can be stuck (a dripping response, a hung request, a blocked journal) and then cannot
report anything itself. The GUI thread and `watch`'s main loop each run a `Watchdog` on the monotonic
clock, fed with every snapshot they receive, and read `Activity` (what the poll thread waits for).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.alerts import REASON_STALE, STALE_KEY
from kraken_monitor.domain.models import Alert, Risk, Snapshot
from kraken_monitor.worker.freshness import Activity, Monotonic

NOT_RESPONDING = "monitor not responding"
STARTUP_FLOOR_S = 10.0


def watchdog_windows(config: MonitorConfig) -> tuple[float, float]:
    """(stale window once running, allowance before the first snapshot), in seconds.

    Fresh snapshots follow every price read, so the price window is the one that matters once running.
    Before the first snapshot the worker holds back for the longer of its windows (start grace: pair
    rules, first account read); the watchdog allows that plus one price window, and never less than
    STARTUP_FLOOR_S (importing ccxt and loading markets takes seconds on a slow machine).
    """
    window = max(config.price_stale_after_s(), 1.0)
    startup = max(config.price_stale_after_s(), config.account_stale_after_s()) + window
    startup = max(startup, STARTUP_FLOOR_S)
    return window, startup


class Watchdog:
    """Owned by one thread (GUI or `watch` main). `check()` says whether the monitor stopped answering."""

    def __init__(self, window_s: float, startup_s: float, activity: Activity,
                 monotonic: Monotonic = time.monotonic):
        self.window_s = window_s
        self.startup_s = startup_s
        self.activity = activity
        self._monotonic = monotonic
        self._started = monotonic()
        self._last_fresh: float | None = None
        self._last_any: float | None = None
        self._last_snapshot: Snapshot | None = None
        self.tripped = False  # currently reporting "not responding" (one alert per episode)

    def saw_snapshot(self, snapshot: Snapshot) -> None:
        now = self._monotonic()
        self._last_any = now
        self._last_snapshot = snapshot
        if not snapshot.stale:
            self._last_fresh = now
            self.tripped = False

    def reason(self) -> str | None:
        """"monitor not responding: waiting for <what> (N s)" when overdue, else None."""
        now = self._monotonic()
        if self._last_fresh is None and self._last_any is None:
            overdue = now - self._started > self.startup_s
        else:
            overdue = now - (self._last_fresh if self._last_fresh is not None else self._started) > self.window_s
            # The worker still reports (stale snapshots with its own reason): it is not stuck.
            overdue = overdue and now - (self._last_any or self._started) > self.window_s
        if not overdue:
            return None
        what, busy_for = self.activity.current()
        if what == Activity.IDLE:
            quiet = now - (self._last_any if self._last_any is not None else self._started)
            return f"{NOT_RESPONDING}: waiting for {what} (no snapshot for {quiet:.0f} s)"
        return f"{NOT_RESPONDING}: waiting for {what} ({busy_for:.0f} s)"

    def check(self) -> tuple[str | None, bool]:
        """(reason or None, True when this call starts a new not-responding episode)."""
        reason = self.reason()
        started = reason is not None and not self.tripped
        if reason is not None:
            self.tripped = True
        return reason, started

    def unknown_snapshot(self, mode: str, reason: str, now: datetime | None = None) -> Snapshot:
        """The last snapshot with every risk UNKNOWN and the watchdog's reason (or an empty unknown one)."""
        now = now or datetime.now(timezone.utc)
        last = self._last_snapshot
        if last is None:
            return Snapshot(mode=mode, as_of=now, stale=True, account=None, positions=(), stale_reason=reason,
                            connection="not responding")
        account = replace(last.account, risk=Risk.UNKNOWN) if last.account is not None else None
        positions = tuple(replace(pf, risk=Risk.UNKNOWN) for pf in last.positions)
        return replace(last, as_of=now, stale=True, account=account, positions=positions, alerts=(),
                       stale_reason=reason, connection="not responding")


def stale_alert(reason: str, now: datetime | None = None) -> Alert:
    """The 'data stale' alert the watchdog raises itself (the alert engine lives in the stuck thread)."""
    return Alert(key=STALE_KEY, level=Risk.UNKNOWN, position_id=None, pair=None, margin_level=None,
                 distance_to_liquidation_pct=None, reason=REASON_STALE, fired_at=now or datetime.now(timezone.utc),
                 stale=True, facts=(("stale_reason", reason), ("figures_unknown", 0)))
