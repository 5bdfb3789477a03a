"""Paints a positions cell from the model's cached look with cached text layouts (Qt's own painting lays text out per cell per paint)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import QPainter, QPalette, QStaticText, QTransform
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView

_RIGHT = int(Qt.AlignmentFlag.AlignRight)  # an int: `int & enum` goes through Python's slow Flag.__and__
_RELAYOUT = (QEvent.Type.StyleChange, QEvent.Type.FontChange, QEvent.Type.Polish)
_ELIDE = Qt.TextElideMode.ElideRight
_TEXT = QPalette.ColorRole.Text
MAX_CACHED = 4096  # distinct texts laid out (a day of ticks on a few pairs stays far below; then it starts over)


class CachedTextDelegate(QStyledItemDelegate):
    """Background brush, text in the row's colour, aligned and vertically centred, elided on the right.

    What Qt's QStyledItemDelegate would paint for these cells (they carry only text, alignment and two
    brushes), without its per-paint QTextLayout: a QStaticText keeps each text's layout, so a repainted
    cell costs one Python call and a few painter calls (a full repaint of the stream benchmark's 20-row
    table: ~14 ms of CPU instead of ~22 ms with Qt's own delegate). Any model without `cell_look` is
    painted by Qt as usual.
    """

    def __init__(self, view: QTableView) -> None:
        super().__init__(view)
        self.view = view
        self._texts: dict[tuple[str, int], tuple[QStaticText, float, float]] = {}  # (text, elided to) -> layout
        self._insets: tuple[int, int, int, int] | None = None  # (left, right, top, bottom), at the first paint
        self._restyled()
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in _RELAYOUT:
            self._restyled()
        return False

    def _restyled(self) -> None:
        """A new style or font: the layouts are redone, and the text insets are asked again at the next paint
        (a style sheet applies once the view is polished, after this delegate is made)."""
        self._texts = {}
        self._insets = None

    def _measured_insets(self) -> tuple[int, int, int, int]:
        view = self.view
        # Where Qt's delegate puts the text: the style's text rect (a style sheet's item padding) and
        # inside it the item text margin (the focus frame's horizontal margin plus one, as QCommonStyle).
        sample = QStyleOptionViewItem()
        sample.initFrom(view)
        sample.rect = QRect(0, 0, 200, 40)
        sample.text = "0"
        sample.features = QStyleOptionViewItem.ViewItemFeature.HasDisplay
        inner = view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemText, sample, view)
        margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
        self._insets = (inner.left() + margin, 199 - inner.right() + margin, inner.top(), 39 - inner.bottom())
        return self._insets

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        look_of = getattr(index.model(), "cell_look", None)
        look = look_of(index.row(), index.column()) if look_of is not None else None
        if look is None:
            super().paint(painter, option, index)
            return
        self.paint_look(painter, option, look)

    def paint_look(self, painter: QPainter, option: QStyleOptionViewItem, look: tuple) -> None:
        text, alignment, background, foreground = look
        rect = option.rect
        if background is not None:
            painter.fillRect(rect, background)
        if not text:
            return
        left, right, top, bottom = self._insets or self._measured_insets()
        available = rect.width() - left - right
        static, width, height = self._layout(text, option, available)
        painter.setPen(foreground.color() if foreground is not None else option.palette.color(_TEXT))
        x = rect.right() + 1 - right - width if alignment & _RIGHT else rect.left() + left
        # Integer centring, as QStyle.alignedRect: a half-pixel offset would draw the text a pixel lower.
        y = rect.top() + top + (rect.height() - top - bottom - round(height)) // 2
        painter.drawStaticText(QPointF(x, y), static)

    def _layout(self, text: str, option: QStyleOptionViewItem, available: int) -> tuple[QStaticText, float, float]:
        if len(self._texts) > MAX_CACHED:
            self._texts = {}
        full = self._texts.get((text, 0))
        if full is None:
            full = self._texts[(text, 0)] = self._prepared(text, option)
        if full[1] <= available:
            return full
        # Too wide for the column: elided as Qt would (numbers never are: the view widens their columns).
        key = (text, available)
        elided = self._texts.get(key)
        if elided is None:
            elided = self._texts[key] = self._prepared(option.fontMetrics.elidedText(text, _ELIDE, available), option)
        return elided

    @staticmethod
    def _prepared(text: str, option: QStyleOptionViewItem) -> tuple[QStaticText, float, float]:
        static = QStaticText(text)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.prepare(QTransform(), option.font)
        size = static.size()
        return static, size.width(), size.height()
