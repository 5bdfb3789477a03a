"""Change-leverage dialog for an isolated Kraken Futures position: lower adds margin, higher releases it."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.futures import FlexAccount, FuturesPositionFigures
from kraken_monitor.domain.futures_liquidation import (
    FuturesContract,
    LeveragePreview,
    preview_leverage_change,
)
from kraken_monitor.domain.models import MarginMode
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.futures import (
    CHANGE_LEVERAGE_INTRO,
    change_leverage_title,
    refusal_message,
)
from kraken_monitor.ui.dialog_footer import DialogFooter
from kraken_monitor.ui.validators import parse_amount, to_input_text

LEVERAGE_DECIMALS = 2


class ChangeLeverageDialog(QDialog):
    """Previews Kraken's answer as you type: new allocated margin, liquidation price, available margin.

    OK stays disabled, with Kraken's reason shown, for what Kraken would refuse (would cause liquidation,
    insufficient margin, above the tier's maximum). Nothing is sent from here: the caller sends the PUT.
    """

    def __init__(self, figures: FuturesPositionFigures, contract: FuturesContract, flex: FlexAccount,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figures, self.contract, self.flex = figures, contract, flex
        self.preview: LeveragePreview | None = None
        self.back_to_cross = False  # the trader chose "back to cross margin" instead of a leverage
        p = figures.position
        self.setWindowTitle(change_leverage_title(p.pair, p.margin_mode is MarginMode.ISOLATED))
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        intro = QLabel(CHANGE_LEVERAGE_INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        current = fmt.fmt_leverage(p.leverage) if p.leverage is not None else "cross"
        what = QLabel(f"{p.side.value} {fmt.fmt_plain(p.volume, 4)} {p.pair} from "
                      f"{fmt.fmt_money(p.entry_price, 'USD')}, mark {fmt.fmt_money(figures.mark_price, 'USD')}, "
                      f"now {current}")
        what.setWordWrap(True)
        form.addRow("Position:", what)
        self.leverage_edit = QLineEdit()
        self.leverage_edit.setPlaceholderText(f"e.g. 3 (at most {fmt.fmt_leverage(self._maximum())})")
        if p.leverage is not None:
            self.leverage_edit.setText(to_input_text(p.leverage, LEVERAGE_DECIMALS))
        self.leverage_edit.textChanged.connect(self._refresh)
        form.addRow("New leverage (x):", self.leverage_edit)
        self.allocated_label, self.change_label = QLabel(), QLabel()
        self.liquidation_label, self.available_label = QLabel(), QLabel()
        form.addRow("Allocated margin:", self.allocated_label)
        form.addRow("Margin moved:", self.change_label)
        form.addRow("Liquidation price (estimate):", self.liquidation_label)
        form.addRow("Available margin:", self.available_label)
        self.cross_button = QPushButton("Back to cross margin")
        self.cross_button.setToolTip("Kraken moves the position back into the cross pool (it may refuse).")
        self.cross_button.clicked.connect(self._choose_cross)
        if p.margin_mode is MarginMode.ISOLATED:
            form.addRow("Or:", self.cross_button)
        layout.addLayout(form)
        self.footer = DialogFooter(self, layout, "Change leverage")
        self.ok_button = self.footer.ok_button
        self._refresh()

    def _maximum(self) -> Decimal:
        p = self.figures.position
        return self.contract.max_leverage(p.volume * self.figures.mark_price)

    def _current_allocated(self) -> Decimal:
        return self.figures.allocated_margin or Decimal(0)

    def validate(self) -> tuple[LeveragePreview | None, str]:
        p = self.figures.position
        try:
            value = parse_amount(self.leverage_edit.text(), decimals=LEVERAGE_DECIMALS, maximum=None, unit="x")
        except InvalidAmount as err:
            return None, str(err)
        preview = preview_leverage_change(p.side, p.volume, p.entry_price, self.figures.mark_price,
                                          self._current_allocated(), value, self.flex.available_margin,
                                          self.contract)
        if p.leverage is not None and value == p.leverage:
            return preview, "That is the position's leverage now."
        return preview, refusal_message(preview) or ""

    def _refresh(self) -> None:
        preview, reason = self.validate()
        self.preview = preview if not reason else None
        self.footer.show_reason(reason)
        before_alloc = self._current_allocated()
        before_liq = self.figures.liquidation_price
        if preview is None:
            self.allocated_label.setText(fmt.fmt_money(before_alloc, "USD"))
            self.change_label.setText(fmt.DASH)
            self.liquidation_label.setText(fmt.fmt_money(before_liq, "USD"))
            self.available_label.setText(fmt.fmt_money(self.flex.available_margin, "USD"))
            return
        self.allocated_label.setText(f"{fmt.fmt_money(before_alloc)} -> {fmt.fmt_money(preview.allocated_margin, 'USD')}")
        self.change_label.setText(fmt.fmt_money(preview.margin_change, "USD", signed=True))
        self.liquidation_label.setText(
            f"{fmt.fmt_money(before_liq)} -> {fmt.fmt_money(preview.liquidation_price, 'USD')}")
        self.available_label.setText(
            f"{fmt.fmt_money(self.flex.available_margin)} -> {fmt.fmt_money(preview.available_margin, 'USD')}")

    def leverage(self) -> Decimal | None:
        return self.preview.leverage if self.preview is not None else None

    def _choose_cross(self) -> None:
        self.back_to_cross = True
        super().accept()

    def accept(self) -> None:
        if self.leverage() is None:
            return  # OK is disabled, but Enter in the line edit must not slip through
        super().accept()
