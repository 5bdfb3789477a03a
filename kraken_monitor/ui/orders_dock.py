"""Orders dock: every open order of the accounts (spot margin and Kraken Futures), with modify and a confirmed cancel."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.domain import protection
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.models import FUTURES_KEY_PREFIX, PairRules, Risk, Snapshot
from kraken_monitor.domain.orders import OpenOrder
from kraken_monitor.text import orders as text
from kraken_monitor.ui import theme

_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
ORDER_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # the row's OpenOrder


def snapshot_orders(snapshot: Snapshot | None) -> tuple[OpenOrder, ...]:
    """Attached orders in the positions' order, then the unattached ones (AccountFigures.orders)."""
    if snapshot is None:
        return ()
    attached = tuple(o for pf in snapshot.positions for o in pf.orders)
    return attached + (snapshot.account.orders if snapshot.account is not None else ())


def futures_orders(book: FuturesBook) -> tuple[OpenOrder, ...]:
    """A futures book's orders, attached ones naming their table row ("futures:<Kraken id>"), then the loose ones."""
    attached = tuple(replace(o, position_id=FUTURES_KEY_PREFIX + pf.position.id)
                     for pf in book.positions for o in pf.orders or ())
    return attached + book.orders


class OrdersModel(QAbstractTableModel):
    """One row per open order from the newest snapshot; a tick with the same orders emits dataChanged only."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: tuple[OpenOrder, ...] = ()
        self._snapshot: Snapshot | None = None
        self._prices: dict[str, Decimal] = {}
        self._spot: tuple[OpenOrder, ...] = ()
        self._futures: tuple[OpenOrder, ...] = ()  # Kraken Futures orders, after the spot ones
        self._futures_prices: dict[str, Decimal] = {}
        self._futures_rules: dict[str, PairRules] = {}

    def set_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._spot = snapshot_orders(snapshot)
        self._show()

    def set_futures_book(self, book: FuturesBook) -> None:
        """A fresh futures read's orders; a stale read keeps the last ones (their rows say unknown risk)."""
        if book.stale or book.account is None:
            return
        from kraken_monitor.ui.futures_protect import FuturesDialogSnapshot

        self._futures = futures_orders(book)
        self._futures_prices = {pf.position.pair: pf.mark_price for pf in book.positions}
        self._futures_rules = FuturesDialogSnapshot.of(book).pair_rules
        self._show()

    def is_futures(self, order: OpenOrder) -> bool:
        return any(o is order for o in self._futures)

    def _show(self) -> None:
        rows = self._spot + self._futures
        same = [o.id for o in rows] == [o.id for o in self._rows]
        if not same:
            self.beginResetModel()
        spot_prices = self._snapshot.prices() if self._snapshot is not None else {}
        self._rows, self._prices = rows, {**spot_prices, **self._futures_prices}
        if same:
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(text.ORDER_COLUMNS) - 1))
        else:
            self.endResetModel()

    def order_at(self, row: int) -> OpenOrder | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def orders(self) -> tuple[OpenOrder, ...]:
        return self._rows

    def distance(self, order: OpenOrder) -> Decimal | None:
        price = self._prices.get(order.pair)
        if price is None:
            return None
        return protection.distance_pct(order, protection.trigger_of(order, price), price)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(text.ORDER_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(text.ORDER_COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return text.ORDER_COLUMNS[section][1]
        if role == Qt.ItemDataRole.ToolTipRole and text.ORDER_COLUMNS[section][0] == "distance":
            return text.DISTANCE_TIP
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        order, key = self._rows[index.row()], text.ORDER_COLUMNS[index.column()][0]
        rules = self._futures_rules.get(order.pair) or (self._snapshot.pair_rules.get(order.pair)
                                                        if self._snapshot else None)
        if role == Qt.ItemDataRole.DisplayRole:
            return text.order_cell(order, key, rules, self.distance(order) if key == "distance" else None)
        if role == Qt.ItemDataRole.ToolTipRole:
            return text.order_tip(order, key)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if key in text.ORDER_NUMERIC else _LEFT
        if role == Qt.ItemDataRole.BackgroundRole and self._warn(order, key):
            return theme.risk_background(Risk.WARNING)
        if role == Qt.ItemDataRole.ForegroundRole and self._warn(order, key):
            return theme.risk_foreground(Risk.WARNING)
        if role == ORDER_ROLE:
            return order
        return None

    @staticmethod
    def _warn(order: OpenOrder, key: str) -> bool:
        """Cells that need a second look: an order protecting nothing, or one that may not be reduce-only."""
        if key == "position":
            return order.position_id is None
        if key == "reduce_only":
            return not order.reduce_only or order.reduce_only_inferred
        return False


class OrdersDock(QDockWidget):
    """GUI thread. `cancel_requested(OpenOrder)` / `modify_requested(OpenOrder)`: the actions controller
    confirms (and refuses while live trading is off); the dock itself sends nothing."""

    cancel_requested = Signal(object)
    modify_requested = Signal(object)
    futures_cancel_requested = Signal(object)  # a Kraken Futures order: the futures account's controller confirms
    futures_modify_requested = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(text.DOCK_TITLE, parent)
        self.setObjectName("ordersDock")
        self.model = OrdersModel(self)
        self.view = QTableView()
        self.view.setObjectName("ordersTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.doubleClicked.connect(lambda _index: self._emit(self.modify_requested))
        self.empty_label = QLabel(text.DOCK_EMPTY)
        self.empty_label.setEnabled(False)
        self.modify_button = QPushButton(text.MODIFY_BUTTON)
        self.modify_button.setToolTip(text.MODIFY_TIP)
        self.modify_button.clicked.connect(lambda: self._emit(self.modify_requested))
        self.cancel_button = QPushButton(text.CANCEL_BUTTON)
        self.cancel_button.setToolTip(text.CANCEL_TIP)
        self.cancel_button.clicked.connect(lambda: self._emit(self.cancel_requested))
        self.cancel_action = QAction(text.CANCEL_BUTTON, self.view)
        self.cancel_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.cancel_action.triggered.connect(lambda: self._emit(self.cancel_requested))
        self.view.addAction(self.cancel_action)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        buttons = QHBoxLayout()
        buttons.addWidget(self.empty_label)
        buttons.addStretch(1)
        buttons.addWidget(self.modify_button)
        buttons.addWidget(self.cancel_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self._update_buttons()

    def set_snapshot(self, snapshot: Snapshot) -> None:
        self._update(lambda: self.model.set_snapshot(snapshot))

    def set_futures_book(self, book: FuturesBook) -> None:
        self._update(lambda: self.model.set_futures_book(book))

    def _update(self, change) -> None:
        selected = self.selected_order()
        fresh = self.model.rowCount() == 0
        change()
        if selected is not None:
            self.select_order(selected.id)
        if fresh and self.model.rowCount():
            self.view.resizeColumnsToContents()
        self._update_buttons()

    def selected_order(self) -> OpenOrder | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.order_at(rows[0].row()) if rows else None

    def select_order(self, order_id: str) -> bool:
        for row, order in enumerate(self.model.orders()):
            if order.id == order_id:
                self.view.selectRow(row)
                return True
        return False

    def _emit(self, signal) -> None:
        order = self.selected_order()
        if order is not None and (signal is not self.modify_requested or order.position_id is not None):
            if self.model.is_futures(order):  # the futures account's poller acts on it, not the spot worker
                signal = self.futures_modify_requested if signal is self.modify_requested \
                    else self.futures_cancel_requested
            signal.emit(order)

    def _update_buttons(self, *_args) -> None:
        order = self.selected_order()
        self.cancel_button.setEnabled(order is not None)
        self.cancel_action.setEnabled(order is not None)
        self.modify_button.setEnabled(order is not None and order.position_id is not None)
        self.empty_label.setVisible(self.model.rowCount() == 0)
