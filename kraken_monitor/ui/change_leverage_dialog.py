"""Change-leverage / margin-mode dialog for a Kraken Futures position: isolated leverage (lower adds margin,
higher releases it), or back to cross, each previewed and judged as Kraken judges it."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.futures import FlexAccount, FuturesBook, FuturesPositionFigures
from kraken_monitor.domain.futures_liquidation import (
    FuturesContract,
    LeveragePreview,
    preview_leverage_change,
)
from kraken_monitor.domain.futures_margin_mode import CrossPreview, preview_back_to_cross
from kraken_monitor.domain.models import MarginMode
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.futures import (
    CHANGE_LEVERAGE_INTRO,
    change_leverage_title,
    refusal_message,
)
from kraken_monitor.text.futures_actions import CROSS_EXPLAINED, cross_refusal_message
from kraken_monitor.ui.dialog_footer import DialogFooter
from kraken_monitor.ui.validators import parse_amount, to_input_text

LEVERAGE_DECIMALS = 2


class ChangeLeverageDialog(QDialog):
    """Previews Kraken's answer as you type: new allocated margin, liquidation price, available margin.

    OK stays disabled, with Kraken's reason shown, for what Kraken would refuse (would cause liquidation,
    insufficient margin, above the tier's maximum). Nothing is sent from here: the caller sends the PUT.
    """

    def __init__(self, figures: FuturesPositionFigures, contract: FuturesContract, flex: FlexAccount,
                 parent: QWidget | None = None, *, book: FuturesBook | None = None, to_cross: bool = False) -> None:
        super().__init__(parent)
        self.figures, self.contract, self.flex, self.book = figures, contract, flex, book
        self.preview: LeveragePreview | None = None
        self.cross_preview: CrossPreview | None = None  # back to cross, when allowed
        p = figures.position
        self.setWindowTitle(change_leverage_title(p.pair, p.margin_mode is MarginMode.ISOLATED))
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        intro = QLabel(CHANGE_LEVERAGE_INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        # Isolated positions choose: a new isolated leverage, or back to cross (Kraken's PUT without maxLeverage).
        self.isolated_radio = QRadioButton("Isolated at a leverage", self)
        self.cross_radio = QRadioButton("Back to cross margin", self)
        self.cross_radio.setToolTip(CROSS_EXPLAINED)
        self.mode_group = QButtonGroup(self)
        self.mode_group.addButton(self.isolated_radio)
        self.mode_group.addButton(self.cross_radio)
        self.isolated_radio.setChecked(True)
        modes = QHBoxLayout()
        modes.addWidget(self.isolated_radio)
        modes.addWidget(self.cross_radio)
        modes.addStretch(1)
        self.isolated_radio.toggled.connect(self._refresh)
        current = fmt.fmt_leverage(p.leverage) if p.leverage is not None else "cross"
        what = QLabel(f"{p.side.value} {fmt.fmt_plain(p.volume, 4)} {p.pair} from "
                      f"{fmt.fmt_money(p.entry_price, 'USD')}, mark {fmt.fmt_money(figures.mark_price, 'USD')}, "
                      f"now {current}")
        what.setWordWrap(True)
        form.addRow("Position:", what)
        if p.margin_mode is MarginMode.ISOLATED:
            form.addRow("Margin mode:", modes)
        else:  # a cross position: setting a leverage is the switch to isolated
            self.isolated_radio.hide()
            self.cross_radio.hide()
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
        self.cross_note = QLabel(CROSS_EXPLAINED)
        self.cross_note.setWordWrap(True)
        self.cross_note.setVisible(False)
        layout.addLayout(form)
        layout.addWidget(self.cross_note)
        self.footer = DialogFooter(self, layout, "Change leverage")
        self.ok_button = self.footer.ok_button
        if to_cross and p.margin_mode is MarginMode.ISOLATED:
            self.cross_radio.setChecked(True)
        self._refresh()

    @property
    def back_to_cross(self) -> bool:
        """The trader chose cross margin (an isolated position only) instead of a new leverage."""
        return self.figures.position.margin_mode is MarginMode.ISOLATED and self.cross_radio.isChecked()

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

    def validate_cross(self) -> tuple[CrossPreview | None, str]:
        """The position back in the cross pool, judged by the rules Kraken names (domain.futures_margin_mode)."""
        book = self.book
        if book is None or not book.positions or book.stale:
            return None, "No fresh futures figures to preview cross margin with; try after the next read."
        positions = [pf.position for pf in book.positions]
        marks = {pf.position.pair: pf.mark_price for pf in book.positions}
        try:
            preview = preview_back_to_cross(self.figures.position, positions, marks, book.contracts, self.flex)
        except KeyError:
            return None, "A mark price or margin schedule is missing; try after the next read."
        return preview, cross_refusal_message(preview) or ""

    def _refresh(self) -> None:
        cross = self.back_to_cross
        self.leverage_edit.setEnabled(not cross)
        self.cross_note.setVisible(cross)
        self.ok_button.setText("Switch to cross margin" if cross else "Change leverage")
        if cross:
            self._refresh_cross()
            return
        self.cross_preview = None
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

    def _refresh_cross(self) -> None:
        self.preview = None
        preview, reason = self.validate_cross()
        self.cross_preview = preview if not reason else None
        self.footer.show_reason(reason)
        before_alloc, before_liq = self._current_allocated(), self.figures.liquidation_price
        if preview is None:
            for label in (self.allocated_label, self.change_label, self.liquidation_label):
                label.setText(fmt.DASH)
            self.available_label.setText(fmt.fmt_money(self.flex.available_margin, "USD"))
            return
        self.allocated_label.setText(f"{fmt.fmt_money(before_alloc)} -> none (cross; "
                                     f"{fmt.fmt_money(preview.cross_initial_margin, 'USD')} initial margin)")
        self.change_label.setText(
            f"{fmt.fmt_money(preview.released_margin, 'USD')} back to the cross pool")
        self.liquidation_label.setText(
            f"{fmt.fmt_money(before_liq)} -> {fmt.fmt_money(preview.liquidation_price, 'USD')}")
        shown_after = preview.available_before + preview.released_margin - preview.cross_initial_margin
        self.available_label.setText(f"{fmt.fmt_money(self.flex.available_margin)} -> "
                                     f"{fmt.fmt_money(shown_after, 'USD')}")

    def leverage(self) -> Decimal | None:
        return self.preview.leverage if self.preview is not None else None

    def accept(self) -> None:
        # OK is disabled while refused, but Enter in the line edit must not slip through
        if (self.cross_preview is None) if self.back_to_cross else (self.leverage() is None):
            return
        super().accept()
