"""Alert log dock: table of fired alerts (newest first) with Acknowledge and Snooze 15 min buttons."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.domain.models import Alert, Risk
from kraken_monitor.text import alerts as text
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text import replay as replay_text
from kraken_monitor.text.accounts import alert_account
from kraken_monitor.ui import theme
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.row_menu import install_row_menu

SNOOZE_SECONDS = 15 * 60.0
MAX_ROWS = 1000


class AlertColumn(enum.IntEnum):
    TIME = 0
    LEVEL = 1
    ACCOUNT = 2  # which monitored account: spot margin or futures, demo / paper / live
    SUBJECT = 3
    MESSAGE = 4
    STATE = 5


_HEADERS = ("Time", "Level", "Account", "Position / pair", "Message", "State")


class AlertLogModel(QAbstractTableModel):
    """Newest alert first; one row per Alert record (the worker's), state as the engine last reported it.

    GUI thread only. `clock` gives the time a snooze is judged against (it ends by itself).
    """

    def __init__(self, parent=None, clock=None) -> None:
        super().__init__(parent)
        self._rows: list[Alert] = []
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self.spot_account = ""  # the account of alerts that do not name theirs (the spot worker's)

    def add_alerts(self, alerts) -> None:
        """Slot for `alerts_fired` and the journal's recent alerts: Alert records, any order."""
        known = {a.id for a in self._rows if a.id != 0}
        rows = [a for a in alerts or () if isinstance(a, Alert) and (a.id == 0 or a.id not in known)]
        if not rows:
            return
        rows.sort(key=lambda a: (a.fired_at, a.id), reverse=True)
        self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
        self._rows[0:0] = rows
        self.endInsertRows()
        if len(self._rows) > MAX_ROWS:
            self.beginRemoveRows(QModelIndex(), MAX_ROWS, len(self._rows) - 1)
            del self._rows[MAX_ROWS:]
            self.endRemoveRows()

    def update_alerts(self, alerts) -> None:
        """Slot for `alerts_changed`: the same records, acknowledged or snoozed (wherever that was done)."""
        changed = {a.id: a for a in alerts or () if isinstance(a, Alert) and a.id != 0}
        for row, alert in enumerate(self._rows):
            if alert.id in changed:
                self._rows[row] = changed[alert.id]
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(AlertColumn) - 1))

    def row(self, index: int) -> Alert | None:
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(AlertColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(_HEADERS):
            return _HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        a = self._rows[index.row()]
        col = AlertColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if col is AlertColumn.TIME:
                return fmt.fmt_datetime(a.fired_at)
            if col is AlertColumn.LEVEL:
                return text.level_word(a)
            if col is AlertColumn.ACCOUNT:
                return alert_account(a, self.spot_account)
            if col is AlertColumn.SUBJECT:
                return text.alert_subject(a)
            if col is AlertColumn.MESSAGE:
                return text.alert_message(a)
            return text.alert_state(a, self._clock())
        if role == Qt.ItemDataRole.ToolTipRole and col is AlertColumn.MESSAGE:
            return text.alert_message(a)
        if role == Qt.ItemDataRole.ToolTipRole and col is AlertColumn.SUBJECT and a.position_id:
            return f"Position {a.position_id} ({a.pair})"
        if role == Qt.ItemDataRole.BackgroundRole and col is AlertColumn.LEVEL:
            return theme.risk_background(Risk.UNKNOWN if a.stale else a.level)
        if role == Qt.ItemDataRole.ForegroundRole and col is AlertColumn.LEVEL:
            return theme.risk_foreground(Risk.UNKNOWN if a.stale else a.level)
        return None


class AlertLogDock(QDockWidget):
    """Dock around the alert table. Emits requests; the main window routes them to the worker slots."""

    acknowledge_requested = Signal(int)
    snooze_requested = Signal(int, float, bool)  # alert id, snooze duration in seconds, LIQUIDATION confirmed
    replay_requested = Signal(object)  # the Alert whose moment the trader wants to see again (context menu)

    def __init__(self, parent=None, clock=None) -> None:
        super().__init__("Alerts", parent)
        self.setObjectName("alertLogDock")
        self._clock = clock or (lambda: datetime.now().astimezone())
        self.model = AlertLogModel(self, clock=self._clock)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.table = QTableView()
        self.table.setObjectName("alertTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.horizontalHeader().setSectionResizeMode(AlertColumn.MESSAGE, self.table.horizontalHeader().ResizeMode.Stretch)
        self.table.setColumnWidth(AlertColumn.TIME, 160)
        self.table.setColumnWidth(AlertColumn.SUBJECT, 180)
        self.table.setColumnWidth(AlertColumn.ACCOUNT, 130)
        # "snoozed until 12:18:07 (warning and below)" must read in full, never elided.
        self.table.horizontalHeader().setSectionResizeMode(AlertColumn.STATE, self.table.horizontalHeader().ResizeMode.ResizeToContents)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.ack_button = QPushButton("Acknowledge")
        self.snooze_button = QPushButton("Snooze 15 min")
        buttons.addStretch(1)
        buttons.addWidget(self.ack_button)
        buttons.addWidget(self.snooze_button)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.snooze_button.clicked.connect(self.snooze_selected)
        install_row_menu(self.table, self.context_menu_at)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.rowsInserted.connect(self._update_buttons)
        self._update_buttons()

    # -- replay: the log as it stood at a past moment (the live model keeps every live alert meanwhile) --
    def show_replay(self, alerts, at: datetime) -> None:
        replayed = AlertLogModel(self, clock=lambda: at)
        replayed.spot_account = self.model.spot_account  # the Account column reads as it does live
        replayed.add_alerts(alerts)
        self._show_model(replayed)

    def show_live(self) -> None:
        self._show_model(self.model)

    def replaying(self) -> bool:
        return self.table.model() is not self.model

    def shown_row(self, index: int) -> Alert | None:
        return self.table.model().row(index)

    def _show_model(self, model: AlertLogModel) -> None:
        old = self.table.model()
        if old is model:
            return
        self.table.setModel(model)  # a new selection model: connect it again
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        if old is not self.model:
            old.deleteLater()
        self._update_buttons()

    def context_menu_at(self, pos: QPoint) -> QMenu | None:
        """The row's menu ("Replay this moment"), or None off the rows (ui/row_menu.py pops it up)."""
        row = self.table.indexAt(pos).row()
        alert = self.shown_row(row) if row >= 0 else None
        if alert is None:
            return None
        menu = QMenu(self.table)
        action = menu.addAction(replay_text.EVENT_ACTION)
        action.setToolTip(replay_text.EVENT_TIP)
        action.triggered.connect(lambda: self.replay_requested.emit(alert))
        return menu

    def add_alerts(self, alerts) -> None:
        self.model.add_alerts(alerts)

    def load_recent(self, rows) -> None:
        """Journal's recent alerts (oldest or newest first; sorted here)."""
        self.model.add_alerts(rows)

    def _selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _update_buttons(self, *_args) -> None:
        enabled = self._selected_row() >= 0 and not self.replaying()
        self.ack_button.setEnabled(enabled)
        self.snooze_button.setEnabled(enabled)
        tip = replay_text.DISABLED_REASON if self.replaying() else ""
        self.ack_button.setToolTip(tip)
        self.snooze_button.setToolTip(tip)

    def acknowledge_selected(self) -> None:
        """Ask the worker; the row (and any popup) changes when the engine's updated record comes back."""
        item = self.model.row(self._selected_row()) if not self.replaying() else None
        if item is not None and item.id != 0:
            self.acknowledge_requested.emit(item.id)

    def snooze_selected(self) -> None:
        """Snooze at the selected row's own level; LIQUIDATION only after the trader confirms."""
        item = self.model.row(self._selected_row()) if not self.replaying() else None
        if item is None or item.id == 0:
            return
        if not Messages.instance().confirm_snooze(self, item, SNOOZE_SECONDS):
            return
        self.snooze_requested.emit(item.id, SNOOZE_SECONDS, True)
