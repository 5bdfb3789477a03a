"""CloseDialog: validation with reasons, volume/% sync, what-if preview, live gating, and a real paper close."""

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from kraken_monitor.domain import costs, whatif
from kraken_monitor.testing.builders import paper_exchange, position_id, snapshot_of
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui.actions import capabilities_for_mode
from kraken_monitor.ui.close_dialog import REDUCE_ONLY_TEXT, CloseDialog, CloseRequest
from kraken_monitor.ui.messages import Messages

PAPER = capabilities_for_mode("paper")


@pytest.fixture
def exchange():
    return paper_exchange()


@pytest.fixture
def snapshot(exchange):
    return snapshot_of(exchange)


@pytest.fixture
def confirmations(monkeypatch):
    """The one seam: Messages.confirm records the question and answers yes."""
    asked = []
    messages = Messages()
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text: asked.append(text) or True)
    return asked


def make(qtbot, snapshot, pair="BTC/USD", mode="paper", live=False, settle=False):
    dialog = CloseDialog(
        snapshot, position_id(snapshot, pair), mode, capabilities_for_mode(mode), live, settle=settle
    )
    qtbot.addWidget(dialog)
    return dialog


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Enter an amount"),
        ("0", "greater than zero"),
        ("-0.5", "positive"),
        ("nan", "Not a number"),
        ("inf", "finite"),
        ("half", "Not a number"),
        ("0.123456789", "At most 8 decimal places"),
        ("1.5", "More than available"),
        ("0.00001", "minimum order"),
    ],
)
def test_bad_volume_disables_ok_with_reason(qtbot, snapshot, text, reason):
    dialog = make(qtbot, snapshot)
    dialog.volume_edit.setText(text)
    dialog._refresh()
    assert not dialog.ok_button.isEnabled()
    assert reason in dialog.reason_label.text()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Enter an amount"),
        ("0", "greater than zero"),
        ("-1", "positive"),
        ("20000.05", "At most 1 decimal"),
        ("abc", "Not a number"),
    ],
)
def test_bad_limit_price_disables_ok(qtbot, snapshot, text, reason):
    dialog = make(qtbot, snapshot)
    dialog.limit_radio.setChecked(True)
    dialog.limit_edit.setText(text)
    assert not dialog.ok_button.isEnabled()
    assert dialog.reason_label.text().startswith("Limit price:") and reason in dialog.reason_label.text()
    dialog.limit_edit.setText("19999.5")
    assert dialog.ok_button.isEnabled()
    assert dialog.request() == CloseRequest(dialog.position_id, Decimal("1"), "limit", Decimal("19999.5"))


def test_volume_and_percent_stay_in_sync(qtbot, snapshot):
    dialog = make(qtbot, snapshot)
    assert dialog.volume_edit.text() == "1.00000000" and dialog.percent_spin.value() == 100
    dialog.percent_spin.setValue(25)
    assert Decimal(dialog.volume_edit.text()) == Decimal("0.25")
    dialog.volume_edit.clear()
    qtbot.keyClicks(dialog.volume_edit, "0.6")
    assert dialog.percent_spin.value() == 60
    assert "Reduce-only" in dialog.reduce_only_label.text() == REDUCE_ONLY_TEXT


def test_preview_equals_the_engine_partial_close(qtbot, snapshot):
    dialog = make(qtbot, snapshot)
    dialog.percent_spin.setValue(50)
    expected = whatif.partial_close(
        snapshot.account_state(),
        snapshot.prices(),
        snapshot.pair_rules,
        dialog.position_id,
        Decimal("0.5"),
        costs.TAKER_FEE_RATE,
    )
    assert dialog.preview_result == expected
    cur = snapshot.account.currency
    assert dialog.pnl_label.text().startswith(fmt.fmt_money(expected.pnl.net, cur, signed=True))
    assert fmt.fmt_money(expected.pnl.closing_fee, cur) in dialog.fees_label.text()
    assert "0.40 % taker" in dialog.fees_label.text()
    assert dialog.balance_label.text() == fmt.fmt_money(expected.net_realized, cur, signed=True)
    assert f"{expected.account.margin_level:,.1f} %" in dialog.level_label.text()


