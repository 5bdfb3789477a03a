"""The Kraken Futures account in the window: its account bar, its positions (with an account column), Change leverage."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
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

from kraken_monitor.domain.futures import FuturesBook, FuturesPositionFigures
from kraken_monitor.domain.models import Risk
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui import theme

COLUMNS = ("Account", "Pair", "Side", "Margin", "Size", "Entry", "Mark", "Leverage", "P&L", "Funding",
           "Net P&L", "Liq. price", "Distance", "Risk")


def _cell(book: FuturesBook, pf: FuturesPositionFigures, column: int) -> tuple[str, Any]:
    """(text, sort key) of one cell."""
    p = pf.position
    estimate = " (est.)" if pf.liquidation_price_source == "estimate" and pf.liquidation_price is not None else ""
    cells: tuple[tuple[str, Any], ...] = (
        (f"futures {book.mode}", f"futures {book.mode}"), (p.pair, p.pair), (p.side.value, p.side.value),
        (p.margin_mode.value, p.margin_mode.value), (fmt.fmt_plain(p.volume, 4), p.volume),
        (fmt.fmt_money(p.entry_price), p.entry_price), (fmt.fmt_money(pf.mark_price), pf.mark_price),
        (fmt.fmt_leverage(p.leverage) if p.leverage is not None else "cross", p.leverage or Decimal(0)),
        (fmt.fmt_money(pf.unrealized_pnl, signed=True), pf.unrealized_pnl),
        (fmt.fmt_money(p.unrealized_funding, signed=True), p.unrealized_funding),
        (fmt.fmt_money(pf.net_pnl, signed=True), pf.net_pnl),
        (fmt.fmt_money(pf.liquidation_price) + estimate, pf.liquidation_price or Decimal(0)),
        (fmt.fmt_pct(pf.distance_to_liquidation_pct), pf.distance_to_liquidation_pct or Decimal(10**9)),
        (pf.risk.label, int(pf.risk)),
    )
    return cells[column]


class FuturesPositionsModel(QAbstractTableModel):
    """Rows of one futures book; a stale book keeps its rows but shows every risk as unknown."""

    SORT_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.book: FuturesBook | None = None
        self.rows: tuple[FuturesPositionFigures, ...] = ()
        self.stale = False

    def set_book(self, book: FuturesBook) -> None:
        self.beginResetModel()
        self.book = book if not book.stale or self.book is None else self.book
        if not book.stale:
            self.rows = book.positions
        self.stale = book.stale
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.book is None:
            return None
        pf = self.rows[index.row()]
        risk = Risk.UNKNOWN if self.stale else pf.risk
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == len(COLUMNS) - 1:
                return risk.label
            return _cell(self.book, pf, index.column())[0]
        if role == self.SORT_ROLE:
            return _cell(self.book, pf, index.column())[1]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            return theme.risk_background(risk)
        if role == Qt.ItemDataRole.ForegroundRole:
            return theme.risk_foreground(risk)
        return None

    def position_at(self, row: int) -> FuturesPositionFigures | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None


class FuturesPanel(QWidget):
    """Account line + positions table; `change_leverage_requested(pair)` when the trader asks (Ctrl+Shift+L)."""

    change_leverage_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("futuresPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        self.badge = QLabel("FUTURES")
        self.badge.setObjectName("futuresBadge")
        self.badge.setStyleSheet("font-weight: bold; padding: 2px 6px;")
        self.figures_label = QLabel("waiting for the first read")
        self.level_label = QLabel()
        self.level_label.setStyleSheet("font-weight: bold; padding: 2px 6px;")
        self.status_label = QLabel()
        self.leverage_button = QPushButton("Change leverage…")
        self.leverage_button.setToolTip("Isolated: lower leverage adds margin, higher releases it; cross: make it "
                                        "isolated, or back (Ctrl+Shift+L)")
        self.leverage_button.clicked.connect(self._ask_change)
        # Two lines, so that a 1024 px laptop window still fits: level and actions, then Kraken's figures.
        for widget in (self.badge, self.level_label):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (self.status_label, self.leverage_button):
            bar.addWidget(widget)
        layout.addLayout(bar)
        self.figures_label.setWordWrap(True)
        layout.addWidget(self.figures_label)
        self.outcome_label = QLabel()
        self.outcome_label.setWordWrap(True)
        self.outcome_label.setVisible(False)  # only while there is an answer to show
        layout.addWidget(self.outcome_label)
        self.model = FuturesPositionsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(FuturesPositionsModel.SORT_ROLE)
        self.proxy.setFilterKeyColumn(0)  # filter by account
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # a handful of rows: cheap
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._update_button)
        layout.addWidget(self.table)
        QShortcut(QKeySequence("Ctrl+Shift+L"), self, activated=self._ask_change)
        self._update_button()

    def set_book(self, book: FuturesBook) -> None:
        selected = self.selected()
        self.model.set_book(book)
        shown = self.model.book
        self.badge.setText(f"FUTURES · {book.mode.upper()}")
        if book.stale:
            self.level_label.setText("RISK UNKNOWN")
            self.level_label.setStyleSheet(f"font-weight: bold; padding: 2px 6px; {self._colors(Risk.UNKNOWN)}")
            self.status_label.setText(f"stale: {book.stale_reason}")
        elif shown is not None and shown.account is not None:
            a, f = shown.account, shown.account.flex
            self.figures_label.setText(
                f"margin equity {fmt.fmt_money(f.margin_equity, f.currency)} · maintenance "
                f"{fmt.fmt_money(f.maintenance_margin, f.currency)} · initial {fmt.fmt_money(f.initial_margin)} · "
                f"available {fmt.fmt_money(f.available_margin)} · portfolio {fmt.fmt_money(f.portfolio_value)}")
            self.level_label.setText(f"margin level {fmt.fmt_level(a.margin_level)} · {a.risk.label}")
            self.level_label.setToolTip("Margin equity / maintenance margin; Kraken Futures liquidates at 100 %.")
            self.level_label.setStyleSheet(f"font-weight: bold; padding: 2px 6px; {self._colors(a.risk)}")
            self.status_label.setText(f"as of {fmt.fmt_time(book.as_of)}")
        if selected is not None:
            for row in range(self.proxy.rowCount()):
                pf = self.model.position_at(self.proxy.mapToSource(self.proxy.index(row, 0)).row())
                if pf is not None and pf.position.id == selected.position.id:
                    self.table.selectRow(row)
        self._update_button()

    @staticmethod
    def _colors(risk: Risk) -> str:
        background, foreground = theme.risk_colors(risk)
        parts = [f"background: {background.name()};" if background else "",
                 f"color: {foreground.name()};" if foreground else ""]
        return " ".join(parts)

    def selected(self) -> FuturesPositionFigures | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return self.model.position_at(self.proxy.mapToSource(rows[0]).row())

    def _update_button(self, *_: object) -> None:
        pf = self.selected()
        self.leverage_button.setEnabled(pf is not None and not self.model.stale)

    def show_not_watched(self, reason: str) -> None:
        """Live without a futures key: say plainly that this account is not being watched, and why."""
        self.level_label.setText("NOT WATCHED")
        self.level_label.setStyleSheet(f"font-weight: bold; padding: 2px 6px; {self._colors(Risk.UNKNOWN)}")
        self.figures_label.setText(f"{reason} Futures positions, if you hold any, are not monitored.")
        self.leverage_button.setEnabled(False)

    def show_outcome(self, text: str, ok: bool) -> None:
        """Kraken's answer to a leverage change, in the account line until the next one."""
        self.outcome_label.setText(text)
        self.outcome_label.setVisible(bool(text))
        self.outcome_label.setStyleSheet("" if ok else "color: #c62828; font-weight: bold;")

    def _ask_change(self) -> None:
        pf = self.selected()
        if pf is not None and self.leverage_button.isEnabled():
            self.change_leverage_requested.emit(pf.position.id)


class FuturesDock(QDockWidget):
    """The futures account beside the spot-margin one (issue 15): a dock, so it can be moved or hidden."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Kraken Futures", parent)
        self.setObjectName("futuresDock")
        self.panel = FuturesPanel(self)
        self.setWidget(self.panel)
