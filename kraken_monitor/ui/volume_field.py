"""A volume entry kept in step with a % of the position: typing either moves the other; 100 % is exactly all of it."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QSpinBox, QWidget

from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.ui.validators import parse_amount, to_input_text


class VolumeField(QWidget):
    """`edit` (the volume, the pair's lot decimals) and `percent` (1-100 % of `remaining`); `changed` on any edit."""

    changed = Signal()

    def __init__(self, remaining: Decimal, decimals: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.remaining, self.decimals = remaining, decimals
        self._syncing = False
        self.edit = QLineEdit()
        self.edit.textEdited.connect(self._on_volume_edited)
        self.edit.textChanged.connect(lambda _t: self.changed.emit())
        self.percent = QSpinBox()
        self.percent.setRange(1, 100)
        self.percent.setSuffix(" %")
        self.percent.valueChanged.connect(self._on_percent_changed)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.percent)

    def set_volume(self, volume: Decimal) -> None:
        self.edit.setText(to_input_text(volume, self.decimals))
        self._on_volume_edited("")

    def set_percent(self, pct: int) -> None:
        self.percent.setValue(pct)
        self._on_percent_changed(pct)

    def _on_percent_changed(self, pct: int) -> None:
        if self._syncing:
            return
        step = Decimal(1).scaleb(-self.decimals)
        # 100 % is exactly everything: never a rounding dust left unprotected (or open).
        volume = self.remaining if pct >= 100 else (self.remaining * pct / 100).quantize(step, rounding=ROUND_DOWN)
        self._syncing = True
        self.edit.setText(to_input_text(volume, self.decimals))
        self._syncing = False

    def _on_volume_edited(self, _text: str) -> None:
        try:
            volume = parse_amount(self.edit.text(), decimals=self.decimals, maximum=None)
        except InvalidAmount:
            return
        if self.remaining > 0:
            self._syncing = True
            self.percent.setValue(min(max(int((volume / self.remaining * 100).to_integral_value()), 1), 100))
            self._syncing = False