def test_closing_it_all_at_market_shows_the_tables_net_pnl(qtbot, snapshot):
    dialog = make(qtbot, snapshot)  # 100 % at market by default
    (pf,) = [f for f in snapshot.positions if f.position.id == dialog.position_id]
    result = dialog.preview_result
    # One meaning of Net P&L: the table's figure (after the fees so far and the closing fee at the taker
    # rate) is what this close would leave; the balance gets it plus the fees it already paid.
    assert abs(result.pnl.net - pf.net_pnl) < Decimal("1e-12")
    assert abs(result.net_realized - result.pnl.net - pf.fees) < Decimal("1e-12")
    cur = snapshot.account.currency
    assert dialog.pnl_label.text().startswith(fmt.fmt_money(pf.net_pnl, cur, signed=True))
    tip = dialog.pnl_label.toolTip()
    for term in (result.pnl.trading_fee, result.pnl.opening_fee, result.pnl.rollovers, result.pnl.closing_fee):
        assert fmt.fmt_money(-term, cur, signed=True) in tip


def test_settle_for_cross_positions_only_with_engine_preview(qtbot, snapshot):
    dialog = make(qtbot, snapshot, settle=True)
    assert dialog.settle_radio.isChecked() and not dialog.volume_edit.isEnabled()
    expected = whatif.settle(
        snapshot.account_state(), snapshot.prices(), snapshot.pair_rules, dialog.position_id
    )
    assert dialog.preview_result == expected
    assert dialog.request() == CloseRequest(dialog.position_id, Decimal("1"), "settle", None, settle=True)
    isolated = make(qtbot, snapshot, pair="ETH/USD")
    assert isolated.settle_radio.isHidden()


def test_live_mode_without_trading_enabled_disables_ok_with_reason(qtbot, snapshot):
    dialog = make(qtbot, snapshot, mode="live", live=False)
    dialog.percent_spin.setValue(50)
    assert not dialog.ok_button.isEnabled()
    assert "Live trading is off" in dialog.reason_label.text()
    enabled = make(qtbot, snapshot, mode="live", live=True)
    assert enabled.ok_button.isEnabled()


def test_closing_half_through_the_dialog_halves_the_paper_position(qtbot, snapshot, exchange, confirmations):
    dialog = make(qtbot, snapshot)
    dialog.show()
    qtbot.mouseClick(dialog.percent_spin, Qt.MouseButton.LeftButton)
    dialog.percent_spin.setValue(50)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    request = dialog.request()
    assert request == CloseRequest(dialog.position_id, Decimal("0.5"), "market", None)
    assert "0.50000000 BTC of 1.00000000" in confirmations[0] and dialog.position_id in confirmations[0]
    before = next(p for p in exchange.fetch_account().positions if p.id == request.position_id)
    exchange.close_position(request.position_id, request.volume, request.order_type, request.limit_price)
    after = next(p for p in exchange.fetch_account().positions if p.id == request.position_id)
    assert after.remaining_volume * 2 == before.remaining_volume


def test_declined_confirmation_keeps_the_dialog_open(qtbot, snapshot, monkeypatch):
    messages = Messages()
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text: False)
    dialog = make(qtbot, snapshot)
    dialog.show()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted


def test_ask_returns_request_or_none(qtbot, snapshot, monkeypatch):
    monkeypatch.setattr(CloseDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    pid = position_id(snapshot, "BTC/USD")
    assert CloseDialog.ask(None, snapshot, pid, "paper", PAPER) == CloseRequest(
        pid, Decimal("1"), "market", None
    )
    assert CloseDialog.ask(None, snapshot, pid, "live", capabilities_for_mode("live")) is None
    assert CloseDialog.ask(None, snapshot, "GONE", "paper", PAPER) is None
