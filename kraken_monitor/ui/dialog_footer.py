"""The footer every validating dialog shares: why the input is refused, and OK (disabled until valid) / Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QDialog, QDialogButtonBox, QLabel


class DialogFooter:
    """Adds the reason label and the buttons to `layout`; `show_reason("")` means the input is valid.

    `ok_text=None` with `can_accept=False` gives a Close button only (nothing to confirm, e.g. a
    live Kraken account where collateral is deposited on Kraken itself).
    """

    def __init__(self, dialog: QDialog, layout: QBoxLayout, ok_text: str | None = None, can_accept: bool = True):
        self.reason_label = QLabel()
        self.reason_label.setObjectName("reasonLabel")
        self.reason_label.setStyleSheet("color: #c62828;")
        self.reason_label.setWordWrap(True)
        layout.addWidget(self.reason_label)
        buttons = QDialogButtonBox.StandardButton
        if can_accept:
            self.buttons = QDialogButtonBox(buttons.Ok | buttons.Cancel)
            self.ok_button = self.buttons.button(buttons.Ok)
            if ok_text:
                self.ok_button.setText(ok_text)
        else:
            self.buttons = QDialogButtonBox(buttons.Close)
            self.ok_button = None
        self.buttons.accepted.connect(dialog.accept)
        self.buttons.rejected.connect(dialog.reject)
        layout.addWidget(self.buttons)

    def show_reason(self, reason: str) -> None:
        self.reason_label.setText(reason)
        if self.ok_button is not None:
            self.ok_button.setEnabled(not reason)
            self.ok_button.setToolTip(reason)
