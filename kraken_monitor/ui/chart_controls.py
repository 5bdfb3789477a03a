"""The chart's control bar: pair picker, candle timeframe, range presets, line/candle toggle, crosshair readout."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from kraken_monitor.domain.candles import TIMEFRAMES
from kraken_monitor.text import chart as text


class ChartControls(QWidget):
    """Emits what the trader chose; holds no chart state of its own beyond the widgets."""

    pair_chosen = Signal(str)
    timeframe_chosen = Signal(str)
    range_chosen = Signal(int)  # seconds shown
    candles_toggled = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("chartControls")
        self.extra_pairs: list[str] = []  # Kraken Futures contracts (ui/chart_futures.py), listed after the spot pairs
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.pair_box = QComboBox()
        self.pair_box.setObjectName("chartPair")
        self.pair_box.setToolTip(text.PAIR_TIP)
        self.pair_box.setMinimumContentsLength(12)  # "BTC/USD:USD" (a futures contract) in full
        self.timeframe_box = QComboBox()
        self.timeframe_box.setObjectName("chartTimeframe")
        self.timeframe_box.setToolTip(text.TIMEFRAME_TIP)
        self.timeframe_box.addItems(list(TIMEFRAMES))
        self.timeframe_box.setCurrentText("1h")
        layout.addWidget(self.pair_box)
        layout.addWidget(self.timeframe_box)
        self.range_group = QButtonGroup(self)
        self.range_group.setExclusive(True)
        self.range_buttons: dict[int, QToolButton] = {}
        for label, seconds in text.RANGES:
            button = QToolButton()
            button.setText(label)
            button.setCheckable(True)
            button.setToolTip(text.RANGE_TIP.format(label=label))
            self.range_group.addButton(button, seconds)
            self.range_buttons[seconds] = button
            layout.addWidget(button)
        self.candles_button = QToolButton()
        self.candles_button.setText(text.CANDLES)
        self.candles_button.setCheckable(True)
        self.candles_button.setChecked(True)
        self.candles_button.setToolTip(text.CANDLES_TIP)
        layout.addWidget(self.candles_button)
        self.readout = QLabel("")
        self.readout.setObjectName("chartReadout")
        layout.addWidget(self.readout, 1)
        self.pair_box.currentTextChanged.connect(lambda pair: pair and self.pair_chosen.emit(pair))
        self.timeframe_box.currentTextChanged.connect(self.timeframe_chosen.emit)
        self.range_group.idClicked.connect(self._range_clicked)
        self.candles_button.toggled.connect(self.candles_toggled.emit)

    def _range_clicked(self, seconds: int) -> None:
        # A preset also picks the timeframe that suits it (a month of 1-minute candles is not readable).
        self.timeframe_box.setCurrentText(text.RANGE_TIMEFRAME[seconds])
        self.range_chosen.emit(seconds)

    def set_pairs(self, pairs: list[str], current: str | None) -> None:
        """Every held and watched pair; the shown one stays selected (no signal for a refill)."""
        pairs = list(pairs) + [p for p in self.extra_pairs if p not in pairs]  # the futures contracts, after spot
        items = [self.pair_box.itemText(i) for i in range(self.pair_box.count())]
        if items != pairs:
            self.pair_box.blockSignals(True)
            self.pair_box.clear()
            self.pair_box.addItems(pairs)
            self.pair_box.blockSignals(False)
        if current is not None and self.pair_box.currentText() != current:
            self.pair_box.blockSignals(True)
            self.pair_box.setCurrentText(current)
            self.pair_box.blockSignals(False)

    @property
    def timeframe(self) -> str:
        return self.timeframe_box.currentText()
