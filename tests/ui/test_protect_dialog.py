"""ProtectDialog: bad input gets its reason and a disabled OK, the preview, the confirmation's words, modify and cancel."""

from decimal import Decimal

import pytest
from PySide6.QtWidgets import QDialog

from kraken_monitor.domain.orders import OrderSide, OrderSpec, OrderType, TriggerSignal
from kraken_monitor.testing.protected import protected_snapshot
from kraken_monitor.text import orders as text
from kraken_monitor.ui.actions import capabilities_for_mode
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.protect_dialog import ProtectChoice, ProtectDialog

D = Decimal
BTC_LONG, ETH_SHORT = "TXA-1", "TXB-2"  # builders.default_positions: 0.5 BTC long @ 60,000.0; 4 ETH short @ 3,000


@pytest.fixture
def snapshot():
    return protected_snapshot()  # BTC at 64,250.3, ETH at 3,120.45


@pytest.fixture
def answers(monkeypatch):
    """The one seam: Messages.confirm records each question and gives the next answer (yes unless told)."""
    asked: list[str] = []
    replies: list[bool] = []
    messages = Messages(sound_enabled=False)
    monkeypatch.setattr(messages, "confirm", lambda parent, title, question: asked.append(question)
                        or (replies.pop(0) if replies else True))
    return asked, replies


def make(qtbot, snapshot, position=BTC_LONG, mode="demo", live=False, order_id=None):
    dialog = ProtectDialog(snapshot, position, mode, capabilities_for_mode(mode), live, order_id=order_id)
    qtbot.addWidget(dialog)
    return dialog


def test_defaults_to_a_market_stop_loss_for_the_whole_position(qtbot, snapshot):
    dialog = make(qtbot, snapshot)
    assert dialog.stop_radio.isChecked() and dialog.market_radio.isChecked()
    assert dialog.volume_edit.text() == "0.50000000" and dialog.percent_spin.value() == 100
    assert dialog.reduce_only_label.text() == text.REDUCE_ONLY_TEXT
    assert not dialog.ok_button.isEnabled()
    assert "Trigger price: Enter an amount" in dialog.reason_label.text()
    dialog.volume_edit.clear()
    qtbot.keyClicks(dialog.volume_edit, "0.125")  # typed: the % follows (0.125 / 0.5 = 25 %)
    assert dialog.percent_spin.value() == 25
    dialog.percent_spin.setValue(100)  # and back: exactly the whole position, no rounding dust
    assert dialog.volume_edit.text() == "0.50000000"


@pytest.mark.parametrize(
    ("trigger", "reason"),
    [
        ("", "Trigger price: Enter an amount"),
        ("0", "Trigger price: The amount must be greater than zero"),
        ("-100", "Trigger price: The amount must be positive"),
        ("abc", "Trigger price: Not a number"),
        ("61000.05", "Trigger price: At most 1 decimal places"),  # XBTUSD pair_decimals 1
        ("65000", "would fire at once"),  # a sell stop above the price now (64,250.3)
    ],
)
def test_bad_trigger_shows_the_reason_and_disables_ok(qtbot, snapshot, trigger, reason):
    dialog = make(qtbot, snapshot)
    dialog.trigger_edit.setText(trigger)
    assert not dialog.ok_button.isEnabled()
    assert reason in dialog.reason_label.text()
    assert dialog.request() is None


@pytest.mark.parametrize(
    ("volume", "reason"),
    [("", "Volume: Enter an amount"), ("0.6", "Volume: More than available: at most 0.50000000 BTC"),
     ("0.123456789", "At most 8 decimal places"), ("-1", "positive")],
)
def test_bad_volume_shows_the_reason(qtbot, snapshot, volume, reason):
    dialog = make(qtbot, snapshot)
    dialog.trigger_edit.setText("61000")
    dialog.volume_edit.setText(volume)
    assert not dialog.ok_button.isEnabled()
    assert reason in dialog.reason_label.text()


