"""Table model of open positions: one row per PositionFigures, ranged dataChanged on price ticks."""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from kraken_monitor.domain.models import PositionFigures, Risk, Snapshot
from kraken_monitor.ui import formatting as fmt
from kraken_monitor.ui import theme

FIRST_LIQUIDATED_TIP = "Kraken liquidates this position first (oldest, FIFO)"
FIRST_BADGE = "1st"


class Column(enum.IntEnum):
    PAIR = 0
    SIDE = 1
    SIZE = 2
    ENTRY = 3
    PRICE = 4
    LEVERAGE = 5
    COST = 6
    USED_MARGIN = 7
    PNL = 8
    PNL_PCT = 9
    FEES = 10
    NET_PNL = 11
    BREAK_EVEN = 12
    MARGIN_CALL_PRICE = 13
    LIQUIDATION_PRICE = 14
    DISTANCE_TO_LIQUIDATION = 15
    NEXT_ROLLOVER = 16
    RISK = 17


HEADERS = {
    Column.PAIR: "Pair",
    Column.SIDE: "Side",
    Column.SIZE: "Size",
    Column.ENTRY: "Entry",
    Column.PRICE: "Price",
    Column.LEVERAGE: "Leverage",
    Column.COST: "Cost",
    Column.USED_MARGIN: "Used margin",
    Column.PNL: "P&L",
    Column.PNL_PCT: "P&L %",
    Column.FEES: "Fees & rollovers",
    Column.NET_PNL: "Net P&L",
    Column.BREAK_EVEN: "Break-even",
    Column.MARGIN_CALL_PRICE: "Margin call at",
    Column.LIQUIDATION_PRICE: "Liquidation at",
    Column.DISTANCE_TO_LIQUIDATION: "To liquidation",
    Column.NEXT_ROLLOVER: "Next rollover",
    Column.RISK: "Risk",
}

HEADER_TIPS = {
    Column.PNL: "Unrealised P&L as Kraken reports it: excludes trading, opening and rollover fees",
    Column.PNL_PCT: "Unrealised P&L in % of the margin used at opening",
    Column.FEES: "Trading fee + margin opening fee + rollovers charged so far",
    Column.NET_PNL: "P&L after fees and rollovers (closing fee not included)",
    Column.MARGIN_CALL_PRICE: "Price of this pair at which the margin call level is reached (other pairs constant)",
    Column.LIQUIDATION_PRICE: "Price of this pair at which Kraken liquidates (other pairs constant)",
    Column.DISTANCE_TO_LIQUIDATION: "Room left before the liquidation price, % of the current price",
}

_NUMERIC = frozenset(Column) - {Column.PAIR, Column.SIDE, Column.RISK}
_ROLES = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.BackgroundRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.ToolTipRole,
)
ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # position id of a row, for selection bookkeeping
_USED_ROLES = frozenset(
    int(r) for r in (*_ROLES, Qt.ItemDataRole.UserRole, Qt.ItemDataRole.TextAlignmentRole, ID_ROLE)
)
_COLUMNS = tuple(Column)  # index -> Column without Enum.__call__ (data() runs ~800 times per paint)
_NCOLS = len(_COLUMNS)  # len(Enum) is a Python-level call; Qt asks columnCount ~1,000 times per paint
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


