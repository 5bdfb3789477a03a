"""AddMarginDialog: live validation with reasons, previews equal to the engine's what-if, live-mode deposit text."""

from decimal import Decimal

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from kraken_monitor.domain import whatif
from kraken_monitor.exchange.base import Capabilities
from kraken_monitor.testing.builders import paper_exchange, position_id, snapshot_of
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui.actions import capabilities_for_mode
from kraken_monitor.ui.add_margin_dialog import AddMarginDialog, AddMarginKind

PAPER = capabilities_for_mode("paper")
LIVE = capabilities_for_mode("live")


@pytest.fixture
def snapshot():
    return snapshot_of(paper_exchange())


def make(qtbot, snapshot, pos=None, caps=PAPER, mode="paper"):
    dialog = AddMarginDialog(snapshot, pos, mode, caps)
    qtbot.addWidget(dialog)
    return dialog


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Enter an amount"),
        ("0", "greater than zero"),
        ("-5", "positive"),
        ("nan", "Not a number"),
        ("inf", "finite"),
        ("abc", "Not a number"),
        ("10.123", "decimal places"),
        ("1,5", "decimal point"),
    ],
)
def test_cross_collateral_bad_input_disables_ok_with_reason(qtbot, snapshot, text, reason):
    dialog = make(qtbot, snapshot)
    assert dialog.kind is AddMarginKind.COLLATERAL
    dialog.amount_edit.setText(text)
    assert not dialog.ok_button.isEnabled()
    assert reason in dialog.reason_label.text()
    dialog.accept()  # Enter must not slip past the disabled button
    assert dialog.result() != QDialog.DialogCode.Accepted


def test_cross_preview_equals_the_engine_deposit(qtbot, snapshot):
    dialog = make(qtbot, snapshot)
    dialog.amount_edit.setText("1000")
    assert dialog.ok_button.isEnabled() and dialog.reason_label.text() == ""
    expected = whatif.deposit(
        snapshot.account_state(), snapshot.prices(), snapshot.pair_rules, Decimal("1000")
    )
    assert dialog.preview_result == expected
    # The label's own half-even rounding (text.numbers); an f-string would use the thread's context, which ccxt
    # (run in-process by earlier tests) leaves at half-up.
    assert fmt.fmt_level(expected.margin_level) in dialog.level_label.text()
    assert f"{snapshot.account.margin_level:,.1f} %" in dialog.level_label.text()
    assert "BTC/USD" in dialog.liquidation_label.text()


def test_helper_fills_the_amount_needed_for_the_target(qtbot, snapshot):
    dialog = make(qtbot, snapshot)
    dialog.target_spin.setValue(300)
    dialog.fill_button.click()
    amount = dialog.amount()
    expected = whatif.required_deposit(
        snapshot.account_state(), snapshot.prices(), snapshot.pair_rules, Decimal(300)
    )
    assert amount is not None and amount >= expected and amount - expected < Decimal("0.01")
    assert dialog.preview_result.margin_level >= 300
    dialog.target_spin.setValue(100)  # already above
    assert "already above" in dialog.required_label.text() and not dialog.fill_button.isEnabled()


def test_isolated_position_allocates_with_engine_preview_and_a_limit(qtbot, snapshot):
    pid = position_id(snapshot, "ETH/USD")
    dialog = make(qtbot, snapshot, pid)
    assert dialog.kind is AddMarginKind.ISOLATED and dialog.ok_button.text() == "Allocate margin"
    dialog.amount_edit.setText("999999")
    assert not dialog.ok_button.isEnabled() and "More than available" in dialog.reason_label.text()
    dialog.amount_edit.setText("250")
    assert dialog.ok_button.isEnabled()
    expected = whatif.add_isolated_margin(
        snapshot.account_state(), snapshot.prices(), snapshot.pair_rules, pid, Decimal("250")
    )
    assert dialog.preview_result == expected
    assert fmt.fmt_decimal(expected.liquidation_price, 2) in dialog.liquidation_label.text()
    assert fmt.fmt_level(expected.margin_level) in dialog.level_label.text()
    dialog.target_spin.setValue(150)
    dialog.fill_button.click()
    assert dialog.preview_result.margin_level >= 150
    less = whatif.add_isolated_margin(
        snapshot.account_state(), snapshot.prices(), snapshot.pair_rules, pid, dialog.amount() - Decimal("1")
    )
    assert less.margin_level < 150


def test_isolated_refused_when_the_venue_cannot(qtbot, snapshot):
    caps = Capabilities(True, True, True, False, note="No isolated margin here.")
    dialog = make(qtbot, snapshot, position_id(snapshot, "ETH/USD"), caps)
    dialog.amount_edit.setText("100")
    assert not dialog.ok_button.isEnabled() and dialog.reason_label.text() == "No isolated margin here."


def test_live_cross_explains_the_kraken_deposit_and_offers_no_ok(qtbot, snapshot):
    dialog = make(qtbot, snapshot, position_id(snapshot, "BTC/USD"), LIVE, mode="live")
    assert dialog.kind is AddMarginKind.DEPOSIT_ON_KRAKEN
    assert dialog.ok_button is None
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Ok) is None
    assert "deposit funds on Kraken" in dialog.intro.text()
    dialog.target_spin.setValue(300)
    assert "deposit on Kraken" in dialog.required_label.text()


def test_ask_returns_the_amount_and_rechecks_after_exec(qtbot, snapshot, monkeypatch):
    def exec_typing(text):
        def run(self):
            self.amount_edit.setText(text)
            return QDialog.DialogCode.Accepted

        return run

    monkeypatch.setattr(AddMarginDialog, "exec", exec_typing("1500.50"))
    assert AddMarginDialog.ask(None, snapshot, None, "paper", PAPER) == Decimal("1500.50")
    monkeypatch.setattr(AddMarginDialog, "exec", exec_typing("-3"))
    assert AddMarginDialog.ask(None, snapshot, None, "paper", PAPER) is None
    monkeypatch.setattr(AddMarginDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert AddMarginDialog.ask(None, snapshot, None, "paper", PAPER) is None
