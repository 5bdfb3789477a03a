"""Delivery through apprise on one background thread: a queue, retries with backoff, a status per send."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from kraken_monitor.notify import secrets
from kraken_monitor.text import notify as text

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (2.0, 8.0, 30.0)  # then it is reported failed: a channel down for a minute is not hidden
SEND_TIMEOUT_S = 10  # apprise's per-request socket timeout: a dead host costs this, never the monitor


@dataclass(frozen=True)
class DeliveryStatus:
    """What became of one send; `reason` never contains the URL or a part of it."""

    channel_id: str
    label: str
    title: str
    ok: bool
    reason: str
    attempts: int
    at: datetime
    final: bool = True  # False: a failed attempt that will be retried
    retry_in_s: float = 0.0

    def text(self) -> str:
        if not self.final:
            return text.retrying(self.label, self.attempts, self.retry_in_s)
        return text.delivery_status(self.label, self.ok, self.reason, self.attempts, self.at)


def apprise_send(url: str, title: str, body: str) -> tuple[bool, str]:
    """One attempt: (delivered, reason). Reasons are ours, never apprise's text (it may echo the URL)."""
    import apprise

    secrets.remember(url)
    sender = apprise.Apprise()
    try:
        added = sender.add(url)
    except Exception as exc:  # noqa: BLE001 - a plugin's own parse error
        return False, f"{text.UNKNOWN_URL} ({type(exc).__name__})"
    if not added:
        return False, text.UNKNOWN_URL
    for server in sender:
        server.socket_connect_timeout = server.socket_read_timeout = SEND_TIMEOUT_S
    try:
        ok = sender.notify(body=body, title=title)
    except Exception as exc:  # noqa: BLE001 - a plugin that raises instead of returning False
        return False, f"{text.REFUSED} ({type(exc).__name__})"
    return (True, "") if ok else (False, text.REFUSED)


def check_url(url: str) -> str:
    """'' when apprise understands the URL, else the reason (nothing is sent)."""
    import apprise

    try:
        return "" if apprise.Apprise().add(url.strip()) else text.UNKNOWN_URL
    except Exception as exc:  # noqa: BLE001
        return f"{text.UNKNOWN_URL} ({type(exc).__name__})"


@dataclass(frozen=True)
class _Job:
    channel_id: str
    label: str
    url: str
    title: str
    body: str


_STOP = object()


class Notifier:
    """Sends in a daemon thread; `submit` never blocks (a full queue drops the new send and reports it).

    `on_status` is called in the delivery thread: a GUI hands it to its own thread. `sleep` is the wait
    between retries (None: wait on the stop event, so closing the app does not wait for a backoff).
    """

    def __init__(
        self,
        on_status: Callable[[DeliveryStatus], None] | None = None,
        send: Callable[[str, str, str], tuple[bool, str]] = apprise_send,
        delays_s: tuple[float, ...] = RETRY_DELAYS_S,
        sleep: Callable[[float], None] | None = None,
        max_queued: int = 200,
    ):
        self._on_status = on_status or (lambda status: None)
        self._send = send
        self._delays = delays_s
        self._sleep = sleep or self._wait
        self._queue: queue.Queue = queue.Queue(max_queued)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-delivery", daemon=True)
        self._thread.start()

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def submit(self, channel_id: str, label: str, url: str, title: str, body: str) -> bool:
        """Queue one send; False (and a failed status) when the queue is full or the notifier stopped."""
        secrets.remember(url)
        job = _Job(channel_id, label, url, title, body)
        if self._stopping.is_set():
            return False
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self._report(job, False, "too many notifications waiting: this one was dropped", 0)
            return False
        return True

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """True once every queued send finished (tests, and the watcher before it exits)."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop after the current send; what is still queued is dropped (the app is closing)."""
        self._stopping.set()
        try:
            self._queue.put_nowait(_STOP)
        except queue.Full:
            pass
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is _STOP or self._stopping.is_set():
                    if job is _STOP:
                        return
                    continue
                self._deliver(job)
            except Exception as exc:  # noqa: BLE001 - the delivery thread must outlive any one send
                log.error("notification delivery failed: %s", type(exc).__name__)
            finally:
                self._queue.task_done()

    def _deliver(self, job: _Job) -> None:
        attempts = 0
        while True:
            attempts += 1
            ok, reason = self._send(job.url, job.title, job.body)
            if ok or attempts > len(self._delays) or self._stopping.is_set():
                self._report(job, ok, reason, attempts)
                return
            delay = self._delays[attempts - 1]
            log.info("%s", secrets.redact(text.retrying(job.label, attempts, delay)))
            self._on_status(DeliveryStatus(job.channel_id, job.label, job.title, False, reason, attempts,
                                           datetime.now(timezone.utc), final=False, retry_in_s=delay))
            self._sleep(delay)

    def _report(self, job: _Job, ok: bool, reason: str, attempts: int) -> None:
        status = DeliveryStatus(job.channel_id, job.label, job.title, ok, secrets.redact(reason), attempts,
                                datetime.now(timezone.utc))
        if ok:
            log.info("%s", secrets.redact(status.text()))
        else:
            log.warning("%s", secrets.redact(status.text()))
        self._on_status(status)
