"""`MonitorThread`: owns the QThread and the PollWorker in it; starts it and shuts it down cleanly."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal

from kraken_monitor.config import MonitorConfig
from kraken_monitor.worker.opening import ExchangeFactory, JournalFactory, create_exchange, open_journal
from kraken_monitor.worker.poll_worker import PollWorker
from kraken_monitor.worker.requests import Request

log = logging.getLogger(__name__)

# Poll threads that did not finish within stop()'s wait (a request past every deadline). They stay
# referenced so Qt never destroys a running QThread (that aborts the process: SIGABRT, a core dump
# holding the API secret); the command line ends the process with os._exit instead (abandoned_running).
_ABANDONED: list[tuple[QThread, PollWorker]] = []


def abandoned_running() -> bool:
    """True when a poll thread is still stuck at exit (the caller must not let Qt tear it down)."""
    return any(thread.isRunning() for thread, _worker in _ABANDONED)


def _worker_class(config: MonitorConfig) -> type[PollWorker]:
    """`--prices stream`: the worker with the price stream beside its polls (worker/stream_worker.py)."""
    if config.prices == "stream":
        from kraken_monitor.worker.stream_worker import StreamingPollWorker

        return StreamingPollWorker
    return PollWorker


class _Control(QObject):
    """Lives in the caller's thread; its signals reach the worker queued (it lives in another thread)."""

    stop_requested = Signal()
    requested = Signal(object)  # a worker/requests.py record


class MonitorThread:
    """Created and driven from the GUI (or headless main) thread.

    Connect to `.worker`'s signals before `start()`; call the worker's slots through queued signal
    connections (or `QMetaObject.invokeMethod`), never directly: it lives in the poll thread.
    """

    def __init__(
        self,
        config: MonitorConfig,
        worker_class: type[PollWorker] | None = None,
        *,
        exchange_factory: ExchangeFactory = create_exchange,
        journal_factory: JournalFactory = open_journal,
    ):
        self.config = config
        self.thread = QThread()
        self.thread.setObjectName("kraken-monitor-poll")
        # No parent: moveToThread requires it. The factories run in the poll thread (worker.start).
        if worker_class is None:
            worker_class = _worker_class(config)
        self.worker = worker_class(config, exchange_factory=exchange_factory, journal_factory=journal_factory)
        self.worker.moveToThread(self.thread)
        self._control = _Control()
        self._control.stop_requested.connect(self.worker.stop)
        self._control.requested.connect(self.worker.handle)
        self.thread.started.connect(self.worker.start)
        self._running = False

    def start(self) -> None:
        if not self._running:
            self._running = True
            self.thread.start()

    def send(self, request: Request) -> None:
        """Queue one request record into the worker's `handle` slot (its thread runs it)."""
        self._control.requested.emit(request)

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Queue worker.stop (it flushes and closes the journal in its own thread and quits the loop),
        then wait. Returns False if the thread did not finish in time (e.g. stuck in a network call)."""
        if not self._running:
            return True
        self._running = False
        self.worker.request_stop()  # thread-safe: no new exchange call starts from now on
        self._control.stop_requested.emit()
        finished = self.thread.wait(timeout_ms)
        if not finished:
            # The worker may be inside a slow HTTP call. The stop queued above runs as soon as it returns:
            # it flushes paper state, closes the journal, then ends the loop itself. A quit() from here
            # would end the loop first and skip that flush.
            log.warning("poll thread did not stop within %d ms", timeout_ms)
            finished = self.thread.wait(timeout_ms)
        if not finished:
            log.error("poll thread still busy (%s); abandoning it", self.worker.activity.current()[0])
            _ABANDONED.append((self.thread, self.worker))
        return finished

    def is_running(self) -> bool:
        return self.thread.isRunning()
