"""Main window: wires account bar, positions table, chart, alert dock, status bar and actions (no logic)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QSplitter, QVBoxLayout, QWidget

from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.models import PositionFigures, Snapshot
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.text import history as history_text
from kraken_monitor.text import replay as replay_text
from kraken_monitor.ui import layout_state, window_menus
from kraken_monitor.ui.account_bar import AccountBar
from kraken_monitor.ui.alert_log import AlertLogDock
from kraken_monitor.ui.deferred_chart import DeferredChart
from kraken_monitor.ui.futures_window import FUTURES_ROW_REASON, FuturesWindow, spot_action_tip
from kraken_monitor.ui.history_dock import HistoryDock
from kraken_monitor.ui.orders_dock import OrdersDock
from kraken_monitor.ui.positions_futures import FuturesRow
from kraken_monitor.ui.positions_model import PositionsModel
from kraken_monitor.ui.positions_view import PositionsView
from kraken_monitor.ui.replay_bar import ReplayBar
from kraken_monitor.ui.replay_controller import ReplayController
from kraken_monitor.ui.status_bar import MonitorStatusBar
from kraken_monitor.worker.requests import Acknowledge, FetchClosedHistory, RefreshNow, Snooze

if TYPE_CHECKING:
    from kraken_monitor.ui.chart import ChartWidget

log = logging.getLogger(__name__)

def __getattr__(name: str):
    # `main_window.ChartWidget` stays available (benchmarks/gui.py subclasses and replaces it) without
    # importing pyqtgraph + numpy (~200 ms) when this module is imported before the first paint.
    if name == "ChartWidget":
        from kraken_monitor.ui.chart import ChartWidget

        return ChartWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _chart_class() -> type:
    return globals().get("ChartWidget") or __getattr__("ChartWidget")


class MainWindow(DeferredChart, QMainWindow):
    """GUI thread only. Extension points for the actions controller (ui/actions.py):

    - QActions `action_add_margin`, `action_close_position`, `action_settle`, `action_add_collateral`,
      `action_settings` (connect their `triggered`), plus `selected_position_id()` / `selected_position()`
      / `snapshot()`; `position_actions_enabled` toggles them with the selection.
    - `requested` carries request records (worker/requests.py); the session (ui/session.py) connects
      it and the worker's signals to the slots here (`show_snapshot`, `chart_history`, ...).

    With `defer_chart=True` the chart area holds a "Loading chart..." placeholder until `ensure_chart()`
    (run_gui calls it right after the first paint: pyqtgraph costs ~200 ms of start-up); history,
    snapshots and the selection that arrive meanwhile are replayed into it. `chart` builds it on demand.
    """

    snapshot_shown = Signal(object)  # Snapshot, after every widget has been updated
    closing = Signal()
    requested = Signal(object)  # a worker/requests.py record (Refresh, the alert log's acknowledge/snooze)
    data_requested = Signal(object)  # a view's read (worker/requests.DataRequest: the chart's candles)
    order_move_requested = Signal(str, object)  # a chart line dragged: (order id, new trigger Decimal)
    change_leverage_requested = Signal(str)  # a futures row's id ("futures:<Kraken id>"): Change leverage...
    protect_futures_requested = Signal(str)  # a futures row's id: Protect position... (ui/futures_protect.py)

    def __init__(
        self, mode: AccountKind | str = AccountKind.DEMO, settings: QSettings | None = None, clock=None, parent=None, *, defer_chart: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.mode = AccountKind.parse(mode)
        self._settings = settings
        extra = {"clock": clock} if clock is not None else {}

        self.account_bar = AccountBar(mode, venue="Spot margin", **extra)
        self.futures = FuturesWindow(self, mode, extra)  # issue 15: the futures bar, account filter, leverage
        self.futures_bar = self.futures.bar
        self.positions_model = PositionsModel(self)
        self.positions_view = PositionsView(self.positions_model)
        self.replay_bar = ReplayBar()  # hidden while live
        self.replay = ReplayController(self)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.positions_view)
        self.splitter.addWidget(self._make_chart_placeholder())
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.setSpacing(6)
        layout.addWidget(self.replay_bar)
        layout.addWidget(self.account_bar)
        layout.addWidget(self.futures_bar)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.alert_dock = AlertLogDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.alert_dock)
        self.history_dock = HistoryDock(self)
        self.tabifyDockWidget(self.alert_dock, self.history_dock)
        self.orders_dock = OrdersDock(self)  # issue 16: every open order, attached or not
        self.tabifyDockWidget(self.alert_dock, self.orders_dock)
        self.alert_dock.raise_()  # alerts first: history is looked up, alerts must be seen
        self.status = MonitorStatusBar(**extra)
        self.status.reconnect_button.clicked.connect(self.refresh_now)
        self.history_dock.exported.connect(lambda message: self.status.showMessage(message, 10_000))
        self.history_dock.venue_history_wanted.connect(lambda since: self.data_requested.emit(FetchClosedHistory(since)))
        self.setStatusBar(self.status)
        self._make_actions()
        self.set_title(mode)
        self.resize(1400, 860)
        # First-start proportions: the positions table first (every row of a usual book, spot and futures,
        # without scrolling: the riskiest must not hide below the fold), the chart the rest; a short alert log.
        self.splitter.setSizes([300, 230])
        self.resizeDocks([self.alert_dock], [120], Qt.Orientation.Vertical)

        self.positions_view.position_selected.connect(self._on_positions_selected)
        self.alert_dock.acknowledge_requested.connect(self._on_acknowledge_requested)
        self.alert_dock.snooze_requested.connect(self._on_snooze_requested)
        self.restored = layout_state.restore_layout(
            self, self.splitter, self.positions_view.horizontalHeader(), self._settings
        )
        if not defer_chart:
            self.ensure_chart()

    # --- chart (built after the first paint: ui/deferred_chart.py) --------------------------------
    def _new_chart(self) -> ChartWidget:
        return _chart_class()()

    # --- actions -------------------------------------------------------------------------------
    def _action(self, text: str, shortcut: QKeySequence | str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(f"{text.rstrip('.')} ({action.shortcut().toString()})" if shortcut else text)
        return action

    def _make_actions(self) -> None:
        self.action_refresh = self._action("Refresh", QKeySequence.StandardKey.Refresh, "Poll Kraken now")
        self.action_refresh.setShortcuts([QKeySequence("F5")])
        self.action_add_margin = self._action("Add margin...", "Ctrl+M", "Add margin to the selected position")
        self.action_add_collateral = self._action("Add collateral...", "Ctrl+Shift+M", "Deposit collateral")
        self.action_close_position = self._action("Close position...", "Ctrl+Shift+X", "Close (part of) a position")
        self.action_settle = self._action("Settle position...", None, "Settle the selected position")
        self.action_protect = self._action("Protect position...", "Ctrl+P", "Stop-loss, take-profit or trailing stop")
        self.action_settings = self._action("Settings...", "Ctrl+,", "Thresholds, polling, mode")
        self.action_quit = self._action("Quit", "Ctrl+Q", "Stop monitoring and quit")
        self.action_fit_columns = self._action("Fit columns", "Ctrl+0", "Size table columns to their contents")
        self.action_show_alerts = self.alert_dock.toggleViewAction()
        self.action_show_alerts.setShortcut(QKeySequence("Ctrl+L"))
        self.action_change_leverage, self.account_filter, self.action_show_futures = self.futures.make_actions(
            self._settings)
        self.action_show_history = self.history_dock.toggleViewAction()
        self.action_show_history.setShortcut(QKeySequence("Ctrl+H"))
        self.action_show_orders = self.orders_dock.toggleViewAction()
        self.action_show_orders.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.action_export_history = self._action(history_text.EXPORT_ACTION, "Ctrl+E", history_text.EXPORT_TIP)
        self.action_export_history.triggered.connect(self.history_dock.export_with_dialog)
        self.action_replay = self._action(replay_text.ACTION, "Ctrl+R", replay_text.ACTION_TIP)
        self.action_back_to_live = self._action(replay_text.LIVE_BUTTON, "Esc", replay_text.LIVE_TIP)
        self.replay.connect_window()  # the bar, the docks' menus, these two actions, the status line
        self.action_quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.action_settings.setMenuRole(QAction.MenuRole.PreferencesRole)

        self.action_quit.triggered.connect(self.close)
        self.action_refresh.triggered.connect(self.refresh_now)
        self.action_fit_columns.triggered.connect(self.positions_view.fit_columns)

        window_menus.build(self)  # the menu bar, the toolbar, the table's context menu
        self.position_actions_enabled(False)
        self.futures.update_actions(None)

    def _on_about_triggered(self) -> None:
        from kraken_monitor.ui.about_dialog import AboutDialog

        AboutDialog.ask(self)

    def position_actions_enabled(self, enabled: bool, reason: str = "") -> None:
        """Spot-margin actions on the selected row; `reason` says why they are off (a futures row)."""
        replaying = self.replay.active  # orders are never sent from a replayed screen (the replay's tips say so)
        for action in (self.action_add_margin, self.action_close_position, self.action_settle, self.action_protect):
            action.setEnabled(enabled and not replaying)
            if not replaying:
                action.setToolTip(spot_action_tip(action, "" if enabled else reason))

    def watch_futures(self, watched: bool) -> None:
        """The session watches a futures account (its bar shows) or stopped watching it."""
        self.futures.watch(watched)

    def show_futures_book(self, book: FuturesBook) -> None:
        """The futures account's read (ui/session.py FUTURES_TO_GUI): its bar and its rows in the table."""
        self.futures.show_book(book)
        self._fit_once()

    def set_title(self, mode: str) -> None:
        api = getattr(self, "api_url_override", "")
        replay = getattr(self, "replay", None)
        at = replay.at if replay is not None else None
        self.setWindowTitle(f"Kraken Monitor \u2014 {mode.upper()}" + (f" \u2014 API {api}" if api else "")
                            + (f" \u2014 {replay_text.title(at)}" if at is not None else ""))

    def set_api_url(self, url: str | None) -> None:
        """A non-default API URL is always on screen (title and status bar): prices may not be Kraken's."""
        from kraken_monitor.exchange.urls import is_default_api_url

        self.api_url_override = "" if is_default_api_url(url) else str(url)
        self.set_title(getattr(self, "mode", "") or "")
        self.status.set_api_url(self.api_url_override)

    # --- requests and worker results (the session, ui/session.py, connects them) ----------------
    def _on_acknowledge_requested(self, alert_id: int) -> None:
        self.requested.emit(Acknowledge(alert_id))

    def _on_snooze_requested(self, alert_id: int, seconds: float, confirmed: bool) -> None:
        self.requested.emit(Snooze(alert_id, seconds, confirmed))

    def on_worker_auth_failed(self, message: str) -> None:
        """Slot for `auth_failed`."""
        # Not retryable: polling has stopped, so the trader must be told, not just shown a grey banner.
        from kraken_monitor.ui.messages import Messages

        Messages.instance().error(
            self, "Kraken authentication failed", f"{message}\n\nMonitoring has stopped; check the API key in Settings, then press Reconnect (F5)."
        )

    def refresh_now(self) -> None:
        """F5 / Reconnect: one read now (after an auth failure, a new connection)."""
        self.requested.emit(RefreshNow())

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Slot for `snapshot_ready`: fan the snapshot out to every widget.

        While replaying, the table and account bar keep the replayed moment (the controller holds this
        one for the way back); the status bar, chart, popups and dialogs (`snapshot_shown`) stay live.
        """
        self.set_title(snapshot.mode)
        if self.replay.active:
            self.replay.hold(snapshot)
        else:
            self.positions_model.set_snapshot(snapshot)
            self.account_bar.set_snapshot(snapshot)
            self.account_filter.set_accounts(self.positions_model.accounts())
            self.alert_dock.model.spot_account = self.positions_model.spot_account()
        self.status.set_snapshot(snapshot)
        self.orders_dock.set_snapshot(snapshot)  # live even while replaying: its cancel acts on the account now
        self._feed_chart("snapshot", snapshot)
        self._fit_once()
        self.snapshot_shown.emit(snapshot)

    def _fit_once(self) -> None:
        """First rows of a fresh layout (spot or futures, whichever comes first): columns fit their contents."""
        if not self.restored and self.positions_model.rowCount() and not getattr(self, "_fitted", False):
            self._fitted = True
            self.positions_view.fit_columns()

    def show_not_responding(self, snapshot: Snapshot) -> None:
        """The watchdog's verdict (the poll thread is stuck): every risk UNKNOWN, the reason in the banner."""
        if self.replay.active:
            self.replay.hold_not_responding(snapshot)  # shown on the way back; the status bar says it now
        else:
            self.positions_model.set_snapshot(snapshot)
            self.account_bar.set_snapshot(snapshot)
        self.status.set_snapshot(snapshot)

    # --- queries for the actions controller ----------------------------------------------------
    def snapshot(self) -> Snapshot | None:
        return self.positions_model.snapshot()

    def selected_position_id(self) -> str | None:
        """The selected spot-margin position's id (None when a futures row is selected: spot actions only)."""
        return self.selected_position().position.id if self.selected_position() is not None else None

    def selected_position(self) -> PositionFigures | None:
        row = self.positions_view.selected_position()
        return None if isinstance(row, FuturesRow) else row

    def selected_futures_row(self) -> FuturesRow | None:
        row = self.positions_view.selected_position()
        return row if isinstance(row, FuturesRow) else None

    def _on_positions_selected(self, position_id: str | None) -> None:
        futures = self.selected_futures_row()
        self.position_actions_enabled(
            self.selected_position() is not None,
            FUTURES_ROW_REASON if futures is not None else "")
        self.futures.update_actions(futures)
        if self._chart is None:
            return  # ensure_chart() shows the selection when it builds the chart
        if futures is not None and not self.replay.active:  # a futures row: its marks and lines (ui/chart_futures.py)
            self._chart.show_futures(futures)
        else:
            self._chart.show_position(self.selected_position(), self.positions_model.snapshot())

    # --- shutdown ------------------------------------------------------------------------------
    def save_layout(self) -> None:
        layout_state.save_layout(self, self.splitter, self.positions_view.horizontalHeader(), self._settings)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_layout()
        self.history_dock.close_journal()
        self.replay.close_journal()
        # The session stops the worker on this (it flushes its journal in its own thread, then quits).
        self.closing.emit()
        super().closeEvent(event)
