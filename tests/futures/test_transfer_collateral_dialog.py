"""Transfer-collateral dialog: typed refusals keep OK off with the reason; a valid amount previews the flex account."""

import os
from decimal import Decimal

import pytest

from kraken_monitor.domain.futures import FlexAccount
from kraken_monitor.text.numbers import fmt_level, fmt_money
from kraken_monitor.ui.transfer_collateral_dialog import LIVE_CURRENCIES, TransferCollateralDialog

D = Decimal
# Equity 10200, maintenance 370, available 1000 (the leverage dialog's account).
FLEX = FlexAccount(D(10200), D(1840), D(370), D(1000), D(10200), D(10000))


def _dialog(qtbot, currencies=("USD",)):
    dialog = TransferCollateralDialog(FLEX, "paper", currencies)
    qtbot.addWidget(dialog)
    return dialog


@pytest.mark.parametrize("text", ["", "abc", "-5", "0", "1.234", "nan", "1,5"])
def test_bad_amounts_are_refused_with_a_reason_and_nothing_to_confirm(qtbot, text):
    dialog = _dialog(qtbot)
    dialog.amount_edit.setText(text)
    assert not dialog.ok_button.isEnabled() and dialog.footer.reason_label.text()
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted and dialog.amount() is None


def test_a_usd_transfer_previews_available_margin_and_margin_level(qtbot):
    dialog = _dialog(qtbot)
    dialog.amount_edit.setText("500")
    assert dialog.ok_button.isEnabled() and dialog.amount() == D(500) and dialog.currency() == "USD"
    # available 1000 -> 1500; margin level 10200 / 370 = 2756.76 % -> 10700 / 370 = 2891.89 %
    assert fmt_money(D(1500), "USD") in dialog.available_label.text()
    assert dialog.level_label.text() == f"{fmt_level(D(10200) / 370 * 100)} -> {fmt_level(D(10700) / 370 * 100)}"
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted


def test_haircut_collateral_is_not_previewed_as_if_at_par(qtbot):
    dialog = _dialog(qtbot, LIVE_CURRENCIES)
    dialog.currency_combo.setCurrentText("BTC")
    dialog.amount_edit.setText("0.05")  # 8 places allowed for BTC, 2 for USD
    assert dialog.ok_button.isEnabled() and dialog.currency() == "BTC"
    assert "haircut" in dialog.available_label.text() and "haircut" in dialog.level_label.text()


def test_screenshots(qtbot, tmp_path):
    """Saved for a person to look at (KM_SCREENSHOT_DIR); the assertion is only that the grab has pixels."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from kraken_monitor.ui.resources import apply_theme

    out = os.environ.get("KM_SCREENSHOT_DIR", str(tmp_path))
    app = QApplication.instance()
    sheet, palette = app.styleSheet(), QPalette(app.palette())
    try:
        for theme in ("light", "dark"):
            apply_theme(app, theme)
            dialog = _dialog(qtbot, LIVE_CURRENCIES)
            dialog.show()
            dialog.amount_edit.setText("1.234")
            assert dialog.grab().width() > 300
            dialog.grab().save(os.path.join(out, f"transfer-{theme}-refused.png"))
            dialog.amount_edit.setText("500")
            dialog.grab().save(os.path.join(out, f"transfer-{theme}-ok.png"))
    finally:
        app.setStyleSheet(sheet)
        app.setPalette(palette)
