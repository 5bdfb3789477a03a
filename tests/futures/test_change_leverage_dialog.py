"""Change-leverage dialog: Kraken's refusals disable OK with the reason; an accepted change previews its figures."""

import os
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures import FlexAccount, FuturesBook, FuturesPosition, book_figures
from kraken_monitor.domain.models import MarginMode, Side
from kraken_monitor.exchange.paper_futures import DEMO_CONTRACTS
from kraken_monitor.text.numbers import fmt_money
from kraken_monitor.ui.change_leverage_dialog import ChangeLeverageDialog

D = Decimal
ETH = "ETH/USD:USD"
FLEX = FlexAccount(D(10200), D(1840), D(370), D(1000), D(10200), D(10000))


def _dialog(qtbot, margin_mode=MarginMode.ISOLATED):
    # Short 2 ETH from 3100 at 5x (allocated 1240), mark 3500; the account has 1000 available.
    p = FuturesPosition(ETH, ETH, Side.SHORT, D(2), D(3100), margin_mode,
                        leverage=D(5) if margin_mode is MarginMode.ISOLATED else None)
    _, (figures,) = book_figures(FLEX, [p], {ETH: D(3500)}, DEMO_CONTRACTS, AlertThresholds())
    dialog = ChangeLeverageDialog(figures, DEMO_CONTRACTS[ETH], FLEX)
    qtbot.addWidget(dialog)
    return dialog


def test_a_raise_that_would_liquidate_keeps_ok_disabled_with_krakens_reason(qtbot):
    dialog = _dialog(qtbot)
    dialog.leverage_edit.setText("10")  # 620 - 800 <= 70: Kraken's error 41
    assert not dialog.ok_button.isEnabled()
    assert "would cause liquidation (error 41)" in dialog.footer.reason_label.text()
    assert dialog.leverage() is None
    dialog.leverage_edit.setText("2")  # needs 3100 - 1240 = 1860 > 1000 available
    assert not dialog.ok_button.isEnabled() and "Insufficient margin" in dialog.footer.reason_label.text()


def test_a_lower_leverage_previews_margin_in_liquidation_and_available(qtbot):
    dialog = _dialog(qtbot)
    assert not dialog.ok_button.isEnabled()  # prefilled with today's 5x: nothing to change
    dialog.leverage_edit.setText("4")
    assert dialog.ok_button.isEnabled() and dialog.leverage() == D(4)
    # 4x: allocated 6200 / 4 = 1550 (+310), available 1000 - 310 = 690, liquidation 7750 / 2.02 = 3836.63
    assert fmt_money(D(1550), "USD") in dialog.allocated_label.text()
    assert dialog.change_label.text() == fmt_money(D(310), "USD", signed=True)
    assert fmt_money(D(690), "USD") in dialog.available_label.text()
    assert fmt_money(D("3836.63"), "USD") in dialog.liquidation_label.text()


@pytest.mark.parametrize("text", ["", "abc", "-3", "1,5,0"])
def test_bad_input_is_refused_without_a_traceback(qtbot, text):
    dialog = _dialog(qtbot)
    dialog.leverage_edit.setText(text)
    assert not dialog.ok_button.isEnabled() and dialog.footer.reason_label.text()


def test_a_cross_position_can_be_made_isolated_with_margin_from_available(qtbot):
    dialog = _dialog(qtbot, MarginMode.CROSS)
    assert "Make isolated" in dialog.windowTitle() and not dialog.cross_radio.isVisibleTo(dialog)
    dialog.leverage_edit.setText("8")
    # 8x: allocated 6200 / 8 = 775, all of it from the 1000 available -> 225 left. 775 - 800 <= 70? yes:
    # -25 <= 70, so Kraken would refuse: the position's loss would eat the new margin at once.
    assert "would cause liquidation" in dialog.footer.reason_label.text()
    dialog.leverage_edit.setText("7")
    # 7x: 6200 / 7 = 885.71; 885.71 - 800 = 85.71 > 70 -> allowed; available 1000 - 885.71 = 114.29
    assert dialog.ok_button.isEnabled()
    assert fmt_money(D("114.29"), "USD") in dialog.available_label.text()


