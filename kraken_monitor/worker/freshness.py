"""Freshness on the monotonic clock: when each feed and each pair was last read, and what the poll thread waits for.

Ages are monotonic differences, never wall-clock ones: a clock step (NTP, suspend, a user changing the
time) neither hides stale data nor raises a false alarm. Wall-clock times stay for display and the journal.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

Monotonic = Callable[[], float]


class Freshness:
    """Monotonic read marks per feed (prices, account) and per pair. Used by the poll thread only."""

    def __init__(self, monotonic: Monotonic = time.monotonic):
        self.monotonic = monotonic
        self.prices_mono: float | None = None
        self.account_mono: float | None = None
        self.pair_mono: dict[str, float] = {}

    def prices_read(self, pairs_in_answer: Iterable[str], mark: float) -> None:
        """`mark`: when the request was sent (a slow answer is as old as its question: fail closed)."""
        self.prices_mono = mark
        for pair in pairs_in_answer:
            self.pair_mono[pair] = mark

    def quiet_pairs(self, pairs: Iterable[str], older_than_s: float) -> list[str]:
        """Those of `pairs` with no price for more than `older_than_s` (or none yet), in the order given."""
        limit = self.monotonic() - older_than_s
        return [pair for pair in pairs if self.pair_mono.get(pair, -math.inf) < limit]

    def account_read(self, mark: float) -> None:
        self.account_mono = mark

    def reasons(self, price_window_s: float, account_window_s: float, needed_pairs: Iterable[str]) -> list[str]:
        """Why the data cannot be trusted now (empty list = fresh)."""
        now = self.monotonic()
        reasons = []
        if self.prices_mono is None:
            reasons.append("no prices received yet")
        else:
            age = now - self.prices_mono
            if age > price_window_s:
                reasons.append(f"prices are {age:.1f} s old")
            else:
                # The feed answers, but a pair that dropped out of the answer keeps its last price: that
                # price is as old as its last appearance, however fresh the rest of the answer is.
                for pair in sorted(set(needed_pairs)):
                    seen = self.pair_mono.get(pair)
                    if seen is not None and now - seen > price_window_s:
                        reasons.append(f"no fresh price for {pair}: missing from the answer for {now - seen:.1f} s")
        if self.account_mono is None:
            reasons.append("account never read")
        else:
            age = now - self.account_mono
            if age > account_window_s:
                reasons.append(f"account data is {age:.1f} s old")
        return reasons


class Activity:
    """What the poll thread is doing right now; written by it, read by the watchdog in another thread."""

    IDLE = "the next poll"

    def __init__(self, monotonic: Monotonic = time.monotonic):
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._what = self.IDLE
        self._since = monotonic()

    def begin(self, what: str) -> None:
        with self._lock:
            self._what, self._since = what, self._monotonic()

    def end(self) -> None:
        self.begin(self.IDLE)

    @contextmanager
    def doing(self, what: str) -> Iterator[None]:
        self.begin(what)
        try:
            yield
        finally:
            self.end()

    def current(self) -> tuple[str, float]:
        """(what, seconds since it began)."""
        with self._lock:
            return self._what, self._monotonic() - self._since
