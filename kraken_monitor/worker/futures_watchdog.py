"""The futures poll thread's watchdog: no futures read within the configured stale window -> risk unknown, why.

The same rules as the spot poll thread's (worker/watchdog.py Watchdog, on the monotonic clock, fed by the
thread that receives the books): the window is the futures poll interval x `stale_after_intervals` from the
configuration, not a constant of its own. The GUI's FuturesController and `watch` both run one.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.models import FUTURES_KEY_PREFIX, Alert
from kraken_monitor.worker.freshness import Activity, Monotonic
from kraken_monitor.worker.watchdog import STARTUP_FLOOR_S, Watchdog, stale_alert

NOT_ANSWERING = "the futures poll thread is not answering"
FUTURES_STALE_KEY = f"{FUTURES_KEY_PREFIX}stale"


def futures_watchdog_windows(config: MonitorConfig, interval_s: float) -> tuple[float, float]:
    """(stale window once running, allowance before the first book), in seconds.

    window = the futures read interval x the configured `stale_after_intervals` (a book per read);
    before the first book: two windows, never under STARTUP_FLOOR_S (ccxt's import and the instruments list).
    """
    window = max(interval_s * config.stale_after_intervals, 1.0)
    return window, max(2 * window, STARTUP_FLOOR_S)


class FuturesWatchdog(Watchdog):
    """Owned by one thread (GUI or `watch` main); fed with every FuturesBook (`saw_snapshot` reads `.stale`)."""

    def __init__(self, window_s: float, startup_s: float, activity: Activity, mode: str,
                 monotonic: Monotonic = time.monotonic) -> None:
        super().__init__(window_s, startup_s, activity, monotonic)
        self.mode = mode

    def reason(self) -> str | None:
        if super().reason() is None:
            return None
        now = self._monotonic()
        quiet = now - (self._last_any if self._last_any is not None else self._started)
        what, _busy_for = self.activity.current()
        return f"no futures read for {quiet:.0f} s ({NOT_ANSWERING}: waiting for {what})"

    def unknown_book(self, reason: str, now: datetime | None = None) -> FuturesBook:
        """A stale book with the reason: the window keeps the last figures and rows, every risk unknown."""
        return FuturesBook(self.mode, now or datetime.now(timezone.utc), None, (), stale=True, stale_reason=reason)


def futures_stale_alert(reason: str, account: str, now: datetime | None = None) -> Alert:
    """The futures account's 'risk unknown' alert (its own key: the spot account's stale alert is another)."""
    alert = stale_alert(reason, now)
    return replace(alert, key=FUTURES_STALE_KEY, facts=(*alert.facts, ("account", account)))