class PositionsModel(QAbstractTableModel):
    """Holds the latest snapshot's positions; GUI thread only (fed from `snapshot_ready`)."""

    ID_ROLE = ID_ROLE

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: tuple[PositionFigures, ...] = ()
        self._snapshot: Snapshot | None = None
        self._brushes: dict[tuple[int, Risk], Any] = {}  # (role, risk) -> brush, rebuilt per snapshot

    # --- feeding -------------------------------------------------------------------------------
    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Price tick (same ids, same order): one ranged dataChanged; row change: remove/insert or reset."""
        self._brushes = {}  # the theme may have changed; brushes are cheap to rebuild once per tick
        old_ids = [pf.position.id for pf in self._rows]
        new_rows = tuple(snapshot.positions)
        new_ids = [pf.position.id for pf in new_rows]
        if old_ids == new_ids:
            self._snapshot = snapshot
            self._rows = new_rows
            if new_rows:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(new_rows) - 1, len(Column) - 1), list(_ROLES)
                )
            return
        new_set = set(new_ids)
        kept = [i for i in old_ids if i in new_set]
        if kept == new_ids[: len(kept)] and len(set(new_ids)) == len(new_ids):
            # Positions closed and/or opened (appended): remove and insert so selection of others survives.
            self._remove_missing(set(new_ids))
            self._snapshot = snapshot
            added = new_rows[len(kept) :]
            self._rows = new_rows[: len(kept)]
            if kept:
                self.dataChanged.emit(self.index(0, 0), self.index(len(kept) - 1, len(Column) - 1), list(_ROLES))
            if added:
                self.beginInsertRows(QModelIndex(), len(kept), len(new_rows) - 1)
                self._rows = new_rows
                self.endInsertRows()
            return
        self.beginResetModel()
        self._snapshot = snapshot
        self._rows = new_rows
        self.endResetModel()

    def _remove_missing(self, keep: set[str]) -> None:
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].position.id not in keep:
                self.beginRemoveRows(QModelIndex(), row, row)
                self._rows = self._rows[:row] + self._rows[row + 1 :]
                self.endRemoveRows()

    # --- queries -------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    def position_at(self, row: int) -> PositionFigures | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, position_id: str) -> int:
        for row, pf in enumerate(self._rows):
            if pf.position.id == position_id:
                return row
        return -1

    def is_stale(self) -> bool:
        return self._snapshot is None or self._snapshot.stale

    def row_risk(self, pf: PositionFigures) -> Risk:
        # Stale data: the risk is unknown, whatever the last computation said.
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
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(Column(section))
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _USED_ROLES or not index.isValid():
            return None  # cheap early exit: views ask for many roles we never set
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= col < _NCOLS):
            return None
        pf = self._rows[row]
        column = _COLUMNS[col]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(pf, column)
        if role == Qt.ItemDataRole.UserRole:
            return self._sort_value(pf, column)
        if role == Qt.ItemDataRole.BackgroundRole or role == Qt.ItemDataRole.ForegroundRole:
            return self._brush(role, self.row_risk(pf))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(pf, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column in _NUMERIC else _LEFT
        if role == self.ID_ROLE:
            return pf.position.id
        return None

    def _brush(self, role: int, risk: Risk) -> Any:
        key = (int(role), risk)
        if key not in self._brushes:
            background = role == Qt.ItemDataRole.BackgroundRole
            self._brushes[key] = theme.risk_background(risk) if background else theme.risk_foreground(risk)
        return self._brushes[key]

    def _display(self, pf: PositionFigures, column: Column) -> str:
        p = pf.position
        rules = self._snapshot.pair_rules.get(p.pair) if self._snapshot else None
        if column is Column.PAIR:
            text = p.pair + (" \u00b7 isolated" if p.margin_mode.value == "isolated" else "")
            return f"{text}  [{FIRST_BADGE}]" if pf.liquidation_order == 1 else text
        if column is Column.SIDE:
            return p.side.value
        if column is Column.SIZE:
            return fmt.fmt_volume(pf.remaining_volume, rules)
        if column is Column.ENTRY:
            return fmt.fmt_price(pf.entry_price, rules)
        if column is Column.PRICE:
            return fmt.fmt_price(pf.price, rules)
        if column is Column.LEVERAGE:
            return fmt.fmt_leverage(pf.leverage)
        if column is Column.COST:
            return fmt.fmt_money(p.cost)
        if column is Column.USED_MARGIN:
            return fmt.fmt_money(pf.used_margin)
        if column is Column.PNL:
            return fmt.fmt_money(pf.unrealized_pnl, signed=True)
        if column is Column.PNL_PCT:
            return fmt.fmt_pct(pf.pnl_pct, signed=True)
        if column is Column.FEES:
            return fmt.fmt_money(pf.fees)
        if column is Column.NET_PNL:
            return fmt.fmt_money(pf.net_pnl, signed=True)
        if column is Column.BREAK_EVEN:
            return fmt.fmt_price(pf.break_even_price, rules)
        if column is Column.MARGIN_CALL_PRICE:
            return fmt.fmt_price(pf.margin_call_price, rules)
        if column is Column.LIQUIDATION_PRICE:
            return fmt.fmt_price(pf.liquidation_price, rules)
        if column is Column.DISTANCE_TO_LIQUIDATION:
            return fmt.fmt_pct(pf.distance_to_liquidation_pct)
        if column is Column.NEXT_ROLLOVER:
            now = self._snapshot.as_of if self._snapshot else None
            return fmt.fmt_until(pf.next_rollover, now) if now else fmt.fmt_time(pf.next_rollover)
        return self.row_risk(pf).label  # Column.RISK

    @staticmethod
    def _sort_value(pf: PositionFigures, column: Column) -> Any:
        """Raw value for sorting (Decimal/str/datetime/int); None sorts last in the proxy."""
        p = pf.position
        values: dict[Column, Any] = {
            Column.PAIR: p.pair,
            Column.SIDE: p.side.value,
            Column.SIZE: pf.remaining_volume,
            Column.ENTRY: pf.entry_price,
            Column.PRICE: pf.price,
            Column.LEVERAGE: pf.leverage,
            Column.COST: p.cost,
            Column.USED_MARGIN: pf.used_margin,
            Column.PNL: pf.unrealized_pnl,
            Column.PNL_PCT: pf.pnl_pct,
            Column.FEES: pf.fees,
            Column.NET_PNL: pf.net_pnl,
            Column.BREAK_EVEN: pf.break_even_price,
            Column.MARGIN_CALL_PRICE: pf.margin_call_price,
            Column.LIQUIDATION_PRICE: pf.liquidation_price,
            Column.DISTANCE_TO_LIQUIDATION: pf.distance_to_liquidation_pct,
            Column.NEXT_ROLLOVER: pf.next_rollover,
            Column.RISK: int(pf.risk),
        }
        return values[column]

    def _tooltip(self, pf: PositionFigures, column: Column) -> str | None:
        if column is Column.PAIR and pf.liquidation_order == 1:
            return FIRST_LIQUIDATED_TIP
        if column is Column.RISK and self.is_stale():
            reason = self._snapshot.stale_reason if self._snapshot else ""
            return "Risk unknown: data is stale" + (f" ({reason})" if reason else "")
        if column is Column.NEXT_ROLLOVER and pf.next_rollover is not None:
            return (
                f"{fmt.fmt_datetime(pf.next_rollover)}; projected rollover cost next 24 h: "
                f"{fmt.fmt_money(pf.projected_cost_24h)}"
            )
        if column is Column.PNL and pf.position.exchange_net is not None:
            return f"Kraken reports {fmt.fmt_money(pf.position.exchange_net, signed=True)}"
        if column is Column.DISTANCE_TO_LIQUIDATION and pf.distance_to_margin_call_pct is not None:
            return f"To margin call: {fmt.fmt_pct(pf.distance_to_margin_call_pct)}"
        if column in (Column.PRICE, Column.ENTRY, Column.BREAK_EVEN):
            return HEADERS[column]
        return None
