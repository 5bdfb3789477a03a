"""Python's cyclic garbage collection, run only in the thread that owns the windows (Qt objects must die there)."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

# Automatic collection runs in whichever thread happens to allocate: with the poll thread parsing
# JSON all day, that is usually the poll thread. A closed dialog or popup kept alive only by a
# reference cycle (a lambda over `self`) would then be destroyed there: Qt warns "Timers cannot be
# stopped from another thread", and a shown widget destroyed off its thread can hang the process.
# So automatic collection is switched off and this timer, in the main thread, collects instead,
# with the same generation thresholds Python itself would apply.
CHECK_EVERY_MS = 500


class MainThreadGarbageCollector(QObject):
    """Created in the main thread; from then on cycles are collected only there."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_EVERY_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    @Slot()
    def check(self) -> int | None:
        """Collect the oldest generation whose count passed its threshold; returns it (None: nothing due)."""
        counts = gc.get_count()
        due = None
        for generation, (count, threshold) in enumerate(zip(counts, self.thresholds, strict=True)):
            if threshold and count > threshold:
                due = generation
        if due is not None:
            gc.collect(due)
        return due

    def freeze_start_up(self) -> None:
        """Move everything alive now out of the collector's generations (call once the first read is shown).

        With automatic collection off, the worker's start-up (ccxt's market tables, the journal's history)
        lands in generation 0 by the hundred thousand: the next collections here walked them all (75 ms
        for a generation-0 pass, 190 ms for generation 1, measured in benchmarks/stream_latency.py), in the
        GUI thread, on a price tick. Those objects live as long as the app; the few start-up cycles that
        are garbage stay frozen too (bounded: start-up happens once per worker).
        """
        gc.freeze()

    def stop(self) -> None:
        """Back to Python's own collection (after the poll thread has ended)."""
        self.timer.stop()
        if self.was_enabled:
            gc.enable()
