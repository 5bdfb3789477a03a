"""Which positions-table columns show: a checkable menu on the header's right-click and under View."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHeaderView, QMenu, QWidget

from kraken_monitor.ui.positions_columns import HEADERS, Column

# The row's name: a table without it would show figures nobody can put to a position.
ALWAYS_SHOWN = frozenset({Column.PAIR})
MENU_TITLE = "&Columns"
SHOW_ALL = "Show all columns"


class ColumnChooser:
    """GUI thread only. Hiding a column is the header's own state, so the saved header layout remembers it."""

    def __init__(self, header: QHeaderView, parent: QWidget | None = None) -> None:
        self.header = header
        self.menu = QMenu(MENU_TITLE, parent)
        self.menu.setObjectName("columnChooserMenu")
        self.menu.setToolTipsVisible(True)
        self.menu.aboutToShow.connect(self.rebuild)  # the check marks follow a restored or dragged header
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._popup)
        self.rebuild()

    def rebuild(self) -> None:
        """One checkable entry per column, in the order the table shows them."""
        self.menu.clear()
        header = self.header
        for visual in range(header.count()):
            column = Column(header.logicalIndex(visual))
            # "P&L", "Fees & rollovers": a lone & in an action's text would mark a shortcut letter, not show.
            action = QAction(HEADERS[column].replace("&", "&&"), self.menu)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.setData(int(column))
            if column in ALWAYS_SHOWN:
                action.setEnabled(False)
                action.setToolTip("Always shown: it names the row")
            action.toggled.connect(lambda shown, c=column: self.set_shown(c, shown))
            self.menu.addAction(action)
        self.menu.addSeparator()
        show_all = self.menu.addAction(SHOW_ALL)
        show_all.setEnabled(bool(self.hidden()))
        show_all.triggered.connect(self.show_all)

    def set_shown(self, column: Column, shown: bool) -> None:
        if column in ALWAYS_SHOWN and not shown:
            return
        self.header.setSectionHidden(column, not shown)
        if shown and self.header.sectionSize(column) == 0:
            self.header.resizeSection(column, self.header.defaultSectionSize())

    def show_all(self) -> None:
        for column in self.hidden():
            self.set_shown(column, True)

    def hidden(self) -> list[Column]:
        return [Column(c) for c in range(self.header.count()) if self.header.isSectionHidden(c)]

    def _popup(self, pos: QPoint) -> None:
        self.menu.popup(self.header.viewport().mapToGlobal(pos))
