"""Replay state: which moment the window shows (None = live), the journal it reads, the live data held meanwhile.

GUI thread only. The journal is read on a read-only connection of its own (WAL: the poll thread's
writes go on). While replaying, the live snapshots keep arriving: the status bar, the popups and the
dialogs still follow them (the controller holds the newest), the chart queues them (the window's
bounded backlog: a replay longer than deferred_chart.BACKLOG_MAX cycles leaves a gap in the live line), while the
positions table, account bar, gauge, the chart's position lines and the alert log show the replayed
moment through their normal entry points.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.models import Alert, Snapshot
from kraken_monitor.text import replay as text

log = logging.getLogger(__name__)

EVENT_LEAD = timedelta(microseconds=1)  # an ended position is replayed at the cycle just before its end
# The window's actions that send orders: disabled while the screen shows history.
ORDER_ACTIONS = ("action_add_margin", "action_add_collateral", "action_close_position", "action_settle",
                 "action_protect", "action_change_leverage")


class ReplayController(QObject):
    """`replay(at)` shows the moment, `back_to_live()` the newest live data; `changed(at | None)` follows."""

    changed = Signal(object)  # the replayed cycle's time, or None when back to live
    failed = Signal(str)  # a line for the status bar: nothing to replay, or the read failed

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self._path: Path | None = None
        self._conn: sqlite3.Connection | None = None
        self.thresholds: AlertThresholds | None = None
        self.at: datetime | None = None  # the replayed cycle; None = live
        self.live: Snapshot | None = None  # the newest live snapshot, shown again on the way back
        self.live_stale: Snapshot | None = None  # a watchdog verdict that came during replay
        self._tips: dict[str, tuple[str, str]] = {}  # the order actions' own tooltips, back when live

    def connect_window(self) -> None:
        """Wire the window's replay bar, the docks' "Replay" menus and the Replay / Back to live actions."""
        w = self.window
        w.alert_dock.replay_requested.connect(self.replay_alert)
        w.history_dock.replay_requested.connect(self.replay_ended)
        w.replay_bar.moment_wanted.connect(self.replay)
        w.replay_bar.step_wanted.connect(self.step)
        w.replay_bar.live_wanted.connect(self.back_to_live)
        w.action_replay.triggered.connect(self.replay_latest)
        w.action_back_to_live.triggered.connect(self.back_to_live)
        w.action_back_to_live.setEnabled(False)
        self.changed.connect(lambda at: w.action_back_to_live.setEnabled(at is not None))
        self.failed.connect(lambda message: w.status.showMessage(message, 10_000))
        w.alert_dock.model.rowsInserted.connect(self._live_alert_arrived)

    def _live_alert_arrived(self, *_args) -> None:
        if self.active:  # its popup shows at once; the log's live rows come back with Esc
            self.window.status.showMessage(text.POPUP_NOTE, 10_000)

    @property
    def active(self) -> bool:
        return self.at is not None

    def set_journal(self, path: Path | str | None, thresholds: AlertThresholds | None = None) -> None:
        """The journal of the mode monitored; a restart onto another mode ends any replay."""
        self.close_journal()
        self._path = None if path is None else Path(path)
        self.thresholds = thresholds
        if self.active:
            self.back_to_live()

    def close_journal(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> sqlite3.Connection | None:
        from kraken_monitor.storage.replay_queries import open_read_only

        if self._conn is None and self._path is not None:
            self._conn = open_read_only(self._path)
        return self._conn

    # -- entering, moving, leaving -----------------------------------------------------------------
    def replay_latest(self) -> bool:
        """Ctrl+R: open the bar on the newest recorded cycle (the trader then drags back)."""
        from kraken_monitor.storage.journal import JournalError
        from kraken_monitor.storage.replay_queries import replay_range

        try:
            span = replay_range(self._connection())
        except JournalError as exc:
            return self._fail(text.FAILED.format(reason=exc))
        if span is None:
            return self._fail(text.NOTHING)
        return self.replay(span[1])

    def replay_alert(self, alert: Alert) -> bool:
        """An alert log row: its own cycle; a position event (it ended) the cycle just before, with it still open."""
        return self.replay(alert.fired_at - EVENT_LEAD if alert.is_event else alert.fired_at)

    def replay_ended(self, closed_at: datetime) -> bool:
        """A history row: the last cycle before the position ended (the post-mortem's starting point)."""
        return self.replay(closed_at - EVENT_LEAD)

    def step(self, later: bool) -> bool:
        from kraken_monitor.storage.journal import JournalError
        from kraken_monitor.storage.replay_queries import neighbour_cycle

        if self.at is None:
            return False
        try:
            target = neighbour_cycle(self._connection(), self.at, later)
        except JournalError as exc:
            return self._fail(text.FAILED.format(reason=exc))
        return self.replay(target) if target is not None else False

    def replay(self, at: datetime) -> bool:
        """Show the last cycle at or before `at`; False (and `failed`) when there is none."""
        from kraken_monitor.storage.journal import JournalError
        from kraken_monitor.storage.replay_queries import replay_at, replay_range

        try:
            conn = self._connection()
            replayed = replay_at(conn, at, self.thresholds)
            span = replay_range(conn)
        except JournalError as exc:
            return self._fail(text.FAILED.format(reason=exc))
        if self.at is None:
            self.live = self.window.positions_model.snapshot()
            self.window.futures.replay_started()  # not journaled: no live futures rows in a past moment
        self.at = replayed.snapshot.as_of
        self._show(replayed, span)
        self.changed.emit(self.at)
        return True

    def back_to_live(self) -> None:
        """Esc: the newest live data on every widget again (the live alert log kept every alert meanwhile)."""
        if self.at is None:
            return
        self.at = None
        live, stale = self.live, self.live_stale
        self.live = self.live_stale = None
        w = self.window
        if live is None:  # replayed before the first live read: nothing live is known yet
            live = Snapshot(mode=w.mode, as_of=datetime.now(timezone.utc), stale=True, account=None, positions=(),
                            stale_reason=text.NO_LIVE_YET, connection="starting")
        w.positions_model.set_snapshot(live)
        w.account_bar.set_snapshot(live)
        if stale is not None:  # the watchdog's verdict stands until the next live snapshot
            w.positions_model.set_snapshot(stale)
            w.account_bar.set_snapshot(stale)
        w.alert_dock.show_live()
        w.futures.replay_ended()
        w.resume_chart()
        w.replay_bar.hide()
        self._orders_disabled(False)
        w.set_title(w.mode)
        self.changed.emit(None)

    def _show(self, replayed: Any, span: tuple[datetime, datetime] | None) -> None:
        """The replayed moment through the widgets' normal entry points (set_snapshot, the log's model)."""
        w = self.window
        w.positions_model.set_snapshot(replayed.snapshot)
        w.account_bar.set_snapshot(replayed.snapshot)
        w.alert_dock.show_replay(replayed.alerts, replayed.snapshot.as_of)
        if w.chart_ready() and w.selected_position_id() is not None:  # its lines as they were, like the table
            w.chart.show_position(w.selected_position(), replayed.snapshot)
        if span is not None:
            w.replay_bar.show_range(*span)
        w.replay_bar.show_moment(replayed.snapshot.as_of)
        w.replay_bar.show()
        self._orders_disabled(True)
        w.set_title(w.mode)

    def _orders_disabled(self, replaying: bool) -> None:
        w = self.window
        for name in ORDER_ACTIONS:
            action = getattr(w, name, None)
            if action is None:
                continue
            if replaying:
                self._tips.setdefault(name, (action.toolTip(), action.statusTip()))
                action.setEnabled(False)
                action.setToolTip(f"{action.text().rstrip('.')}: {text.DISABLED_REASON}")
                action.setStatusTip(text.DISABLED_REASON)
            elif name in self._tips:
                tip, status = self._tips.pop(name)
                action.setToolTip(tip)
                action.setStatusTip(status)
        if not replaying:
            w.action_add_collateral.setEnabled(True)
            w.position_actions_enabled(w.selected_position_id() is not None)
            w.futures.update_actions(w.selected_futures_row())  # Change leverage... follows the selection again

    # -- live data arriving meanwhile ----------------------------------------------------------------
    def hold(self, snapshot: Snapshot) -> None:
        self.live = snapshot
        self.live_stale = None  # a fresh snapshot supersedes a watchdog verdict, as it does live

    def hold_not_responding(self, snapshot: Snapshot) -> None:
        self.live_stale = snapshot

    def _fail(self, message: str) -> bool:
        log.info("replay: %s", message)
        self.failed.emit(message)
        return False