def test_take_profit_below_the_price_and_limit_without_price_are_refused(qtbot, snapshot):
    dialog = make(qtbot, snapshot)
    dialog.take_radio.setChecked(True)
    dialog.trigger_edit.setText("63000")
    assert "take-profit must trigger above the price now" in dialog.reason_label.text()
    dialog.trigger_edit.setText("70500")
    dialog.limit_radio.setChecked(True)
    assert "Limit price: Enter an amount" in dialog.reason_label.text()
    dialog.limit_edit.setText("70400")
    assert dialog.ok_button.isEnabled(), dialog.reason_label.text()
    assert dialog.request().spec.type is OrderType.TAKE_PROFIT_LIMIT


def test_mark_trigger_is_refused_on_spot_and_live_trading_off_refuses_everything(qtbot, snapshot):
    dialog = make(qtbot, snapshot)
    dialog.trigger_edit.setText("61000")
    dialog.trigger_box.setCurrentIndex(dialog.trigger_box.findData(TriggerSignal.MARK))
    assert dialog.reason_label.text() == text.SPOT_NO_MARK and not dialog.ok_button.isEnabled()
    live = make(qtbot, snapshot, mode="live", live=False)
    live.trigger_edit.setText("61000")
    assert live.reason_label.text() == text.LIVE_TRADING_OFF and not live.ok_button.isEnabled()
    enabled = make(qtbot, snapshot, mode="live", live=True)
    enabled.trigger_edit.setText("61000")
    assert enabled.ok_button.isEnabled()


def test_preview_shows_distance_net_pnl_after_fees_and_where_it_sits(qtbot, snapshot):
    dialog = make(qtbot, snapshot)
    dialog.trigger_edit.setText("61000")
    # (64,250.3 - 61,000) / 64,250.3 = 5.0587 % of the price now.
    assert dialog.distance_label.text() == "61,000.0: 5.06 % from 64,250.3 now"
    # 0.5 x (61,000 - 60,000) = +500 P&L, less the 0.26 % trading fee on the 30,000 cost (78), the 0.01 % opening
    # fee (3), 7 rollovers at 0.01 % in the 30 h held (21) and the 0.40 % taker closing fee on 30,500 (122): +276.
    assert dialog.pnl_label.text().startswith("+276.00 USD at 61,000.0")
    assert "Rollovers (7 marks) -21.00 USD" in dialog.pnl_label.toolTip()
    # The engine's margin call at 42,012.4 and liquidation at 31,099.9 (builders scenario): 61,000 is above both.
    assert dialog.zone_label.text().startswith("Fires before the margin call (42,012.4)")
    dialog.trigger_edit.setText("30000")
    assert "only past liquidation (31,099.9)" in dialog.zone_label.text()
    assert dialog.ok_button.isEnabled()  # allowed, but said loudly: in the preview and the confirmation
    assert "Warning: " + text.WARNING_TEXT[text.STOP_BEYOND_LIQUIDATION] in dialog.confirmation_text(dialog.request())


def test_an_extra_stop_on_a_stopped_position_warns_that_orders_exceed_it(qtbot, snapshot):
    dialog = make(qtbot, snapshot)  # OSL-1 already stops all 0.5 BTC
    dialog.trigger_edit.setText("61000")
    assert not dialog.warning_label.isHidden()
    assert dialog.warning_label.text().startswith(text.WARNING_TEXT[text.ORDER_EXCEEDS_POSITION])
    assert "Already resting: Stop-loss sell 0.50000000 BTC at 58,000.0 (last trade) (OSL-1)" in dialog.warning_label.text()
    dialog.order_box.setCurrentIndex(dialog.order_box.findData("OSL-1"))  # modifying it instead: no excess
    dialog.trigger_edit.setText("61000")
    assert dialog.warning_label.isHidden()


