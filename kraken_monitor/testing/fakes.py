"""Stand-ins at the worker seam: the real PollWorker's signals, its one `handle` slot recording requests.

The signal surface is inherited from `PollWorker` (never copied by hand), so a renamed or retyped
signal breaks the tests that use these. Kept in the GUI thread: no network, no journal.
"""

from __future__ import annotations

from PySide6.QtCore import Slot

from kraken_monitor.config import MonitorConfig
from kraken_monitor.worker.poll_worker import PollWorker
from kraken_monitor.worker.requests import Acknowledge, RefreshNow, Request, Snooze


class RecordingWorker(PollWorker):
    """A PollWorker that is never started: tests emit its signals; `handle` records each request."""

    def __init__(self, config: MonitorConfig | None = None) -> None:
        super().__init__(config or MonitorConfig())
        self.requests: list[Request] = []

    def handle(self, request: Request) -> None:
        self.requests.append(request)

    @property
    def acked(self) -> list[int]:
        return [r.alert_id for r in self.requests if isinstance(r, Acknowledge)]

    @property
    def snoozed(self) -> list[tuple[int, float]]:
        return [(r.alert_id, r.seconds) for r in self.requests if isinstance(r, Snooze)]

    @property
    def polls(self) -> int:
        return sum(isinstance(r, RefreshNow) for r in self.requests)


class FakeMonitor:
    """MonitorThread's surface the session uses (`worker`, `start`, `stop`), counting the calls."""

    def __init__(self, worker: PollWorker | None = None) -> None:
        self.worker = worker if worker is not None else RecordingWorker()
        self.starts = 0
        self.stops = 0

    def start(self) -> None:
        self.starts += 1

    def stop(self) -> bool:
        self.stops += 1
        return True


class CrashOnCueWorker(PollWorker):
    """The real demo worker, with the scripted crash started by a queued slot (after what the test
    queued before it, e.g. a snooze, reached the worker)."""

    @Slot()
    def start_crash(self) -> None:
        from kraken_monitor.exchange.factory import CRASH_FACTOR, CRASH_PAIR

        market = self.poller.exchange.price_source.market
        market.schedule_move(CRASH_PAIR, market.last_prices()[CRASH_PAIR] * CRASH_FACTOR, 180)
