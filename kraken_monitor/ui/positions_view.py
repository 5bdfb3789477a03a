"""Positions table view: header clicks sort the model on raw values, selection kept by position id."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from kraken_monitor.domain.models import PositionFigures
from kraken_monitor.ui.cell_painter import CachedTextDelegate
from kraken_monitor.ui.changed_cells import ChangedCellRepainter
from kraken_monitor.ui.positions_model import ID_ROLE, RISK_ROLE, Column, PositionsModel
from kraken_monitor.ui.selection_delegate import SelectionOutlineDelegate

# What a trader scans first sits first: how close each position is to liquidation, then P&L, then
# bookkeeping. Only the visual order changes (the model keeps the column order), and a saved
# header layout overrides it.
DEFAULT_VISUAL_ORDER = (
    Column.ACCOUNT, Column.PAIR, Column.SIDE, Column.SIZE, Column.ENTRY, Column.PRICE,
    Column.DISTANCE_TO_LIQUIDATION, Column.LIQUIDATION_PRICE, Column.MARGIN_CALL_PRICE, Column.RISK,
    Column.STOP_LOSS, Column.TAKE_PROFIT, Column.PROTECTION,  # issue 16: next to the risk they answer
    Column.LEVERAGE, Column.PNL, Column.PNL_PCT, Column.NET_PNL, Column.FEES, Column.BREAK_EVEN,
    Column.USED_MARGIN, Column.COST, Column.NEXT_ROLLOVER,
)  # fmt: skip


_ZEROS = str.maketrans("123456789", "000000000")
_NEIGHBOURS = ",.-+%\u2212 ()x/:"  # what stands next to digits in the cells


_INTERCHANGEABLE: dict[str, bool] = {}  # QFont.key() -> _font_digits_interchangeable


def _shape(text: object) -> object:
    return text.translate(_ZEROS) if isinstance(text, str) else text


def _same(text: object) -> object:
    return text


def _font_digits_interchangeable(font: QFont) -> bool:
    metrics = QFontMetricsF(font)
    digits = "0123456789"
    if len({metrics.horizontalAdvance(d) for d in digits}) != 1:
        return False
    # Kerning would make "17" narrower than "10": every digit beside every digit and neighbour, both sides.
    samples = [a + b for a in digits for b in digits] + [d + n for d in digits for n in _NEIGHBOURS]
    samples += [n + d for d in digits for n in _NEIGHBOURS]
    groups: dict[str, set[float]] = {}
    for text in samples:
        groups.setdefault(text.translate(_ZEROS), set()).add(metrics.horizontalAdvance(text))
    return all(len(widths) == 1 for widths in groups.values())


def _digits_interchangeable(font: QFont) -> bool:
    """True when any digit can replace any other in a text without changing its width in `font`."""
    key = font.key()
    known = _INTERCHANGEABLE.get(key)
    if known is None:
        known = _INTERCHANGEABLE[key] = _font_digits_interchangeable(font)
    return known


class PositionsView(QTableView):
    """Table of positions; emits `position_selected(str | None)` with the selected position id."""

    position_selected = Signal(object)

    def __init__(self, model: PositionsModel, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("positionsTable")
        self._model = model
        # No QSortFilterProxyModel: the model sorts itself (the proxy's mapping cost ~1.7 ms per paint).
        self.setModel(model)
        self._repainter = ChangedCellRepainter(self, RISK_ROLE)
        self.setItemDelegate(CachedTextDelegate(self))  # text layouts kept across ticks (ui/cell_painter.py)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # start in the exchange's (FIFO) order
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(False)  # row colour means risk; alternating shades would blur it
        # The selection is an outline, never a fill: the selected row keeps showing its risk colour.
        # Only the selected row gets the outline delegate.
        self._outline = SelectionOutlineDelegate(self)
        self._outlined_row = -1
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
        # True while the selection is the view's own pick (nobody chose a row yet): when rows of another
        # account arrive, the pick moves to the first row again (spot rows come first, and the chart draws them).
        self._auto_selected = False
        self._auto_selecting = False
        self._last_emitted: object = ()
        model.modelAboutToBeReset.connect(self._remember_selection)
        model.modelReset.connect(self._after_rows_changed)
        model.rowsInserted.connect(self._after_rows_changed)
        model.rowsRemoved.connect(self._after_rows_changed)
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.pressed.connect(self._on_pressed)  # a click on the row already picked is a choice too
        model.layoutChanged.connect(self._outline_selected_row)
        # Numbers must never elide ("-11,31…" hides the sign and size of a loss): once a second a
        # column too narrow for what it shows widens; it never shrinks (no jitter), and the table
        # scrolls sideways when the columns outgrow the window.
        self._fitted: dict[int, tuple[tuple, int]] = {}  # column -> (what it showed, its width) when it last fitted
        self._fit_context: tuple | None = None
        self._fit_timer = QTimer(self)
        self._fit_timer.setInterval(1000)
        self._fit_timer.timeout.connect(self.widen_to_fit)
        self._fit_timer.start()
        # Only the columns in view are fitted (the others are not seen): scrolling sideways or a wider viewport
        # fits the columns that come into view before they are painted.
        self.horizontalScrollBar().valueChanged.connect(self.widen_to_fit)
        self.horizontalScrollBar().rangeChanged.connect(self.widen_to_fit)

    # --- queries -------------------------------------------------------------------------------
    def selected_position_id(self) -> str | None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        return self._model.data(rows[0], ID_ROLE)

    def selected_position(self) -> PositionFigures | None:
        pid = self.selected_position_id()
        if pid is None:
            return None
        return self._model.position_at(self._model.row_of(pid))

    def select_position(self, position_id: str) -> bool:
        if not self._auto_selecting:
            self._auto_selected = False
        row = self._model.row_of(position_id)
        if row < 0:
            return False
        index = self._model.index(row, 0)
        self.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.setCurrentIndex(index)
        return True

    def fit_columns(self) -> None:
        """Size columns to their contents once (not on every tick: that would jitter)."""
        self.resizeColumnsToContents()
        self.setColumnWidth(Column.PAIR, max(self.columnWidth(Column.PAIR), 150))

    def widen_to_fit(self) -> list[int]:
        """Widen every column in view narrower than its contents (header included); the columns widened.

        Qt's size hint asks the delegate for every row of the column (a Python multiData call per cell):
        ~13 ms a second for a demo book. A column is measured again only when what it shows changed since
        it last fitted (its texts, header, sort arrow), it got narrower, or the rows, selection (the outline
        delegate), font or style did: the same texts in the same cells need the same width. When the font's
        digits are interchangeable (same advance, no kerning against each other or the signs and separators:
        checked once per font), a text is compared by its shape (every digit as 0), so a price ticking from
        67,123.4 to 67,124.0 measures nothing. A column scrolled out of view is not looked at (formatting its
        texts was half of this method's time, 20 rows by a dozen columns once a second): it is fitted when it
        comes into view.
        """
        if not self.isVisible() or self._model.rowCount() == 0:
            return []
        header, model = self.horizontalHeader(), self._model
        rows = model.rowCount()
        context = (rows, self._outlined_row, self.font().key(), id(self.style()),
                   # Qt measures at most resizeContentsPrecision rows around the visible ones: beyond that, where
                   # the view is scrolled to decides which rows count.
                   self.verticalScrollBar().value() if rows > header.resizeContentsPrecision() else 0)
        if context != self._fit_context:
            self._fit_context = context
            self._fitted.clear()
        known = self._repainter.known_texts  # what the visible cells show, kept by the repainter
        shape = _shape if _digits_interchangeable(self.font()) else _same
        sorted_column, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
        widened, view_width = [], self.viewport().width()
        for column in range(header.count()):
            if header.isSectionHidden(column):
                continue
            left = header.sectionViewportPosition(column)
            if left >= view_width or left + header.sectionSize(column) <= 0:
                continue  # out of view
            shown = (model.headerData(column, Qt.Orientation.Horizontal), column == sorted_column, order,
                     *map(shape, known(column) or model.column_texts(column)))
            width = self.columnWidth(column)
            fitted = self._fitted.get(column)
            if fitted is not None and fitted[0] == shown and width >= fitted[1]:
                continue
            needed = max(self.sizeHintForColumn(column), header.sectionSizeHint(column))
            if needed > width:
                self.setColumnWidth(column, needed)
                widened.append(column)
            self._fitted[column] = (shown, self.columnWidth(column))
        return widened

    # --- repainting ----------------------------------------------------------------------------
    def dataChanged(self, top_left, bottom_right, roles=()) -> None:  # noqa: N802 - Qt override
        """A tick repaints only the visible cells that changed (see ChangedCellRepainter), not the range."""
        if not self._repainter.repaint_changed(top_left, bottom_right):
            super().dataChanged(top_left, bottom_right, roles)

    # --- bookkeeping ---------------------------------------------------------------------------
    def _remember_selection(self) -> None:
        self._pending_id = None if self._auto_selected else self.selected_position_id()

    def _after_rows_changed(self, *args) -> None:
        # Row set changed (the model re-sorts new rows itself): restore the selection by id.
        if self._pending_id is not None:
            self.select_position(self._pending_id)
            self._pending_id = None
        if (self._auto_selected or not self.selectionModel().selectedRows()) and self._model.rowCount() > 0:
            # Something is always selected so the chart never sits empty while positions exist.
            self._auto_selecting = True
            try:
                self.select_position(self._model.data(self._model.index(0, 0), ID_ROLE))
            finally:
                self._auto_selecting = False
            self._auto_selected = True
        self._outline_selected_row()  # the selected row may have moved without a selection change
        self._emit_selection()

    def _on_pressed(self, *_args) -> None:
        self._auto_selected = False

    def _on_selection_changed(self, *_args) -> None:
        if not self._auto_selecting:
            self._auto_selected = False  # the trader's (or a caller's) choice from now on
        self._outline_selected_row()
        self._emit_selection()

    def _outline_selected_row(self, *_args) -> None:
        rows = self.selectionModel().selectedRows()
        row = rows[0].row() if rows else -1
        if row == self._outlined_row:
            return
        if self._outlined_row >= 0:
            self.setItemDelegateForRow(self._outlined_row, None)
        if row >= 0:
            self.setItemDelegateForRow(row, self._outline)
        self._outlined_row = row

    def _emit_selection(self) -> None:
        pid = self.selected_position_id()
        if pid != self._last_emitted:
            self._last_emitted = pid
            self.position_selected.emit(pid)