def test_confirmation_names_position_type_trigger_and_size_and_nothing_before_yes(qtbot, snapshot, answers):
    asked, replies = answers
    dialog = make(qtbot, snapshot)
    dialog.trigger_edit.setText("61000")
    dialog.percent_spin.setValue(50)
    replies.append(False)
    dialog.accept()  # answered no: the dialog stays open, nothing chosen
    assert dialog.result() != QDialog.DialogCode.Accepted and not hasattr(dialog, "choice")
    question = asked[-1]
    for words in ("position TXA-1", "long 0.50000000 BTC BTC/USD", "Stop-loss sell 0.25000000 BTC",
                  "at 61,000.0", "(last trade)", "Reduce-only", "Mode: demo"):
        assert words in question
    dialog.accept()  # yes
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.choice == ProtectChoice("place", OrderSpec(BTC_LONG, "BTC/USD", OrderType.STOP_LOSS, OrderSide.SELL,
                                                             D("0.25"), D("61000"), None, TriggerSignal.LAST))


def test_trailing_stop_in_percent_and_its_limits(qtbot, snapshot):
    dialog = make(qtbot, snapshot, position=ETH_SHORT)
    dialog.trail_radio.setChecked(True)
    assert not dialog.trigger_edit.isEnabled() and dialog.offset_edit.isEnabled()
    dialog.offset_unit.setCurrentIndex(1)  # %
    dialog.offset_edit.setText("100")
    assert "below 100 %" in dialog.reason_label.text()
    dialog.offset_edit.setText("2")
    # A buy stop 2 % above 3,120.45: 3,120.45 x 1.02 = 3,182.859 (shown at ETHUSD's 2 decimals).
    assert dialog.distance_label.text().startswith("3,182.86: 2.00 % from 3,120.45 now, then trails")
    choice = dialog.request()
    assert choice.spec.type is OrderType.TRAILING_STOP and choice.spec.side is OrderSide.BUY
    assert (choice.spec.trailing_offset, choice.spec.trailing_percent) == (D("2"), True)


def test_modify_prefills_the_order_and_needs_a_change(qtbot, snapshot, answers):
    asked, _ = answers
    dialog = make(qtbot, snapshot, order_id="OSL-1")
    assert dialog.trigger_edit.text() == "58000.0" and dialog.ok_button.text() == "Modify order..."
    assert "Nothing changed" in dialog.reason_label.text() and not dialog.ok_button.isEnabled()
    assert dialog.distance_label.text().startswith("58,000.0: 9.73 %")  # still previewed as it stands
    dialog.trigger_edit.setText("59000")
    dialog.accept()
    assert "from: Stop-loss sell 0.50000000 BTC at 58,000.0" in asked[-1]
    assert "to:   Stop-loss sell 0.50000000 BTC at 59,000.0" in asked[-1]
    assert dialog.choice.action == "modify" and dialog.choice.order.id == "OSL-1"
    assert dialog.choice.spec.trigger_price == D("59000")


def test_cancel_an_existing_order_asks_first(qtbot, snapshot, answers):
    asked, replies = answers
    dialog = make(qtbot, snapshot, order_id="OTP-1")
    assert dialog.take_radio.isChecked() and not dialog.cancel_order_button.isHidden()
    replies.append(False)
    dialog.cancel_order_button.click()
    assert not hasattr(dialog, "choice")
    assert "Cancel this order on position TXA-1" in asked[-1] and "Take-profit sell 0.50000000 BTC at 70,000.0" in asked[-1]
    dialog.cancel_order_button.click()
    assert dialog.choice.action == "cancel" and dialog.choice.order.id == "OTP-1"


def test_preview_follows_the_market(qtbot, snapshot):
    from kraken_monitor.testing import builders
    from kraken_monitor.testing.protected import with_orders

    dialog = make(qtbot, snapshot)
    dialog.trigger_edit.setText("61000")
    prices = dict(builders.PRICES, **{"BTC/USD": D("62000.0")})
    dialog.set_snapshot(with_orders(builders.snapshot(prices=prices)))
    # (62,000 - 61,000) / 62,000 = 1.6129 %.
    assert dialog.distance_label.text() == "61,000.0: 1.61 % from 62,000.0 now"
