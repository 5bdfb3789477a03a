"""A table's right-click menu: built for the row under the click by its owner, popped up there, deleted on close."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QMenu


def install_row_menu(table: QAbstractItemView, menu_at: Callable[[QPoint], QMenu | None]) -> None:
    """GUI thread. `menu_at(pos)` builds the menu for the row at `pos` (None off the rows: nothing pops up)."""

    def popup(pos: QPoint) -> None:
        menu = menu_at(pos)
        if menu is not None:
            menu.aboutToHide.connect(menu.deleteLater)
            menu.popup(table.viewport().mapToGlobal(pos))

    table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    table.customContextMenuRequested.connect(popup)
