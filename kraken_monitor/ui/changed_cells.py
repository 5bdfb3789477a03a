"""Repaint economy of a table view: on dataChanged, repaint only the visible cells whose text or row colour changed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QRect, Qt
from PySide6.QtGui import QAccessible, QRegion
from PySide6.QtWidgets import QTableView

_DISPLAY = Qt.ItemDataRole.DisplayRole


class ChangedCellRepainter(QObject):
    """Remembers what every visible cell shows; on dataChanged repaints only the ones whose text or row colour differ.

    Qt repaints the whole rectangle a dataChanged covers: on a price tick that is ~100 cells re-drawn
    for the handful whose text moved. Only the view and the model's public data() are read; the model
    knows nothing of painting. The memory is taken at a paint (when every visible cell shows the
    model's current data) and kept up to date at each dataChanged; it is valid only for the visible
    window it was taken for, so a scroll, resize, moved or hidden column, row change, layout change or
    reset, a hidden view or an accessibility client hand the range back to Qt until the next paint
    takes it again. GUI thread only.
    """

    def __init__(self, view: QTableView, row_style_role: int) -> None:
        super().__init__(view)
        self._view = view
        self._row_style_role = row_style_role  # one value per row standing for its colours (e.g. risk)
        self._window: tuple | None = None  # (first row, last row, visible columns) the memory is for
        self._texts: dict[tuple[int, int], object] = {}  # (row, column) -> DisplayRole text shown
        self._styles: dict[int, object] = {}  # row -> row style shown
        model = view.model()
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted, model.rowsRemoved,
                       model.rowsMoved, model.columnsInserted, model.columnsRemoved):
            signal.connect(self.forget)
        view.viewport().installEventFilter(self)

    def forget(self, *_args) -> None:
        self._window = None
        self._texts.clear()
        self._styles.clear()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint and watched is self._view.viewport():
            window = self._visible_window()
            if window != self._window:
                self._remember(window)
        return False  # never swallow the event: the view paints as usual

    def repaint_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> bool:
        """Schedule the repaint of the changed visible cells in the range; False: the caller lets Qt do it."""
        view = self._view
        model = view.model()
        if QAccessible.isActive() or not view.isVisible() or top_left.model() is not model:
            self.forget()
            return False
        if self._window is None or self._window != self._visible_window():
            self.forget()  # what the cells show is not known: Qt repaints the range, the paint remembers
            return False
        first_row, last_row, visible = self._window
        top, bottom = max(top_left.row(), first_row), min(bottom_right.row(), last_row)
        left, right = top_left.column(), bottom_right.column()
        columns = [col for col in visible if left <= col <= right]
        texts, styles, index, data = self._texts, self._styles, model.index, model.data
        text_at = self._text_reader(model)
        viewport = view.viewport()
        region = QRegion()
        for row in range(top, bottom + 1):
            y, height = view.rowViewportPosition(row), view.rowHeight(row)
            style = data(index(row, 0), self._row_style_role)
            if styles.get(row) != style:
                styles[row] = style
                for col in visible:  # the whole row is repainted, every cell with its current text
                    texts[(row, col)] = text_at(row, col)
                region += QRect(0, y, viewport.width(), height)
                continue
            for col in columns:
                text = text_at(row, col)
                if texts.get((row, col)) != text:
                    texts[(row, col)] = text
                    region += QRect(view.columnViewportPosition(col), y, view.columnWidth(col), height)
        if not region.isEmpty():
            viewport.update(region)
        return True

    @staticmethod
    def _text_reader(model):
        """(row, column) -> DisplayRole text: a model's `cell_look` when it has one (what data() returns,
        without a QModelIndex per cell: ~9 us each, a few hundred cells per tick), else data()."""
        look_of = getattr(model, "cell_look", None)
        if look_of is not None:
            return lambda row, col: look_of(row, col)[0]
        index, data = model.index, model.data
        return lambda row, col: data(index(row, col), _DISPLAY)

    def known_texts(self, column: int) -> tuple | None:
        """Every row's text in `column` as shown now, from the memory (no data() call); None when the memory
        does not hold the whole column (rows scrolled out, the column not visible, nothing remembered)."""
        window = self._window
        if window is None or column not in window[2] or window != self._visible_window():
            return None
        first_row, last_row, _visible = window
        if first_row != 0 or last_row != self._view.model().rowCount() - 1:
            return None
        texts = self._texts
        return tuple(texts[(row, column)] for row in range(first_row, last_row + 1))

    def _remember(self, window: tuple[int, int, tuple[int, ...]]) -> None:
        self.forget()
        self._window = window
        model = self._view.model()
        index, data = model.index, model.data
        text_at = self._text_reader(model)
        first_row, last_row, visible = window
        for row in range(first_row, last_row + 1):
            self._styles[row] = data(index(row, 0), self._row_style_role)
            for col in visible:
                self._texts[(row, col)] = text_at(row, col)

    def _visible_window(self) -> tuple[int, int, tuple[int, ...]]:
        view = self._view
        viewport, header = view.viewport(), view.horizontalHeader()
        first_row = max(view.rowAt(0), 0)
        last_row = view.rowAt(viewport.height() - 1)
        last_row = view.model().rowCount() - 1 if last_row < 0 else last_row
        first_visual = max(header.visualIndexAt(0), 0)
        last_visual = header.visualIndexAt(viewport.width() - 1)
        last_visual = header.count() - 1 if last_visual < 0 else last_visual
        visible = tuple(
            logical
            for logical in map(header.logicalIndex, range(first_visual, last_visual + 1))
            if not header.isSectionHidden(logical)
        )
        return first_row, last_row, visible
