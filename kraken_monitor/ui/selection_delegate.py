"""Paints the selected row as an outline, so its risk colour stays visible (a highlight fill would hide it)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from kraken_monitor.ui.cell_painter import CachedTextDelegate

OUTLINE_WIDTH = 2


class SelectionOutlineDelegate(CachedTextDelegate):
    """Unselected cells paint as every cell does; selected ones paint unselected plus the row's outline in the highlight colour."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        state = option.state
        if not state & QStyle.StateFlag.State_Selected:
            super().paint(painter, option, index)
            return
        plain = QStyleOptionViewItem(option)
        plain.state = state & ~QStyle.StateFlag.State_Selected & ~QStyle.StateFlag.State_HasFocus
        # The view has already filled the selected row with the highlight (PE_PanelItemViewRow); paint
        # the plain base first, or it would show through a hatched "unknown" brush.
        painter.fillRect(option.rect, option.palette.base())
        super().paint(painter, plain, index)
        header = self.view.horizontalHeader()
        visual = header.visualIndex(index.column())
        rect = option.rect.adjusted(0, OUTLINE_WIDTH // 2, 0, -(OUTLINE_WIDTH // 2 + OUTLINE_WIDTH % 2))
        painter.save()
        painter.setPen(QPen(option.palette.color(QPalette.ColorRole.Highlight), OUTLINE_WIDTH))
        painter.drawLine(rect.topLeft(), rect.topRight())
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        if visual == self._first_visual(header):
            left = rect.left() + OUTLINE_WIDTH // 2
            painter.drawLine(left, rect.top(), left, rect.bottom())
        if visual == self._last_visual(header):
            right = rect.right() - OUTLINE_WIDTH // 2
            painter.drawLine(right, rect.top(), right, rect.bottom())
        painter.restore()

    @staticmethod
    def _first_visual(header) -> int:
        for visual in range(header.count()):
            if not header.isSectionHidden(header.logicalIndex(visual)):
                return visual
        return 0

    @staticmethod
    def _last_visual(header) -> int:
        for visual in range(header.count() - 1, -1, -1):
            if not header.isSectionHidden(header.logicalIndex(visual)):
                return visual
        return header.count() - 1
