"""Exponential backoff with jitter for one poll channel (prices or account), on the monotonic clock."""

from __future__ import annotations

import random


class Backoff:
    """Exponential backoff with jitter for one channel (prices or account); monotonic clock."""

    def __init__(self, base_s: float, cap_s: float):
        self.base_s = max(base_s, 0.01)
        self.cap_s = cap_s
        self.failures = 0
        self.retry_at = 0.0

    def waiting(self, now: float) -> bool:
        return self.failures > 0 and now < self.retry_at

    def failed(self, now: float, retry_after: float | None = None) -> float:
        self.failures += 1
        delay = min(self.cap_s, self.base_s * 2 ** (self.failures - 1))
        # Jitter spreads retries so a restarting exchange is not hit by every client at once.
        delay *= random.uniform(0.8, 1.2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self.retry_at = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.retry_at = 0.0
