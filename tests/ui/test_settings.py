"""Settings: typed QSettings round trip with defaults, secrets only in the keyring, dialog validation."""

import dataclasses
from decimal import Decimal

import keyring
import pytest
from keyring.backends import null

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.alerts import AlertThresholds
from kraken_monitor.exchange import credentials
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.settings_dialog import SettingsDialog
from kraken_monitor.ui.settings_store import load_config, open_settings, save_config

KEY = "KEY-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL"
SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def ini(tmp_path):
    return tmp_path / "kraken-monitor.ini"


def test_round_trip_keeps_every_typed_field(ini):
    config = dataclasses.replace(
        MonitorConfig(),
        mode="paper",
        price_interval_s=2.5,
        sound_enabled=False,
        live_trading_enabled=True,
        demo_seed=42,
        thresholds=dataclasses.replace(AlertThresholds(), warning_distance_pct=Decimal("12.5")),
    )
    save_config(config, open_settings(ini))
    loaded = load_config(open_settings(ini))
    assert loaded == config
    assert isinstance(loaded.thresholds.warning_distance_pct, Decimal)


def test_missing_and_corrupt_values_fall_back_to_the_declared_defaults(ini):
    assert load_config(open_settings(ini)) == MonitorConfig()
    settings = open_settings(ini)
    settings.setValue("mode", "moon")
    settings.setValue("price_interval_s", "banana")
    settings.setValue("account_interval_s", "nan")
    settings.setValue("sound_enabled", "maybe")
    settings.setValue("thresholds/watch_distance_pct", "Infinity")
    settings.sync()
    assert load_config(open_settings(ini)) == MonitorConfig()


def test_saving_with_a_key_puts_it_in_the_keyring_and_never_in_the_settings_file(qtbot, ini, memory_keyring):
    dialog = SettingsDialog(MonitorConfig())
    qtbot.addWidget(dialog)
    assert "OS keyring" in dialog.keyring_label.text()
    dialog.key_edit.setText(KEY)
    dialog.secret_edit.setText(SECRET)
    dialog.sound_check.setChecked(False)
    assert dialog.ok_button.isEnabled(), dialog.reason_label.text()
    saved = dialog.save(open_settings(ini))
    assert saved is not None and saved.sound_enabled is False
    text = ini.read_text()
    assert "sound_enabled=false" in text
    assert KEY not in text and SECRET not in text and SECRET[:20] not in text
    assert credentials.load_credentials() == credentials.Credentials(KEY, SECRET)
    assert load_config(open_settings(ini)).sound_enabled is False


def test_without_a_keyring_the_dialog_says_so_and_names_the_env_fallback(qtbot, no_keyring):
    dialog = SettingsDialog(MonitorConfig())
    qtbot.addWidget(dialog)
    assert "No OS keyring" in dialog.keyring_label.text()
    assert "KRAKEN_API_KEY" in dialog.keyring_label.text()
    assert dialog.ok_button.isEnabled()  # other settings can still be saved
    dialog.key_edit.setText(KEY)
    dialog.secret_edit.setText(SECRET)
    assert not dialog.ok_button.isEnabled()
    assert "KRAKEN_API_KEY" in dialog.reason_label.text()


@pytest.mark.parametrize(
    ("key", "secret", "reason"),
    [(KEY, "", "both"), ("", SECRET, "both"), (KEY, "not base64 !!", "base64")],
)
def test_incomplete_or_malformed_credentials_are_refused(qtbot, memory_keyring, key, secret, reason):
    dialog = SettingsDialog(MonitorConfig())
    qtbot.addWidget(dialog)
    dialog.key_edit.setText(key)
    dialog.secret_edit.setText(secret)
    assert not dialog.ok_button.isEnabled()
    assert reason in dialog.reason_label.text()
    assert dialog.key_edit.echoMode() == dialog.key_edit.EchoMode.Password
    assert dialog.secret_edit.echoMode() == dialog.secret_edit.EchoMode.Password


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Enter an amount"),
        ("-1", "positive"),
        ("abc", "Not a number"),
        ("nan", "Not a number"),
        ("inf", "finite"),
        ("5000", "More than available"),
        ("1.123456", "decimal places"),
    ],
)
def test_bad_threshold_disables_ok_with_the_reason(qtbot, text, reason):
    dialog = SettingsDialog(MonitorConfig())
    qtbot.addWidget(dialog)
    dialog.threshold_edits["warning_distance_pct"].setText(text)
    assert not dialog.ok_button.isEnabled()
    assert "Warning: within" in dialog.reason_label.text() and reason in dialog.reason_label.text()
    dialog.threshold_edits["warning_distance_pct"].setText("10")
    assert dialog.ok_button.isEnabled()
    assert dialog.config().thresholds.warning_distance_pct == Decimal("10")


def test_kraken_tier_sets_how_often_a_live_account_may_be_polled(qtbot):
    dialog = SettingsDialog(MonitorConfig(mode="live", account_interval_s=3.0))
    qtbot.addWidget(dialog)
    assert dialog.tier_combo.currentText() == "starter"
    assert dialog.config().effective_account_interval_s() == 9.14  # 3 points / 0.33 per s (+0.05), never faster
    dialog.tier_combo.setCurrentText("pro")
    config = dialog.config()
    assert config.kraken_tier == "pro" and config.effective_account_interval_s() == 3.05  # 3 / 1.0 + 0.05 > 3 s


def test_thresholds_must_nest(qtbot):
    dialog = SettingsDialog(MonitorConfig())
    qtbot.addWidget(dialog)
    dialog.threshold_edits["critical_distance_pct"].setText("30")
    assert not dialog.ok_button.isEnabled()
    assert "watch >= warning >= critical" in dialog.reason_label.text()


def test_enabling_live_trading_needs_confirmation(qtbot, monkeypatch):
    messages = Messages()
    answers = [False, True]
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text: answers.pop(0))
    dialog = SettingsDialog(MonitorConfig())
    qtbot.addWidget(dialog)
    assert "real" in dialog.live_warning.text()
    dialog.live_check.setChecked(True)
    assert not dialog.live_check.isChecked()
    dialog.live_check.setChecked(True)
    assert dialog.live_check.isChecked() and dialog.config().live_trading_enabled is True
