"""What a what-if dialog says about its data: "as of HH:MM:SS", stale data, and how far the market moved since it opened."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kraken_monitor.domain.models import Snapshot
from kraken_monitor.text import numbers as fmt

MOVE_WARNING_PCT = Decimal(1)  # a preview computed at open is misleading after a move this large


def largest_move(opened: dict[str, Decimal], now: dict[str, Decimal]) -> tuple[str, Decimal] | None:
    """(pair, signed % move) of the pair that moved most since `opened`, or None without a common price."""
    moves = [
        (pair, (now[pair] - then) / then * 100)
        for pair, then in opened.items()
        if pair in now and then > 0
    ]
    return max(moves, key=lambda m: abs(m[1]), default=None)


class PreviewStatus(QWidget):
    """Two lines under a preview: when its figures are from, and a warning when they moved or are stale."""

    def __init__(self, snapshot: Snapshot, pairs: Iterable[str], parent: QWidget | None = None):
        super().__init__(parent)
        prices = snapshot.prices()
        self.pairs = tuple(pairs)
        self.opened = {pair: prices[pair] for pair in self.pairs if pair in prices}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.as_of_label = QLabel()
        self.as_of_label.setObjectName("previewAsOf")
        self.warning_label = QLabel()
        self.warning_label.setObjectName("previewWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #ef6c00; font-weight: bold;")
        layout.addWidget(self.as_of_label)
        layout.addWidget(self.warning_label)
        self.update_from(snapshot)

    def update_from(self, snapshot: Snapshot) -> None:
        when = snapshot.as_of.astimezone().strftime("%H:%M:%S")
        self.as_of_label.setText(f"Preview as of {when}; it follows every price update.")
        self.warning_label.setText(self.warning(snapshot))
        self.warning_label.setVisible(bool(self.warning_label.text()))

    def warning(self, snapshot: Snapshot) -> str:
        if snapshot.stale:
            reason = f": {snapshot.stale_reason}" if snapshot.stale_reason else ""
            return f"Data is stale{reason}. This preview may not match the market."
        move = largest_move(self.opened, snapshot.prices())
        if move is None or abs(move[1]) <= MOVE_WARNING_PCT:
            return ""
        pair, pct = move
        way = "up" if pct > 0 else "down"
        return (
            f"The market moved: {pair} is {way} {fmt.fmt_pct(abs(pct), places=1)} since this window opened. "
            "Check the figures again before you confirm."
        )
