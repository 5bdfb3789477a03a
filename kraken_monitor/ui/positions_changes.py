"""Which cells a new snapshot changed: the smallest rectangle of the positions table whose inputs moved."""

from __future__ import annotations

from operator import attrgetter, ne

from kraken_monitor.domain.models import Snapshot
from kraken_monitor.ui.positions_columns import FIELDS, INPUTS, Column

_NCOLS = len(Column)


def changed_range(old_snap: Snapshot | None, old, snap: Snapshot | None, new) -> tuple | None:
    """Smallest (row, column) rectangle holding every cell whose inputs changed; None: nothing did."""
    if not new:
        return None
    if (old_snap is None or snap is None or old_snap.stale != snap.stale or old_snap.mode != snap.mode
            or old_snap.pair_rules != snap.pair_rules):
        return (0, 0), (len(new) - 1, _NCOLS - 1)  # precision, account or "unknown" risk: every cell
    clock = old_snap.as_of != snap.as_of  # "in 25 min" counts down with the snapshot's clock

    def moved(col: int) -> bool:
        get = INPUTS[col]
        return any(map(ne, map(get, old), map(get, new)))  # stops at the first changed row; no lists built

    # Only the outermost changed columns matter for the rectangle: scan in from both sides.
    left = next((c for c in range(_NCOLS) if moved(c)), None)
    right = next((c for c in range(_NCOLS - 1, (left or 0) - 1, -1) if moved(c)), left)
    if right is not None and left <= Column.RISK <= right and (
            Column.RISK in (left, right) or moved(Column.RISK)):
        # A new risk recolours the whole row: every column, the order and Account columns after Risk too.
        left, right = 0, _NCOLS - 1
    if clock:
        left = Column.NEXT_ROLLOVER if left is None else min(left, Column.NEXT_ROLLOVER)
        right = max(right or 0, Column.NEXT_ROLLOVER)
        return (0, left), (len(new) - 1, right)
    if left is None:
        return None
    get = attrgetter(*(f for c in range(left, right + 1) for f in FIELDS[c]))
    pairs = list(zip(map(get, old), map(get, new), strict=True))
    top = next(i for i, (a, b) in enumerate(pairs) if a != b)
    bottom = next(i for i in range(len(pairs) - 1, -1, -1) if pairs[i][0] != pairs[i][1])
    return (top, left), (bottom, right)
