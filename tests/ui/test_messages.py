"""Messages: one popup per alert key (updated in place), RISK UNKNOWN for stale data, typed errors, tray, sound."""

from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.models import Alert, Risk
from kraken_monitor.exchange.errors import Rejected
from kraken_monitor.ui import messages as messages_module
from kraken_monitor.ui.messages import Messages

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


def make_alert(key="pos:OABC", level=Risk.WARNING, margin_level="95.5", distance="12.25", stale=False):
    return Alert(
        key=key,
        level=level,
        position_id=None if key in ("account", "stale") else key.removeprefix("pos:"),
        pair=None if key in ("account", "stale") else "BTC/USD",
        margin_level=None if margin_level is None else Decimal(margin_level),
        distance_to_liquidation_pct=None if distance is None else Decimal(distance),
        reason="isolated_distance",
        fired_at=NOW,
        facts=(("pair", "BTC/USD"), ("side", "long"), ("distance", None if distance is None else Decimal(distance)),
               ("liquidation_price", Decimal("61200")), ("price_places", 1)),
        stale=stale,
    )


@pytest.fixture
def messages(qtbot, monkeypatch):
    beeps = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: beeps.append(1)))
    m = Messages(sound_enabled=True)
    m.beeps = beeps
    yield m
    m.close_all_popups()


def test_same_key_twice_and_a_higher_level_leave_one_updated_popup(messages, qtbot):
    first = messages.show_alert(make_alert(level=Risk.WARNING, margin_level="95.5"))
    second = messages.show_alert(make_alert(level=Risk.WARNING, margin_level="95.5"))
    third = messages.show_alert(make_alert(level=Risk.CRITICAL, margin_level="81.2", distance="3.40"))
    assert first is second is third
    assert list(messages.popups()) == ["pos:OABC"]
    assert third.isVisible()
    assert third.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert not third.isModal()
    assert "CRITICAL" in third.headline.text()
    details = third.details_text()
    assert "<b" in third.details.text() and "81.2 %" in third.details.text()
    assert "OABC" in details and "81.2 %" in details and "3.40 %" in details
    assert "95.5" not in details


def test_different_keys_get_their_own_popups_and_closing_forgets_them(messages, qtbot):
    a = messages.show_alert(make_alert(key="pos:A"))
    b = messages.show_alert(make_alert(key="account", level=Risk.CRITICAL))
    assert a is not b and set(messages.popups()) == {"pos:A", "account"}
    assert "Cross-margin account" in b.headline.text()
    with qtbot.waitSignal(messages.acknowledged) as ack:
        a.close()
    assert ack.args[0].key == "pos:A"
    assert set(messages.popups()) == {"account"}
    again = messages.show_alert(make_alert(key="pos:A"))
    assert again is not a and set(messages.popups()) == {"pos:A", "account"}


def test_stale_alert_says_risk_unknown(messages):
    popup = messages.show_alert(
        make_alert(key="stale", level=Risk.UNKNOWN, margin_level=None, distance=None, stale=True)
    )
    assert popup.headline.text().startswith("RISK UNKNOWN")
    assert "Margin level: unknown" in popup.details_text()
    assert "#5b2a86" in popup.headline.styleSheet()


def test_popup_buttons_reach_the_controller_signals(messages, qtbot):
    popup = messages.show_alert(make_alert())
    with qtbot.waitSignal(messages.add_margin_requested) as add:
        qtbot.mouseClick(popup.add_margin_button, Qt.MouseButton.LeftButton)
    assert add.args[0].position_id == "OABC"
    with qtbot.waitSignal(messages.close_requested) as close:
        qtbot.mouseClick(popup.close_button, Qt.MouseButton.LeftButton)
    assert close.args[0].key == "pos:OABC"
    with qtbot.waitSignal(messages.snooze_requested) as snooze:
        popup.snooze_button.click()
    assert snooze.args[0].key == "pos:OABC" and snooze.args[1] > NOW.timestamp()
    assert messages.popups() == {}


def test_only_a_liquidation_snooze_asks_for_confirmation(messages, monkeypatch):
    asked = []
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text: asked.append(text) or False)
    assert messages.confirm_snooze(None, make_alert(level=Risk.CRITICAL), 900) is True
    assert messages.confirm_snooze(None, make_alert(key="stale", level=Risk.UNKNOWN, stale=True), 900) is True
    assert asked == []
    assert messages.confirm_snooze(None, make_alert(level=Risk.LIQUIDATION), 900) is False
    assert len(asked) == 1 and "15 min" in asked[0]


def test_a_fired_alert_always_shows_snoozing_is_the_engines(messages):
    # Messages keeps no snooze list of its own: the engine does not fire a snoozed level.
    assert not hasattr(messages, "is_snoozed")
    assert messages.show_alert(make_alert(level=Risk.WARNING)) is not None


def test_sound_follows_the_toggle(messages):
    messages.show_alert(make_alert())
    assert messages.alarm.is_playing() and messages.beeps == []  # the WAV, into SDL's null sink
    messages.alarm.stop()
    messages.set_sound_enabled(False)
    messages.show_alert(make_alert(level=Risk.CRITICAL, key="pos:OTHER"))
    assert not messages.alarm.is_playing() and messages.play_sound() is False


def test_tray_notification_only_when_a_tray_exists(messages, monkeypatch):
    from PySide6.QtWidgets import QSystemTrayIcon

    shown = []
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "showMessage", lambda self, *args: shown.append(args[:2]))
    assert messages.notify("CRITICAL: BTC/USD position", "Margin level 81 %") is True
    assert shown == [("CRITICAL: BTC/USD position", "Margin level 81 %")]
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    assert messages.notify("x", "y") is False


def test_typed_errors_show_their_message_others_no_traceback(messages, monkeypatch):
    boxes = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda parent, title, text: boxes.append(text)))
    messages.error_from(None, "Close failed", Rejected("EOrder:Insufficient margin"))
    messages.error_from(None, "Bad input", InvalidAmount("The amount must be positive."))
    messages.error_from(None, "Oops", KeyError("secret-looking detail"))
    assert boxes[0] == "EOrder:Insufficient margin"
    assert boxes[1] == "The amount must be positive."
    assert "KeyError" in boxes[2] and "secret-looking" not in boxes[2] and "Traceback" not in boxes[2]


def test_confirm_defaults_to_no(messages, monkeypatch):
    seen = {}

    def fake_question(parent, title, text, buttons, default):
        seen["default"] = default
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", staticmethod(fake_question))
    assert messages.confirm(None, "Confirm", "Close it?") is False
    assert seen["default"] == QMessageBox.StandardButton.No


def test_instance_is_the_one_created_by_the_app(messages):
    assert Messages.instance() is messages
    assert messages_module.alert_headline(make_alert(level=Risk.WATCH)) == "WATCH: BTC/USD position"


def test_an_account_alert_says_it_is_the_account_and_names_the_position_to_act_on(messages):
    alert = replace(make_alert(key="account", level=Risk.CRITICAL), position_id="OBTC1", pair="BTC/USD")
    popup = messages.show_alert(alert)
    assert popup.headline.text() == "CRITICAL: Cross-margin account"
    assert "Act on: OBTC1 (BTC/USD)" in popup.details_text()
