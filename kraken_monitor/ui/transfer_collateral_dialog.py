"""Transfer-collateral dialog for Kraken Futures cross margin: amount and currency into the flex account, previewed."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QComboBox, QDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.futures import FlexAccount, margin_level
from kraken_monitor.domain.futures_margin_mode import TransferPreview, preview_transfer
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.futures_actions import (
    TRANSFER_INTRO,
    transfer_available_text,
    transfer_level_text,
    transfer_title,
)
from kraken_monitor.ui.dialog_footer import DialogFooter
from kraken_monitor.ui.validators import parse_amount

# Kraken Futures' flex collateral a live account may move (its cash wallet holds these); paper and demo hold USD.
LIVE_CURRENCIES = ("USD", "USDC", "USDT", "EUR", "BTC", "ETH")
_DECIMALS = {"USD": 2, "USDC": 2, "USDT": 2, "EUR": 2}


class TransferCollateralDialog(QDialog):
    """GUI thread only. Validates live (OK disabled with the reason); previews the flex account afterwards.

    Nothing is sent from here: the caller sends a TransferToFlex to the futures poller once OK is pressed.
    """

    def __init__(self, flex: FlexAccount, mode: str, currencies: tuple[str, ...] = ("USD",),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.flex = flex
        self.preview: TransferPreview | None = None
        self.setWindowTitle(transfer_title(mode))
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        intro = QLabel(TRANSFER_INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.amount_edit = QLineEdit()
        self.amount_edit.setPlaceholderText("e.g. 500")
        self.amount_edit.textChanged.connect(self._refresh)
        self.currency_combo = QComboBox()
        self.currency_combo.addItems(list(currencies))
        self.currency_combo.currentTextChanged.connect(self._refresh)
        form.addRow("Amount:", self.amount_edit)
        form.addRow("Currency:", self.currency_combo)
        form.addRow("From / to:", QLabel("futures cash wallet -> flex (multi-collateral) account"))
        self.equity_label, self.available_label, self.level_label = QLabel(), QLabel(), QLabel()
        form.addRow("Margin equity now:", self.equity_label)
        form.addRow("Available margin:", self.available_label)
        form.addRow("Margin level:", self.level_label)
        layout.addLayout(form)
        self.footer = DialogFooter(self, layout, "Transfer")
        self.ok_button = self.footer.ok_button
        self.equity_label.setText(fmt.fmt_money(flex.margin_equity, flex.currency))
        self._refresh()

    def currency(self) -> str:
        return self.currency_combo.currentText()

    def validate(self) -> tuple[TransferPreview | None, str]:
        currency = self.currency()
        try:
            amount = parse_amount(self.amount_edit.text(), decimals=_DECIMALS.get(currency, 8),
                                  maximum=None, unit=currency)
        except InvalidAmount as err:
            return None, str(err)
        return preview_transfer(self.flex, amount, currency), ""

    def _refresh(self) -> None:
        preview, reason = self.validate()
        self.preview = preview
        self.footer.show_reason(reason)
        if preview is None:
            self.available_label.setText(fmt.fmt_money(self.flex.available_margin, self.flex.currency))
            self.level_label.setText(fmt.fmt_level(margin_level(self.flex)))
            return
        self.available_label.setText(transfer_available_text(preview, self.flex.currency))
        self.level_label.setText(transfer_level_text(preview))

    def amount(self) -> Decimal | None:
        return self.preview.amount if self.preview is not None else None

    def accept(self) -> None:
        if self.amount() is None:
            return  # OK is disabled, but Enter in the line edit must not slip through
        super().accept()
