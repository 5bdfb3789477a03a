"""Table model of open positions: answers data() from its snapshot, ranged dataChanged on ticks, sorts on raw values."""

from __future__ import annotations

from dataclasses import replace
from operator import attrgetter
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.models import PositionFigures, Risk, Snapshot
from kraken_monitor.domain.venue import Venue
from kraken_monitor.text.accounts import account_name
from kraken_monitor.ui import theme
from kraken_monitor.ui.positions_changes import changed_range
from kraken_monitor.ui.positions_columns import (
    HEADER_TIPS,
    SORT_VALUE,
    Column,
    cell_text,
    cell_tooltip,
    header_text,
)
from kraken_monitor.ui.positions_futures import (
    FuturesRow,
    futures_cell_text,
    futures_cell_tooltip,
    futures_rows,
    futures_sort_value,
)

_NUMERIC = frozenset(Column) - {Column.PAIR, Column.SIDE, Column.RISK, Column.PROTECTION, Column.ACCOUNT}
_ROLES = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.BackgroundRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.ToolTipRole,
)
ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # position id of a row, for selection bookkeeping
RISK_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # the risk a row is coloured by (UNKNOWN when stale)
_USED_ROLES = frozenset(
    int(r) for r in (*_ROLES, Qt.ItemDataRole.UserRole, Qt.ItemDataRole.TextAlignmentRole, ID_ROLE, RISK_ROLE)
)
_COLUMNS = tuple(Column)  # index -> Column without Enum.__call__ (data() runs ~800 times per paint)
_NCOLS = len(_COLUMNS)  # len(Enum) is a Python-level call; Qt asks columnCount ~1,000 times per paint
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_ALIGN = tuple(_RIGHT if c in _NUMERIC else _LEFT for c in _COLUMNS)
_DISPLAY, _ALIGNMENT = int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.TextAlignmentRole)
_BACKGROUND, _FOREGROUND = int(Qt.ItemDataRole.BackgroundRole), int(Qt.ItemDataRole.ForegroundRole)
_ID = attrgetter("position.id")
_LOOK_OF_ROLE = {_DISPLAY: 0, _ALIGNMENT: 1, _BACKGROUND: 2, _FOREGROUND: 3}  # role -> index in cell_look()
Row = PositionFigures | FuturesRow  # a spot-margin or a Kraken Futures position (ui/positions_futures.py)


def _quote(pair: str) -> str:
    """The quote currency of a spot pair (BTC/USD) or a futures symbol (BTC/USD:USD)."""
    return pair.partition(":")[0].rpartition("/")[2]