def _cross_dialog(qtbot, flex=FLEX):
    # The same ETH short alone in the book, so the cross preview has the whole pool.
    p = FuturesPosition(ETH, ETH, Side.SHORT, D(2), D(3100), MarginMode.ISOLATED, leverage=D(5))
    account, (figures,) = book_figures(flex, [p], {ETH: D(3500)}, DEMO_CONTRACTS, AlertThresholds())
    book = FuturesBook("demo", datetime.now(timezone.utc), account, (figures,), contracts=dict(DEMO_CONTRACTS))
    dialog = ChangeLeverageDialog(figures, DEMO_CONTRACTS[ETH], flex, book=book, to_cross=True)
    qtbot.addWidget(dialog)
    return dialog


def test_back_to_cross_is_previewed_before_it_is_confirmed(qtbot):
    dialog = _cross_dialog(qtbot)
    dialog.show()
    assert dialog.cross_radio.isVisible() and dialog.back_to_cross and not dialog.leverage_edit.isEnabled()
    assert dialog.ok_button.isEnabled() and dialog.ok_button.text() == "Switch to cross margin"
    # 1240 allocated returns to the pool; cross initial 7000 x 2 % = 140: available 1000 + 1240 - 140 = 2100.
    assert fmt_money(D(1240), "USD") in dialog.change_label.text()
    assert fmt_money(D(2100), "USD") in dialog.available_label.text()
    # as a cross leg, pool 10000 - 800: (10000 + 6200) / 2.02 = 8019.80 (isolated today: 7440 / 2.02 = 3683.17)
    assert fmt_money(D("3683.17")) in dialog.liquidation_label.text()
    assert fmt_money(D("8019.80"), "USD") in dialog.liquidation_label.text()
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted and dialog.leverage() is None


def test_back_to_cross_that_would_liquidate_is_refused_in_the_dialog(qtbot):
    # Collateral 850: pool 850 - 800 = 50 <= 70 maintenance -> Kraken's error 41; nothing can be confirmed.
    dialog = _cross_dialog(qtbot, FlexAccount(D(50), D(1240), D(70), D(-1190), D(50), D(850)))
    assert not dialog.ok_button.isEnabled()
    assert "would cause liquidation (error 41)" in dialog.footer.reason_label.text()
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted
    dialog.isolated_radio.setChecked(True)  # back to a leverage: the isolated preview again
    assert dialog.leverage_edit.isEnabled() and dialog.ok_button.text() == "Change leverage"


def test_screenshots(qtbot, tmp_path):
    """Saved for a person to look at (KM_SCREENSHOT_DIR); the assertion is only that the grab has pixels."""
    from PySide6.QtWidgets import QApplication

    from kraken_monitor.ui.resources import apply_theme

    out = os.environ.get("KM_SCREENSHOT_DIR", str(tmp_path))
    from PySide6.QtGui import QPalette

    app = QApplication.instance()
    sheet, palette = app.styleSheet(), QPalette(app.palette())  # other tests run on the untouched look
    try:
        for theme in ("light", "dark"):
            apply_theme(app, theme)
            dialog = _dialog(qtbot)
            dialog.leverage_edit.setText("10")
            dialog.show()
            image = dialog.grab()
            assert image.width() > 300
            image.save(os.path.join(out, f"change-leverage-{theme}-refused.png"))
            dialog.leverage_edit.setText("4")
            dialog.grab().save(os.path.join(out, f"change-leverage-{theme}-ok.png"))
            cross = _cross_dialog(qtbot)
            cross.show()
            cross.grab().save(os.path.join(out, f"change-leverage-{theme}-to-cross.png"))
            refused = _cross_dialog(qtbot, FlexAccount(D(50), D(1240), D(70), D(-1190), D(50), D(850)))
            refused.show()
            refused.grab().save(os.path.join(out, f"change-leverage-{theme}-to-cross-refused.png"))
    finally:
        app.setStyleSheet(sheet)
        app.setPalette(palette)
