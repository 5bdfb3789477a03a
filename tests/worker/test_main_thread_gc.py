"""Cycles are collected in the main thread only (kraken_monitor/worker/main_thread_gc.py)."""

import gc
import threading
import weakref

from PySide6.QtWidgets import QWidget

from kraken_monitor.worker.main_thread_gc import MainThreadGarbageCollector


class _Cyclic(QWidget):
    """A widget kept alive only by a reference cycle, like a dialog with a lambda over `self`."""

    def __init__(self):
        super().__init__()
        self.me = self


def test_a_thread_that_allocates_never_collects_a_dropped_widget(qapp):
    was_enabled = gc.isenabled()
    gc.enable()  # as in a plain process: the collector must be what turns automatic collection off
    try:
        collector = MainThreadGarbageCollector(interval_ms=60_000)
        assert not gc.isenabled()
        widget = _Cyclic()
        destroyed_in = []
        widget.destroyed.connect(lambda *_: destroyed_in.append(threading.current_thread().name))
        alive = weakref.ref(widget)
        del widget

        def allocate():  # far past the generation-0 threshold (700): automatic collection would run here
            for _ in range(50_000):
                pair = [], []
                pair[0].append(pair)

        poll = threading.Thread(target=allocate, name="poll")
        poll.start()
        poll.join()
        assert alive() is not None  # nobody collected in the poll thread
        assert collector.check() is not None  # due: the main thread collects
        assert alive() is None
        assert destroyed_in in ([], [threading.main_thread().name])
        collector.stop()
        assert gc.isenabled()  # back to what it found
    finally:
        (gc.enable if was_enabled else gc.disable)()


def test_nothing_due_collects_nothing(qapp):
    collector = MainThreadGarbageCollector(interval_ms=60_000)
    gc.collect()
    assert collector.check() is None
    collector.stop()


def test_freeze_start_up_takes_what_lives_now_out_of_every_collection(qapp):
    """The worker's start-up objects (here: 50,000 lists, as ccxt's market tables) leave the generations, so
    the next collection in the GUI thread does not walk them; what is made afterwards is collected as usual."""
    collector = MainThreadGarbageCollector(interval_ms=60_000)
    try:
        gc.unfreeze()
        start_up = [[i] for i in range(50_000)]  # lists: always tracked (dicts of atoms are not)
        before = gc.get_freeze_count()
        collector.freeze_start_up()
        assert gc.get_freeze_count() >= before + len(start_up)
        later = []
        later.append(later)  # a cycle made after the freeze: still garbage the collector finds
        del later
        assert gc.collect() >= 1
        assert len(start_up) == 50_000
    finally:
        gc.unfreeze()
        collector.stop()