class PositionsModel(QAbstractTableModel):
    """Holds the latest snapshot's positions; GUI thread only (fed from `snapshot_ready`).

    Every monitored account's positions are rows of this one table: the spot-margin snapshot's and the
    futures book's (`set_futures_book`), each named in the Account column; `set_account_filter` shows one
    account's rows only. Each venue's staleness is its own: a stale futures read turns only its rows unknown.

    Sorts itself (no QSortFilterProxyModel: the proxy cost ~1.7 ms per paint): `sort()` reorders on
    the raw values, and price ticks keep the current row order so rows never move under the cursor.
    Painting goes through `multiData` (one Python call per cell instead of seven). Which of the
    changed cells are repainted is the view's business (`ui/changed_cells.py`).
    """

    ID_ROLE = ID_ROLE
    RISK_ROLE = RISK_ROLE

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: tuple[Row, ...] = ()  # in display (sorted) order
        self._snapshot: Snapshot | None = None  # the spot-margin account's
        self._spot_account = ""  # its name in the Account column
        self._futures_rows: tuple[FuturesRow, ...] = ()
        self._futures_reason: str | None = None  # None while the futures book is fresh
        self._account_filter: str | None = None  # None: every account
        self._units: tuple[str | None, str | None] = (None, None)  # (account currency, common quote) in headers
        self._brushes: dict[tuple[int, int], Any] = {}  # (role, risk) -> brush, rebuilt per snapshot
        self._row_index: dict[str, int] | None = None  # position id -> row, built on demand
        # (row, column) -> (text, alignment, background, foreground): made once per snapshot, read by the
        # repainter's comparison and then by the cell's paint (the text was formatted twice per tick).
        self._looks: dict[tuple[int, int], tuple] = {}
        self._sort_column = -1  # -1: the exchange's (FIFO) order
        self._sort_order = Qt.SortOrder.AscendingOrder

    # --- feeding -------------------------------------------------------------------------------
    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Price tick (same ids): one ranged dataChanged, no reordering; row change: remove/insert or reset."""
        self._spot_account = account_name(Venue.SPOT_MARGIN, snapshot.mode)
        self._show(snapshot)

    def set_futures_book(self, book: FuturesBook) -> None:
        """The futures account's read: its rows replace the previous ones; a stale book keeps the rows it
        had (Kraken said nothing new about them) with every risk unknown, and the reason in the tooltip."""
        if book.stale:
            self._futures_reason = book.stale_reason
            rows = tuple(replace(r, risk=Risk.UNKNOWN) for r in self._futures_rows)
        else:
            self._futures_reason = None
            rows = futures_rows(book, stale=False)
        self._futures_rows = rows
        self._show(self._snapshot)

    def clear_futures(self) -> None:
        """The futures account is no longer watched (a settings restart): its rows go."""
        self._futures_rows, self._futures_reason = (), None
        self._show(self._snapshot)

    def set_account_filter(self, account: str | None) -> None:
        """Show only the rows of `account` (an Account column name); None shows every account."""
        if account == self._account_filter:
            return
        self._account_filter = account
        self._show(self._snapshot)

    def account_filter(self) -> str | None:
        return self._account_filter

    def accounts(self) -> tuple[str, ...]:
        """The accounts with rows or a snapshot now, spot first: the filter's choices."""
        names = [self._spot_account] if self._spot_account else []
        names += sorted({r.account for r in self._futures_rows} - set(names))
        return tuple(names)

    def _all_rows(self, snapshot: Snapshot | None) -> tuple[Row, ...]:
        rows: tuple[Row, ...] = (tuple(snapshot.positions) if snapshot is not None else ()) + self._futures_rows
        wanted = self._account_filter
        if wanted is None:
            return rows
        return tuple(r for r in rows if self.account_of(r) == wanted)

    def spot_account(self) -> str:
        return self._spot_account

    def account_of(self, row: Row) -> str:
        return row.account if isinstance(row, FuturesRow) else self._spot_account

    def _show(self, snapshot: Snapshot | None) -> None:
        self._brushes = {}  # the theme may have changed; brushes are cheap to rebuild once per tick
        self._looks = {}
        new_rows = self._all_rows(snapshot)
        account = snapshot.account if snapshot is not None else None
        currency = account.currency if account is not None else self._units[0]
        if currency is None and self._futures_rows:
            currency = self._futures_rows[0].account_currency
        quotes = {_quote(pf.position.pair) for pf in new_rows}
        units = (currency, quotes.pop() if len(quotes) == 1 else None)
        if units != self._units:
            self._units = units
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(Column) - 1)
        if self._sort_column >= 0 and self._rows:
            by_id = {pf.position.id: pf for pf in new_rows}
            if len(by_id) == len(new_rows) == len(self._rows):
                ordered = tuple(by_id.get(pf.position.id) for pf in self._rows)
                if None not in ordered:
                    self._tick(snapshot, ordered)  # same positions: keep the user's sorted order
                    return
        old_ids = list(map(_ID, self._rows))  # attrgetter: C speed, this runs on every tick
        new_ids = list(map(_ID, new_rows))
        if old_ids == new_ids:
            self._tick(snapshot, new_rows)
            return
        new_set = set(new_ids)
        kept = [i for i in old_ids if i in new_set]
        unique = len(new_set) == len(new_ids)
        if unique and (self._sort_column >= 0 or kept == new_ids[: len(kept)]):
            # Positions closed and/or opened: remove and insert so the selection of the others survives.
            self._remove_missing(new_set)
            by_id = {pf.position.id: pf for pf in new_rows}
            kept_set = set(kept)
            self._set_rows(snapshot, tuple(by_id[i] for i in kept))
            if kept:
                self.dataChanged.emit(self.index(0, 0), self.index(len(kept) - 1, _NCOLS - 1), list(_ROLES))
            added = tuple(pf for pf in new_rows if pf.position.id not in kept_set)
            if added:
                self.beginInsertRows(QModelIndex(), len(kept), len(kept) + len(added) - 1)
                self._set_rows(snapshot, self._rows + added)
                self.endInsertRows()
            if self._sort_column >= 0:
                self.sort(self._sort_column, self._sort_order)  # new rows go to their sorted place
            return
        self.beginResetModel()
        self._set_rows(snapshot, new_rows)
        if self._sort_column >= 0:
            self._rows = self._sorted(self._rows, self._sort_column, self._sort_order)
            self._looks = {}
        self.endResetModel()

    def _set_rows(self, snapshot: Snapshot | None, rows: tuple[Row, ...]) -> None:
        self._snapshot = snapshot
        self._rows = rows
        self._looks = {}
        self._row_index = None

    def _tick(self, snapshot: Snapshot | None, rows: tuple[Row, ...]) -> None:
        changed = changed_range(self._snapshot, self._rows, snapshot, rows)
        self._set_rows(snapshot, rows)
        if changed is not None:
            (top, left), (bottom, right) = changed
            self.dataChanged.emit(self.index(top, left), self.index(bottom, right), list(_ROLES))

    def _remove_missing(self, keep: set[str]) -> None:
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].position.id not in keep:
                self.beginRemoveRows(QModelIndex(), row, row)
                self._rows = self._rows[:row] + self._rows[row + 1 :]
                self._looks = {}
                self._row_index = None
                self.endRemoveRows()

    # --- sorting -------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Header click: reorder rows on the raw values (Decimal, not text); -1 restores the FIFO order.

        Persistent indexes (the selection) follow their rows. Ticks do not re-sort; the next click does.
        """
        column = column if 0 <= column < _NCOLS else -1
        self._sort_column, self._sort_order = column, order
        if not self._rows:
            return
        new_rows = self._sorted(self._rows, column, order)
        self.layoutAboutToBeChanged.emit()
        new_row_of = {id(pf): row for row, pf in enumerate(new_rows)}
        old_persistent = self.persistentIndexList()
        new_persistent = []
        for index in old_persistent:
            row = new_row_of[id(self._rows[index.row()])]
            new_persistent.append(self.index(row, index.column()))
        self._rows = new_rows
        self._looks = {}
        self._row_index = None
        self.changePersistentIndexList(old_persistent, new_persistent)
        self.layoutChanged.emit()

    def sort_column(self) -> int:
        return self._sort_column

    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    def _sorted(self, rows: tuple[Row, ...], column: int, order: Qt.SortOrder) -> tuple[Row, ...]:
        if column < 0:  # the exchange's (FIFO) order, spot margin first, then futures as Kraken lists them
            fifo = {pf.position.id: n for n, pf in enumerate(self._all_rows(self._snapshot))}
            return tuple(sorted(rows, key=lambda pf: fifo.get(pf.position.id, len(fifo))))
        value = self._sort_value(column)
        present = [pf for pf in rows if value(pf) is not None]
        missing = [pf for pf in rows if value(pf) is None]  # no value ("–") sorts last either way
        descending = order == Qt.SortOrder.DescendingOrder
        try:
            present.sort(key=value, reverse=descending)
        except TypeError:  # mixed types cannot be ordered: fall back to the text
            present.sort(key=lambda pf: str(value(pf)), reverse=descending)
        return tuple(present + missing)

    def _sort_value(self, column: int):
        """The raw sort value of `column` for a row of either venue."""
        col = _COLUMNS[column]
        if col is Column.ACCOUNT:
            return self.account_of
        spot = SORT_VALUE[column]
        return lambda r: futures_sort_value(r, col) if isinstance(r, FuturesRow) else spot(r)

    # --- queries -------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    def position_at(self, row: int) -> Row | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, position_id: str) -> int:
        if self._row_index is None:
            self._row_index = {pf.position.id: row for row, pf in enumerate(self._rows)}
        return self._row_index.get(position_id, -1)

    def column_texts(self, column: int) -> tuple[str, ...]:
        """What data(DisplayRole) shows in `column`, every row in order, without a QModelIndex per cell."""
        col = _COLUMNS[column]
        return tuple(self._text(pf, col, self.row_risk(pf)) for pf in self._rows)

    def is_stale(self) -> bool:
        return self._snapshot is None or self._snapshot.stale

    def row_risk(self, pf: Row) -> Risk:
        # Stale data: the risk is unknown, whatever the last computation said. A futures row carries its
        # own book's verdict (the spot account's staleness says nothing about it).
        if isinstance(pf, FuturesRow):
            return pf.risk
        return Risk.UNKNOWN if self.is_stale() else Risk(pf.risk)

    # --- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else _NCOLS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return header_text(Column(section), *self._units)
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(Column(section))
        return None

    def cell_look(self, row: int, col: int) -> tuple | None:
        """(text, alignment, background brush or None, foreground brush or None) of a cell; None outside."""
        key = (row, col)
        look = self._looks.get(key)
        if look is None:
            if not (0 <= row < len(self._rows) and 0 <= col < _NCOLS):
                return None
            pf = self._rows[row]
            risk = self.row_risk(pf)
            look = self._looks[key] = (self._text(pf, _COLUMNS[col], risk), _ALIGN[col],
                                       self._brush(_BACKGROUND, risk), self._brush(_FOREGROUND, risk))
        return look

    def multiData(self, index: QModelIndex | QPersistentModelIndex, span) -> None:
        """Qt's delegate's one call per painted cell (7 roles); roles we do not use are cleared."""
        look = self.cell_look(index.row(), index.column())
        if look is None:
            return
        # Every role is set or cleared: the delegate reuses its span, so a skipped role would keep the
        # previous cell's value (e.g. a critical row's red on an ok row).
        for item in span:
            value = _LOOK_OF_ROLE.get(item.role())
            value = None if value is None else look[value]
            if value is None:
                item.clearData()
            else:
                item.setData(value)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _USED_ROLES or not index.isValid():
            return None  # cheap early exit: views ask for many roles we never set
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= col < _NCOLS):
            return None
        if role == _DISPLAY:
            return self.cell_look(row, col)[0]
        pf = self._rows[row]
        if role == Qt.ItemDataRole.UserRole:
            return self._sort_value(col)(pf)
        if role in (_BACKGROUND, _FOREGROUND):
            return self._brush(role, self.row_risk(pf))
        if role == Qt.ItemDataRole.ToolTipRole:
            if isinstance(pf, FuturesRow):
                return futures_cell_tooltip(pf, _COLUMNS[col], self._futures_reason)
            if _COLUMNS[col] is Column.ACCOUNT:
                return HEADER_TIPS[Column.ACCOUNT]
            snapshot = self._snapshot
            return cell_tooltip(pf, _COLUMNS[col], self._stale_reason(), snapshot.as_of if snapshot else None,
                                snapshot.pair_rules.get(pf.position.pair) if snapshot else None)
        if role == _ALIGNMENT:
            return _ALIGN[col]
        if role == ID_ROLE:
            return pf.position.id
        if role == RISK_ROLE:
            return int(self.row_risk(pf))
        return None

    def _brush(self, role: int, risk: Risk) -> Any:
        """One QBrush per (role, risk) per snapshot, shared by every cell of that risk."""
        key = (int(role), int(risk))
        if key not in self._brushes:
            background = key[0] == _BACKGROUND
            self._brushes[key] = theme.risk_background(risk) if background else theme.risk_foreground(risk)
        return self._brushes[key]

    def _text(self, pf: Row, column: Column, risk: Risk) -> str:
        if column is Column.ACCOUNT:
            return self.account_of(pf)
        if isinstance(pf, FuturesRow):
            return futures_cell_text(pf, column, self._units[0])
        snapshot = self._snapshot
        rules = snapshot.pair_rules.get(pf.position.pair) if snapshot else None
        return cell_text(pf, column, rules, snapshot.as_of if snapshot else None, risk)

    def _stale_reason(self) -> str | None:
        if not self.is_stale():
            return None
        return self._snapshot.stale_reason if self._snapshot else ""
