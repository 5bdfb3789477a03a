"""The main window's menu bar, toolbar and the positions table's context menu, from its actions."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QToolBar

from kraken_monitor.ui.column_chooser import ColumnChooser


def build(w: Any) -> None:
    """Lay out the actions `w` (a MainWindow) made; the About action is made and connected here."""
    menu = w.menuBar()
    file_menu = menu.addMenu("&File")
    file_menu.addActions([w.action_refresh, w.action_export_history, w.action_settings])
    file_menu.addSeparator()
    file_menu.addAction(w.action_quit)
    pos_menu = menu.addMenu("&Position")
    pos_menu.addActions([w.action_add_margin, w.action_add_collateral, w.action_close_position, w.action_settle,
                         w.action_protect])
    pos_menu.addSeparator()
    pos_menu.addActions([w.action_change_leverage, w.action_switch_margin_mode, w.action_transfer_futures])
    view_menu = menu.addMenu("&View")
    view_menu.addActions([w.action_show_alerts, w.action_show_history, w.action_show_orders,
                          w.action_show_futures, w.action_fit_columns])
    w.column_chooser = ColumnChooser(w.positions_view.horizontalHeader(), w)  # also the header's right-click
    view_menu.addMenu(w.column_chooser.menu)
    view_menu.addSeparator()
    view_menu.addActions([w.action_replay, w.action_back_to_live])
    w.help_menu = menu.addMenu("&Help")
    w.action_about = w._action("About Kraken Monitor", None, "Version, licence and data folder")
    w.action_about.setMenuRole(QAction.MenuRole.AboutRole)
    w.action_about.triggered.connect(w._on_about_triggered)
    w.help_menu.addAction(w.action_about)

    w.toolbar = QToolBar("Main toolbar")
    w.toolbar.setObjectName("mainToolbar")
    w.toolbar.setMovable(False)
    w.toolbar.addActions([w.action_refresh, w.action_add_margin, w.action_add_collateral, w.action_close_position,
                          w.action_protect, w.action_change_leverage])
    w.toolbar.addSeparator()
    w.toolbar.addAction(w.action_settings)
    w.toolbar.addSeparator()
    w.toolbar.addWidget(w.account_filter)  # which account's rows the positions table shows
    w.addToolBar(Qt.ToolBarArea.TopToolBarArea, w.toolbar)
    w.positions_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # right-click a row
    w.positions_view.addActions([w.action_protect, w.action_close_position, w.action_add_margin,
                                 w.action_change_leverage, w.action_switch_margin_mode])
