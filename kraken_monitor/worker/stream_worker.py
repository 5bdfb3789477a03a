"""The poll worker with pushed prices: ticks from the price-stream thread published within a display frame.

Threading contract: as `PollWorker` (lives in the poll thread, emits only). The price-stream thread
(worker/price_stream.py) never touches the poller: it parks ticks under a lock and wakes this worker with a
queued signal; this worker applies them, recomputes the figures and publishes at most once per frame
(FRAME_S), so the GUI repaints at most once per display frame however fast Kraken pushes.

REST stays the source of truth for the account on its own schedule; a private executions/balances event
reads it at once. While the stream is not live (connecting, silent, down), prices are polled as before;
while it is, a pair it has not priced for QUIET_AFTER_INTERVALS is read by REST (a calm market).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Ticker
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.errors import ExchangeError
from kraken_monitor.exchange.stream_factory import StreamOpener, price_stream_opener
from kraken_monitor.text.stream import price_feed_text
from kraken_monitor.worker.opening import ExchangeFactory, JournalFactory, create_exchange, open_journal
from kraken_monitor.worker.poll_worker import PollWorker
from kraken_monitor.worker.price_stream import PriceStreamThread, StreamState

log = logging.getLogger(__name__)

FRAME_S = 1 / 60  # one display frame: pushes inside it are coalesced into one snapshot
EVENT_REFRESH_GAP_S = 1.0  # a burst of fills (executions + balances) becomes one account read
MAX_SILENCE_S = 2.5  # Kraken heartbeats once a second: two and a half missed -> reconnect, poll meanwhile
# A streamed pair with no push for this many price intervals is read by REST: Kraken's bbo ticker pushes
# only on a change, and a calm pair would otherwise turn the account "risk unknown" on a live socket. Below
# the stale window (3 intervals), so the answer lands before it; the most it asks is what polling would.
QUIET_AFTER_INTERVALS = 1.5

OpenerFactory = Callable[[MonitorConfig, Any], StreamOpener | None]


class _StreamBridge(QObject):
    """Lives in the poll thread; its signals are emitted from the stream thread and arrive queued."""

    ticks_waiting = Signal()
    state_changed = Signal(object)  # StreamState
    account_event = Signal(str)  # "executions" | "balances"


class StreamingPollWorker(PollWorker):
    """Runs in the worker thread; emits only. `price_feed_changed(text)` says which price feed is live."""

    def __init__(
        self,
        config: MonitorConfig,
        exchange_factory: ExchangeFactory = create_exchange,
        journal_factory: JournalFactory = open_journal,
        stream_opener: OpenerFactory = price_stream_opener,
    ):
        super().__init__(config, exchange_factory=exchange_factory, journal_factory=journal_factory)
        self._stream_opener = stream_opener
        self.stream: PriceStreamThread | None = None
        self.stream_state: StreamState | None = None
        self.account_events = 0  # private events that asked for an account read (diagnostics, tests)
        self._bridge: _StreamBridge | None = None
        self._pending: dict[str, tuple[Ticker, float]] = {}  # pair -> (latest tick, arrival mono)
        self._pending_lock = threading.Lock()
        self._frame_timer: QTimer | None = None
        self._event_timer: QTimer | None = None
        self._last_push_publish = float("-inf")
        self._last_event_refresh = float("-inf")
        self._last_journal = float("-inf")

    @property
    def streaming(self) -> bool:
        return self.stream_state is not None and self.stream_state.live

    # -- start / stop (worker thread) ---------------------------------------------------------
    def _on_started(self) -> None:
        """After the first reads (PollWorker.start): the stream thread starts on the pairs they found."""
        self._bridge = _StreamBridge(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._bridge.ticks_waiting.connect(self._on_ticks_waiting, queued)
        self._bridge.state_changed.connect(self._on_stream_state, queued)
        self._bridge.account_event.connect(self._on_account_event, queued)
        self._frame_timer = self._single_shot(self._publish_pushed)
        self._event_timer = self._single_shot(self._refresh_after_event)
        self._start_stream()

    def _single_shot(self, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer may add 5 % of 16 ms
        timer.timeout.connect(slot)
        return timer

    def _start_stream(self) -> None:
        interval = self.config.price_interval_s
        try:
            opener = self._stream_opener(self.config, self.poller.exchange)
        except (ExchangeError, ValueError) as exc:
            self.price_feed_changed.emit(price_feed_text(False, f"off: {exc}", interval))
            return
        if opener is None:
            self.price_feed_changed.emit(price_feed_text(None, "", interval))
            return
        bridge = self._bridge
        self.stream = PriceStreamThread(
            opener, self.poller.watched_pairs(), self._on_stream_ticks, bridge.state_changed.emit,
            bridge.account_event.emit, silence_s=min(MAX_SILENCE_S, self.config.price_stale_after_s()),
        )
        self.stream.start()

    def _on_stopping(self) -> None:
        """The stream thread ends first (its socket closes), then the poll worker flushes and quits."""
        stream, self.stream = self.stream, None
        if stream is not None and not stream.stop():
            log.warning("price stream thread did not stop in time")
        for timer in (self._frame_timer, self._event_timer):
            if timer is not None:
                timer.stop()

    # -- pushed prices --------------------------------------------------------------------------
    def _on_stream_ticks(self, tickers: list[Ticker], arrived: float) -> None:
        """Stream thread: park the ticks; wake the poll thread only for the first of a frame's batch."""
        with self._pending_lock:
            wake = not self._pending
            for ticker in tickers:
                self._pending[ticker.pair] = (ticker, arrived)
        if wake and self._bridge is not None:
            self._bridge.ticks_waiting.emit()

    @Slot()
    def _on_ticks_waiting(self) -> None:
        if self._frame_timer is None or self._frame_timer.isActive():
            return
        wait = FRAME_S - (time.monotonic() - self._last_push_publish)
        if wait > 0:
            self._frame_timer.start(max(1, round(wait * 1000)))
        else:
            self._publish_pushed()

    @Slot()
    def _publish_pushed(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        if not pending or self.poller is None or self._stopped:
            return
        now = self._now()
        for pair, (ticker, arrived) in sorted(pending.items(), key=lambda item: item[1][1]):
            self.poller.prices_pushed({pair: ticker}, arrived, now)
        self._last_push_publish = time.monotonic()
        self._publish()

    def _journal_due(self) -> bool:
        """Pushed prices repaint every frame; the journal keeps one price row per price interval (alerts at once)."""
        mono = time.monotonic()
        if mono - self._last_journal < self.config.price_interval_s:
            return False
        self._last_journal = mono
        return True

    # -- feed state and fallback ----------------------------------------------------------------
    @Slot(object)
    def _on_stream_state(self, state: StreamState) -> None:
        was_live = self.streaming
        self.stream_state = state
        source = "demo market" if self.config.mode is AccountKind.DEMO else "WebSocket"
        self.price_feed_changed.emit(price_feed_text(state.live, state.detail, self.config.price_interval_s, source))
        if was_live and not state.live and not self._stopped:
            # Fall back to REST at once, not at the next tick of the price timer.
            self._price_backoff.succeeded()
            self._price_cycle()
            self._publish()

    def _on_price_tick(self) -> None:  # not re-decorated @Slot: its only sender, the price timer, lives in this thread
        """The price timer while streaming: no second snapshot when the last pushed one still says it all.

        Every pushed publish judges every feed's and pair's age (freshness.py); a timer snapshot a fraction
        of a second later would only repaint the same figures (in demo, where the market pushes once a
        second, it doubled the GUI's idle work). The tick is skipped only while a pushed snapshot went out
        within the interval AND no age crossed its stale window since: the stale verdict cannot differ, so
        staleness is judged exactly as often as before (fail closed). Pushes stopping (a silent pair, a
        socket that only heartbeats) bring the timer snapshots back from the first tick after the interval.
        """
        if self.streaming:
            if self._read_quiet_pairs():
                self._publish()
                return
            if self._push_publish_still_current():
                return
        super()._on_price_tick()

    def _read_quiet_pairs(self) -> bool:
        """While streaming: one Ticker request for the pairs the socket has not priced lately; True if asked.

        A pair with neither pushes nor a REST answer still goes stale within its window (freshness.py)."""
        if self.poller is None:
            return False
        quiet = self.poller.freshness.quiet_pairs(self.poller.watched_pairs(),
                                                  QUIET_AFTER_INTERVALS * self.config.price_interval_s)
        if not quiet:
            return False
        self._read(self._price_backoff, lambda now: self.poller.poll_prices(now, only=quiet))
        return True

    def _on_account_tick(self) -> None:  # as _on_price_tick: the account timer lives in this thread
        """The account timer while streaming: an account read that brought nothing new (demo's paper account,
        most reads of a calm live one) needs no snapshot of its own when the last pushed one is still current:
        it would repaint the same figures between two pushes (a third more snapshots idle in demo, issue 17.7).
        Its age is in the next pushed snapshot; any change, event or stale crossing is published at once."""
        before = self.poller.account if self.poller is not None else None
        self._account_cycle()
        if (self.streaming and self.poller is not None and not self.poller.account_read_moved(before)
                and self._push_publish_still_current()):
            return
        self._publish()

    def _push_publish_still_current(self) -> bool:
        mono = time.monotonic()
        since = self._last_push_publish
        if self.poller is None or mono - since >= self.config.price_interval_s:
            return False
        fresh = self.poller.freshness
        price_window, account_window = self.config.price_stale_after_s(), self.config.account_stale_after_s()
        marks = [fresh.pair_mono[p] + price_window for p in self.poller.needed_pairs() if p in fresh.pair_mono]
        if fresh.prices_mono is not None:
            marks.append(fresh.prices_mono + price_window)
        if fresh.account_mono is not None:
            marks.append(fresh.account_mono + account_window)
        # An expiry inside (last pushed publish, now]: something turned stale since; publish it now.
        return not any(since < expiry <= mono for expiry in marks)

    def _price_cycle(self) -> None:
        if self.streaming:
            return  # pushed prices are fresher than a poll; ages still judge every pair (freshness.py)
        super()._price_cycle()

    def _account_cycle(self) -> None:
        super()._account_cycle()
        if self.stream is not None and self.poller is not None:
            self.stream.set_pairs(self.poller.watched_pairs())  # a new position: its pair is subscribed

    # -- private events -------------------------------------------------------------------------
    @Slot(str)
    def _on_account_event(self, kind: str) -> None:
        log.info("private %s event: reading the account now", kind)
        if self._event_timer is None or self._event_timer.isActive():
            return
        gap = EVENT_REFRESH_GAP_S - (time.monotonic() - self._last_event_refresh)
        if gap > 0:
            self._event_timer.start(max(1, round(gap * 1000)))
        else:
            self._refresh_after_event()

    @Slot()
    def _refresh_after_event(self) -> None:
        if self.poller is None or self._stopped:
            return
        self._last_event_refresh = time.monotonic()
        self.account_events += 1
        self._account_cycle()
        self._publish()
