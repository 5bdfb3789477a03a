"""PySide6 6.12.0 aborted Python 3.11 after a few hundred cross-thread Signal(object) emits: guard it."""

import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

COUNT = 100_000


class Emitter(QObject):
    value_ready = Signal(object)
    done = Signal()

    @Slot()
    def run(self):
        for i in range(COUNT):
            # Fresh Python objects of several kinds, as snapshots are (bools were the crashing case).
            self.value_ready.emit((i, i % 2 == 0, None, str(i)))
        self.done.emit()


class Receiver(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0
        self.total = 0
        self.bools = 0
        self.threads = set()
        self.finished = False

    @Slot(object)
    def on_value(self, value):
        self.count += 1
        self.total += value[0]
        self.bools += value[1] is True
        self.threads.add(threading.get_ident())

    @Slot()
    def on_done(self):
        self.finished = True


def test_hundred_thousand_object_signals_cross_threads_all_arrive(qtbot):
    thread = QThread()
    emitter = Emitter()
    emitter.moveToThread(thread)
    receiver = Receiver()
    emitter.value_ready.connect(receiver.on_value)
    emitter.done.connect(receiver.on_done)
    thread.started.connect(emitter.run)
    thread.start()
    try:
        # done is queued after every value, so once it arrives all values have been delivered.
        qtbot.waitUntil(lambda: receiver.finished, timeout=60_000)
    finally:
        thread.quit()
        thread.wait()
    assert receiver.count == COUNT
    assert receiver.total == COUNT * (COUNT - 1) // 2
    assert receiver.bools == COUNT // 2
    assert receiver.threads == {threading.get_ident()}  # delivered in the GUI thread, queued
