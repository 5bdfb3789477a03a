"""Positions table view: sort proxy on raw values, selection kept by position id across updates."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from kraken_monitor.domain.models import PositionFigures
from kraken_monitor.ui.positions_model import ID_ROLE, Column, PositionsModel


def _key(value: Any) -> tuple[bool, Any]:
    return (value is None, value)


class PositionsProxyModel(QSortFilterProxyModel):
    """Sorts on the model's UserRole (raw Decimal); re-sorts only on header clicks and row changes.

    dynamicSortFilter is off so a price tick never reorders rows under the user's cursor.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(Qt.ItemDataRole.UserRole)
        self.setDynamicSortFilter(False)

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:
        # Decimals travel as Python objects, which QVariant cannot order: compare them in Python.
        model = self.sourceModel()
        a = model.data(left, Qt.ItemDataRole.UserRole)
        b = model.data(right, Qt.ItemDataRole.UserRole)
        try:
            return _key(a) < _key(b)
        except TypeError:
            return str(a) < str(b)


# What a trader scans first sits first: how close each position is to liquidation, then P&L, then
# bookkeeping. Only the visual order changes (the model keeps the column order), and a saved
# header layout overrides it.
DEFAULT_VISUAL_ORDER = (
    Column.PAIR, Column.SIDE, Column.SIZE, Column.ENTRY, Column.PRICE,
    Column.DISTANCE_TO_LIQUIDATION, Column.LIQUIDATION_PRICE, Column.MARGIN_CALL_PRICE, Column.RISK,
    Column.LEVERAGE, Column.PNL, Column.PNL_PCT, Column.NET_PNL, Column.FEES, Column.BREAK_EVEN,
    Column.USED_MARGIN, Column.COST, Column.NEXT_ROLLOVER,
)  # fmt: skip


class PositionsView(QTableView):
    """Table of positions; emits `position_selected(str | None)` with the selected position id."""

    position_selected = Signal(object)

    def __init__(self, model: PositionsModel, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("positionsTable")
        self._model = model
        self.proxy = PositionsProxyModel(self)
        self.proxy.setSourceModel(model)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # start in the exchange's (FIFO) order
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(False)  # row colour means risk; alternating shades would blur it
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for visual, column in enumerate(DEFAULT_VISUAL_ORDER):
            header.moveSection(header.visualIndex(column), visual)
        self._pending_id: str | None = None
        self._last_emitted: object = ()
        model.modelAboutToBeReset.connect(self._remember_selection)
        model.modelReset.connect(self._after_rows_changed)
        model.rowsInserted.connect(self._after_rows_changed)
        model.rowsRemoved.connect(self._after_rows_changed)
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)

    # --- queries -------------------------------------------------------------------------------
    def selected_position_id(self) -> str | None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        return self.proxy.data(rows[0], ID_ROLE)

    def selected_position(self) -> PositionFigures | None:
        pid = self.selected_position_id()
        if pid is None:
            return None
        return self._model.position_at(self._model.row_of(pid))

    def select_position(self, position_id: str) -> bool:
        row = self._model.row_of(position_id)
        if row < 0:
            return False
        proxy_index = self.proxy.mapFromSource(self._model.index(row, 0))
        self.selectionModel().select(
            proxy_index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.setCurrentIndex(proxy_index)
        return True

    def fit_columns(self) -> None:
        """Size columns to their contents once (not on every tick: that would jitter)."""
        self.resizeColumnsToContents()
        self.setColumnWidth(Column.PAIR, max(self.columnWidth(Column.PAIR), 150))

    # --- bookkeeping ---------------------------------------------------------------------------
    def _remember_selection(self) -> None:
        self._pending_id = self.selected_position_id()

    def _after_rows_changed(self, *args) -> None:
        # Row set changed: re-sort once (dynamic sorting is off), then restore the selection by id.
        if self.proxy.sortColumn() >= 0:
            self.proxy.sort(self.proxy.sortColumn(), self.proxy.sortOrder())
        if self._pending_id is not None:
            self.select_position(self._pending_id)
            self._pending_id = None
        if not self.selectionModel().selectedRows() and self.proxy.rowCount() > 0:
            # Something is always selected so the chart never sits empty while positions exist.
            self.select_position(self.proxy.data(self.proxy.index(0, 0), ID_ROLE))
        self._emit_selection()

    def _on_selection_changed(self, *_args) -> None:
        self._emit_selection()

    def _emit_selection(self) -> None:
        pid = self.selected_position_id()
        if pid != self._last_emitted:
            self._last_emitted = pid
            self.position_selected.emit(pid)
