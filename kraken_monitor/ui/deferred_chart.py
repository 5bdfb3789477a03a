"""The main window's chart area: a placeholder until the chart is built after the first paint, then the chart
under its control bar, fed what it missed meanwhile (or during a replay)."""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLayout, QVBoxLayout, QWidget

from kraken_monitor.worker.requests import FetchCandles, FetchClosedHistory

if TYPE_CHECKING:
    from kraken_monitor.ui.chart import ChartWidget

log = logging.getLogger(__name__)

# Chart feed that arrived before the chart existed, replayed in order when it is built. Bounded so a
# chart that can never be built (broken pyqtgraph) does not hold every snapshot forever.
BACKLOG_MAX = 600


class DeferredChart:
    """Mixed into ui/main_window.MainWindow (GUI thread only), which provides `splitter`, `replay`,
    `positions_model`, `history_dock`, `data_requested`, `order_move_requested`, `futures`, `selected_position()` and
    `_new_chart()` (the chart class stays replaceable as `main_window.ChartWidget`)."""

    def _make_chart_placeholder(self) -> QLabel:
        self._chart: ChartWidget | None = None
        self._chart_backlog: deque[tuple[str, Any]] = deque(maxlen=BACKLOG_MAX)
        self.chart_placeholder = QLabel("Loading chart\u2026")
        self.chart_placeholder.setObjectName("chartPlaceholder")
        self.chart_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.chart_placeholder.setEnabled(False)  # greyed text: a placeholder, not a message
        return self.chart_placeholder

    @property
    def chart(self) -> ChartWidget:
        """The price/margin chart; builds it now if it is still deferred."""
        return self.ensure_chart()

    def chart_ready(self) -> bool:
        return self._chart is not None

    def ensure_chart(self) -> ChartWidget:
        """Build the chart (imports pyqtgraph) in place of the placeholder and replay what it missed."""
        if self._chart is not None:
            return self._chart
        chart = self._new_chart()
        sizes = self.splitter.sizes()
        # Kept: PySide's replaceWidget leaves the wrapper's ownership with Python, so a dropped reference
        # would delete the area (and the chart in it) at once.
        self._chart_area = _with_controls(chart)
        self.splitter.replaceWidget(self.splitter.indexOf(self.chart_placeholder), self._chart_area)
        chart.candles_wanted.connect(self._relay_candles_wanted)
        chart.order_move_requested.connect(self.order_move_requested)  # the actions controller confirms it
        chart.futures_order_move_requested.connect(self.futures.chart_order_moved)  # the futures controller's
        if self.isVisible() and sum(sizes):
            # Built after the first paint: the chart's larger minimum height would otherwise take rows
            # away from the table the trader is already looking at.
            self.splitter.setSizes(sizes)
        self.chart_placeholder.hide()
        self.chart_placeholder.deleteLater()
        self._chart = chart
        if not self.replay.active:
            self.resume_chart()
        return chart

    def resume_chart(self) -> None:
        """Feed the chart what it missed (built late, or held during a replay), then the selection's lines."""
        chart = self._chart
        if chart is None:
            return
        backlog, self._chart_backlog = self._chart_backlog, deque(maxlen=BACKLOG_MAX)
        for kind, payload in backlog:
            if kind == "history":
                chart.set_history(payload)
            else:
                chart.append_snapshot(payload)
        if self.selected_position() is not None:
            chart.show_position(self.selected_position(), self.positions_model.snapshot())
        self.futures.backfill_chart(chart)  # the futures marks so far; a selected futures row's lines

    def _relay_candles_wanted(self, pair: str, timeframe: str) -> None:
        """The chart wants candles: a request record, carried to the worker like every other."""
        if self._chart is not None and self._chart.is_futures_pair(pair):
            return  # a futures contract: the chart draws its marks (the spot worker has no futures candles)
        self.data_requested.emit(FetchCandles(pair, timeframe))  # to the worker's `read` slot

    def build_chart_later(self) -> None:
        """After-paint hook: like `ensure_chart`, but a failure leaves a note instead of stopping the monitor."""
        try:
            self.ensure_chart()
        except Exception as exc:  # positions, alerts and the risk banner matter more than the chart
            log.error("chart unavailable: %s: %s", type(exc).__name__, exc, exc_info=True)
            self.chart_placeholder.setText(f"Chart unavailable ({type(exc).__name__}); see the log file.")

    def chart_history(self, history: dict) -> None:
        """Slot for `history_ready` (the chart may not exist yet); the history dock's venue rows go to the dock."""
        if FetchClosedHistory.key in history:
            history = dict(history)
            self.history_dock.set_venue_history(history.pop(FetchClosedHistory.key))
            if not history:
                return
        self._feed_chart("history", history)

    def _feed_chart(self, kind: str, payload: Any) -> None:
        """A history or a snapshot for the chart; kept for it while it is deferred or a replay holds it."""
        if self._chart is not None and not self.replay.active:
            if kind == "history":
                self._chart.set_history(payload)
            else:
                self._chart.append_snapshot(payload)
        else:  # during a replay the chart keeps the replayed lines; it catches up on the way back
            self._chart_backlog.append((kind, payload))


def _with_controls(chart: QWidget) -> QWidget:
    """The chart under its control bar (pair, timeframe, ranges, candles, crosshair readout)."""
    controls = getattr(chart, "controls", None)
    if controls is None:
        return chart
    box = QWidget()
    box.setObjectName("chartArea")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(controls)
    layout.addWidget(chart, 1)
    # No taller minimum than the chart alone had: the bar must not stop a small window from fitting.
    layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
    box.setMinimumHeight(chart.minimumSizeHint().height())
    return box
