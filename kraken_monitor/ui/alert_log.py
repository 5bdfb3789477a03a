"""Alert log dock: table of fired alerts (newest first) with Acknowledge and Snooze 15 min buttons."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.domain.alerts import ACCOUNT_KEY
from kraken_monitor.domain.models import Alert, Risk
from kraken_monitor.ui import formatting as fmt
from kraken_monitor.ui import theme
from kraken_monitor.ui.messages import Messages

SNOOZE_SECONDS = 15 * 60.0
MAX_ROWS = 1000


class AlertColumn(enum.IntEnum):
    TIME = 0
    LEVEL = 1
    SUBJECT = 2
    MESSAGE = 3
    STATE = 4


_HEADERS = ("Time", "Level", "Position / pair", "Message", "State")


@dataclass
class AlertRow:
    """One log line; `alert_id` is what the worker's acknowledge/snooze slots take."""

    alert_id: int
    alert: Alert
    state: str = ""  # "", "acknowledged", "snoozed until HH:MM:SS"


def _alert_id(item: Any, fallback: int) -> int:
    # Journal rows carry their own id; alerts fired this session may carry one; else a local number.
    for name in ("id", "alert_id", "rowid"):
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if isinstance(value, int):
            return value
    return fallback


def _initial_state(item: Any) -> str:
    # Alerts reloaded from the journal remember what the trader did with them.
    if getattr(item, "acknowledged_at", None) is not None:
        return "acknowledged"
    snoozed = getattr(item, "snoozed_until", None)
    if snoozed is not None and snoozed > datetime.now(snoozed.tzinfo):
        return "snoozed until " + fmt.fmt_time(snoozed.astimezone())
    return ""


class AlertLogModel(QAbstractTableModel):
    """Newest alert first; GUI thread only."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[AlertRow] = []
        self._next_local_id = -1  # negative: never collides with journal ids

    def add_alerts(self, alerts) -> None:
        """Slot for `alerts_fired`: a tuple of Alert (or objects with `.alert` and `.id`)."""
        items = list(alerts or ())
        if not items:
            return
        rows = []
        for item in items:
            alert = getattr(item, "alert", item)
            if not isinstance(alert, Alert):
                continue
            rows.append(AlertRow(_alert_id(item, self._next_local_id), alert, _initial_state(item)))
            self._next_local_id -= 1
        if not rows:
            return
        rows.sort(key=lambda r: r.alert.fired_at, reverse=True)
        self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
        self._rows[0:0] = rows
        self.endInsertRows()
        if len(self._rows) > MAX_ROWS:
            self.beginRemoveRows(QModelIndex(), MAX_ROWS, len(self._rows) - 1)
            del self._rows[MAX_ROWS:]
            self.endRemoveRows()

    def row(self, index: int) -> AlertRow | None:
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def mark(self, row: int, state: str) -> None:
        if 0 <= row < len(self._rows):
            self._rows[row].state = state
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(AlertColumn) - 1))

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
        row = self._rows[index.row()]
        a = row.alert
        col = AlertColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if col is AlertColumn.TIME:
                return fmt.fmt_datetime(a.fired_at)
            if col is AlertColumn.LEVEL:
                return "stale" if a.stale else Risk(a.level).label
            if col is AlertColumn.SUBJECT:
                if a.position_id is None:
                    return "account"
                # An account alert names the position to act on; the alert itself is the account's.
                if a.key == ACCOUNT_KEY:
                    return f"account \u2192 {a.pair or a.position_id}"
                return f"{a.pair or ''} {a.position_id}".strip()
            if col is AlertColumn.MESSAGE:
                return a.message
            return row.state
        if role == Qt.ItemDataRole.ToolTipRole and col is AlertColumn.MESSAGE:
            return a.message
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

    def __init__(self, parent=None, clock=None) -> None:
        super().__init__("Alerts", parent)
        self.setObjectName("alertLogDock")
        self._clock = clock or (lambda: datetime.now().astimezone())
        self.model = AlertLogModel(self)
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
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.rowsInserted.connect(self._update_buttons)
        self._update_buttons()

    def add_alerts(self, alerts) -> None:
        self.model.add_alerts(alerts)

    def load_recent(self, rows) -> None:
        """Journal's recent alerts (oldest or newest first; sorted here)."""
        self.model.add_alerts(rows)

    def _selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _update_buttons(self, *_args) -> None:
        enabled = self._selected_row() >= 0
        self.ack_button.setEnabled(enabled)
        self.snooze_button.setEnabled(enabled)

    def acknowledge_selected(self) -> None:
        row = self._selected_row()
        item = self.model.row(row)
        if item is None:
            return
        self.model.mark(row, "acknowledged")
        if item.alert_id >= 0:  # local ids (alert not yet journalled) have nothing to update in the worker
            self.acknowledge_requested.emit(item.alert_id)

    def snooze_selected(self) -> None:
        row = self._selected_row()
        item = self.model.row(row)
        if item is None:
            return
        if not Messages.instance().confirm_snooze(self, item.alert, SNOOZE_SECONDS):
            return
        until = self._clock().timestamp() + SNOOZE_SECONDS
        self.model.mark(row, "snoozed until " + fmt.fmt_time(datetime.fromtimestamp(until).astimezone()))
        if item.alert_id >= 0:
            self.snooze_requested.emit(item.alert_id, SNOOZE_SECONDS, True)
