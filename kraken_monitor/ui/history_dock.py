"""History dock: closed, settled and liquidated positions with fee split, pair and date filters, CSV export.

Reads the journal in the GUI thread on its own read-only connection: the journal is WAL, so this
reader never blocks (or is blocked by) the poll thread's writes, and the worker's connection stays
bound to its own thread. A read is one filtered query over the alerts table (small: events only).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.domain.history import REASONS, ClosedPosition, VenueHistory, merged, select
from kraken_monitor.domain.models import EVENT_REASON_PREFIX, Risk
from kraken_monitor.text import history as text
from kraken_monitor.text import replay as replay_text
from kraken_monitor.ui import theme
from kraken_monitor.ui.row_menu import install_row_menu
from kraken_monitor.worker.serialize import write_history_csv

_ENDINGS = frozenset(EVENT_REASON_PREFIX + r for r in REASONS)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class HistoryModel(QAbstractTableModel):
    """One row per closed position, newest first; every string from text/history.py."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[ClosedPosition] = []

    def set_rows(self, rows: list[ClosedPosition]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[ClosedPosition]:
        return list(self._rows)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(text.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(text.COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return text.COLUMNS[section][1]
            if role == Qt.ItemDataRole.TextAlignmentRole and text.COLUMNS[section][0] in text.NUMERIC:
                return _RIGHT
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, key = self._rows[index.row()], text.COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return text.cell_text(row, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            return text.cell_tip(row, key) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and key in text.NUMERIC:
            return _RIGHT
        if key == "reason" and row.reason == "liquidated":
            if role == Qt.ItemDataRole.BackgroundRole:
                return theme.risk_background(Risk.LIQUIDATION)
            if role == Qt.ItemDataRole.ForegroundRole:
                return theme.risk_foreground(Risk.LIQUIDATION)
        return None


class HistoryDock(QDockWidget):
    """The dock; `set_journal(path)` points it at the mode's journal, `on_alerts` refreshes after a close."""

    exported = Signal(str)  # the status line after an export (done or failed)
    replay_requested = Signal(object)  # a row's closing time: replay the moment before it ended
    venue_history_wanted = Signal(object)  # since (datetime): ask the venue's own record (live: Kraken's)

    def __init__(self, parent=None, clock=None) -> None:
        super().__init__(text.DOCK_TITLE, parent)
        self.setObjectName("historyDock")
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._path: Path | None = None
        self._conn: sqlite3.Connection | None = None
        self._all: list[ClosedPosition] = []
        self._venue: VenueHistory = VenueHistory()  # Kraken's rows (partial closes too) merged over the journal's
        self.model = HistoryModel(self)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        filters = QHBoxLayout()
        self.pair_box = QComboBox()
        self.pair_box.setObjectName("historyPair")
        self.pair_box.addItem(text.ALL_PAIRS, None)
        self.period_box = QComboBox()
        self.period_box.setObjectName("historyPeriod")
        for key, label, days in text.PERIODS:
            self.period_box.addItem(label, (key, days))
        today = QDate.currentDate()
        self.from_date, self.to_date = QDateEdit(today.addDays(-30)), QDateEdit(today)
        for edit in (self.from_date, self.to_date):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.export_button = QPushButton(text.EXPORT_BUTTON)
        self.export_button.setToolTip(text.EXPORT_TIP)
        self.summary = QLabel(text.EMPTY)
        self.summary.setObjectName("historySummary")
        for widget in (QLabel(text.PAIR_LABEL), self.pair_box, QLabel(text.PERIOD_LABEL), self.period_box,
                       QLabel(text.FROM_LABEL), self.from_date, QLabel(text.TO_LABEL), self.to_date):
            filters.addWidget(widget)
        filters.addWidget(self.summary, 1)
        filters.addWidget(self.export_button)
        layout.addLayout(filters)
        self.table = QTableView()
        self.table.setObjectName("historyTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setSortingEnabled(False)  # newest first is the order a post-mortem reads
        layout.addWidget(self.table)
        self.setWidget(body)
        self.pair_box.currentIndexChanged.connect(self._apply_filters)
        self.period_box.currentIndexChanged.connect(self._period_changed)
        self.from_date.dateChanged.connect(self._apply_filters)
        self.to_date.dateChanged.connect(self._apply_filters)
        self.export_button.clicked.connect(self.export_with_dialog)
        install_row_menu(self.table, self.context_menu_at)
        self.table.doubleClicked.connect(lambda index: self._replay_row(index.row()))
        self._period_changed()

    def _replay_row(self, row: int) -> None:
        rows = self.model.rows()
        if 0 <= row < len(rows):
            self.replay_requested.emit(rows[row].closed_at)

    def context_menu_at(self, pos: QPoint) -> QMenu | None:
        """The row's menu ("Replay the moment before it ended"), or None off the rows (ui/row_menu.py pops it up)."""
        row = self.table.indexAt(pos).row()
        if row < 0:
            return None
        menu = QMenu(self.table)
        menu.addAction(replay_text.HISTORY_ACTION).triggered.connect(lambda: self._replay_row(row))
        return menu

    # -- data ------------------------------------------------------------------------------------
    def set_journal(self, path: Path | str | None) -> None:
        """The journal of the mode being monitored (a restart in another mode points it elsewhere)."""
        self.close_journal()
        self._path = None if path is None else Path(path)
        self._venue = VenueHistory()
        self.refresh()
        self.ask_venue()

    def ask_venue(self) -> None:
        """Ask for the venue's own record of the last VENUE_DAYS (the answer comes to `set_venue_history`)."""
        self.venue_history_wanted.emit(self._clock() - timedelta(days=text.VENUE_DAYS))

    def set_venue_history(self, venue: VenueHistory) -> None:
        """The worker's answer: rows merged in (they replace the journal's rows of the positions they cover)."""
        if isinstance(venue, VenueHistory):
            self._venue = venue
            self.refresh()

    def close_journal(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def on_alerts(self, alerts) -> None:
        """Slot for `alerts_fired`: re-read only when a position ended in this batch."""
        if any(getattr(a, "reason", "") in _ENDINGS for a in alerts or ()):
            self.refresh()
            self.ask_venue()

    def refresh(self) -> None:
        """Re-read every closed position (the filters then apply in memory: pair list from all rows)."""
        # Imported here, not at module load: the window paints before numpy / sqlite-utils load.
        from kraken_monitor.storage.history_queries import closed_positions, open_read_only
        from kraken_monitor.storage.journal import JournalError

        try:
            if self._conn is None and self._path is not None:
                self._conn = open_read_only(self._path)  # None until the first cycle creates the file
            self._all = merged(closed_positions(self._conn), self._venue.rows)
        except JournalError as exc:
            self.close_journal()
            self._all = []
            self.model.set_rows([])
            self.summary.setText(text.READ_FAILED.format(reason=exc))
            return
        self._refill_pairs()
        self._apply_filters()

    def _refill_pairs(self) -> None:
        current = self.pair_box.currentData()
        pairs = sorted({r.pair for r in self._all})
        self.pair_box.blockSignals(True)
        self.pair_box.clear()
        self.pair_box.addItem(text.ALL_PAIRS, None)
        for pair in pairs:
            self.pair_box.addItem(pair, pair)
        found = self.pair_box.findData(current) if current is not None else 0
        self.pair_box.setCurrentIndex(max(0, found))
        self.pair_box.blockSignals(False)

    # -- filters -----------------------------------------------------------------------------------
    def _period_changed(self, *_args) -> None:
        ranged = self.period_box.currentData()[0] == "range"
        self.from_date.setEnabled(ranged)
        self.to_date.setEnabled(ranged)
        self._apply_filters()

    def period_window(self) -> tuple[datetime | None, datetime | None]:
        """[since, until) of the chosen period; the From/To dates are whole local days."""
        key, days = self.period_box.currentData()
        if days is None:
            return None, None
        if key != "range":
            return self._clock() - timedelta(days=days), None
        start = datetime.combine(self.from_date.date().toPython(), time()).astimezone()
        end = datetime.combine(self.to_date.date().toPython() + timedelta(days=1), time()).astimezone()
        return start, end

    def _apply_filters(self, *_args) -> None:
        since, until = self.period_window()
        rows = select(self._all, pair=self.pair_box.currentData(), since=since, until=until)
        self.model.set_rows(rows)
        note = text.VENUE_FAILED.format(reason=self._venue.error) if self._venue.error else ""
        self.summary.setText(text.summary(rows) + (f" \u2014 {note}" if note else ""))
        self.export_button.setEnabled(bool(rows))
        self.table.resizeColumnsToContents()

    # -- export ------------------------------------------------------------------------------------
    def export_csv(self, path: Path | str) -> str:
        """Write the rows shown; returns the status line (also emitted as `exported`)."""
        rows = self.model.rows()
        try:
            with open(path, "w", newline="", encoding="utf-8") as out:
                write_history_csv(rows, out)
        except OSError as exc:
            message = text.EXPORT_FAILED.format(reason=exc.strerror or exc)
        else:
            message = text.export_done(len(rows), str(path))
        self.exported.emit(message)
        return message

    def export_with_dialog(self) -> str:
        """Ask where (QFileDialog), then export; '' when the trader cancels."""
        path, _ = QFileDialog.getSaveFileName(self, text.EXPORT_DIALOG, "kraken-history.csv", text.EXPORT_FILTER)
        return self.export_csv(path) if path else ""
