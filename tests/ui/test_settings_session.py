"""Settings hygiene: command-line flags hold for one run only; the new fields (URL, currency, theme, pairs, history)."""

import pytest

from kraken_monitor.cli import build_config, build_parser
from kraken_monitor.config import MonitorConfig
from kraken_monitor.ui.settings_dialog import SettingsDialog
from kraken_monitor.ui.settings_fields import check_api_url, check_currency, check_watch_pairs
from kraken_monitor.ui.settings_store import load_config, open_settings, save_config


@pytest.fixture
def ini(tmp_path):
    return tmp_path / "kraken-monitor.ini"


def _launch(ini, *argv):
    """What cli.main does for the GUI: saved settings, then this run's flags on top."""
    return build_config(build_parser().parse_args(list(argv)), base=load_config(open_settings(ini)))


def test_saving_settings_never_persists_the_command_line_flags(qtbot, ini, tmp_path):
    save_config(MonitorConfig(mode="demo", sound_enabled=True), open_settings(ini))
    session = _launch(ini, "--mode", "live", "--api-url", "http://127.0.0.1:9", "--db", str(tmp_path / "x.db"))
    assert session.mode == "live" and session.api_url == "http://127.0.0.1:9"
    assert session.session_only == {"mode", "api_url", "db_path"}

    dialog = SettingsDialog(session)
    qtbot.addWidget(dialog)
    assert dialog.url_edit.text() == "http://127.0.0.1:9"  # Settings shows what this run uses
    assert "--api-url http://127.0.0.1:9" in dialog.session_label.text()
    assert "--mode live" in dialog.session_label.text()
    dialog.sound_check.setChecked(False)  # the trader changes something else and saves
    saved = dialog.save(open_settings(ini))
    assert saved is not None and saved.mode == "live"  # the running session keeps its flags

    text = ini.read_text()
    assert "127.0.0.1:9" not in text and "x.db" not in text
    plain = _launch(ini)  # the next launch without flags
    assert plain.mode == "demo" and plain.api_url is None and plain.db_path is None
    assert plain.sound_enabled is False and plain.session_only == frozenset()


def test_a_flagged_field_the_trader_changes_in_settings_is_saved(qtbot, ini):
    session = _launch(ini, "--mode", "paper", "--api-url", "http://127.0.0.1:9")
    dialog = SettingsDialog(session)
    qtbot.addWidget(dialog)
    dialog.mode_combo.setCurrentText("demo")  # an explicit choice, not the flag's
    dialog.url_reset.click()
    assert dialog.url_edit.text() == ""
    saved = dialog.save(open_settings(ini))
    assert saved.session_only == frozenset() and saved.api_url is None
    settings = open_settings(ini)
    assert settings.value("mode") == "demo" and settings.value("api_url") == ""
    assert _launch(ini).mode == "demo"


def test_new_fields_round_trip_through_the_dialog_and_the_file(qtbot, ini):
    dialog = SettingsDialog(MonitorConfig())
    qtbot.addWidget(dialog)
    assert dialog.currency_edit.text() == "USD" and dialog.theme_combo.currentText() == "system"
    dialog.url_edit.setText("https://proxy.example.org/kraken/")
    dialog.currency_edit.setText("eur")
    dialog.theme_combo.setCurrentText("dark")
    dialog.pairs_edit.setText("btc/usd, ETH/EUR, BTC/USD")
    dialog.history_spin.setValue(72)
    assert dialog.ok_button.isEnabled(), dialog.reason_label.text()
    saved = dialog.save(open_settings(ini))
    loaded = load_config(open_settings(ini))
    assert loaded == saved
    assert loaded.api_url == "https://proxy.example.org/kraken"
    assert loaded.collateral_currency == "EUR" and loaded.theme == "dark"
    assert loaded.watch_pairs == ("BTC/USD", "ETH/EUR") and loaded.history_hours == 72.0

    again = SettingsDialog(loaded)  # and the dialog shows them again
    qtbot.addWidget(again)
    assert again.pairs_edit.text() == "BTC/USD, ETH/EUR" and again.theme_combo.currentText() == "dark"
    assert again.session_label.isHidden()


def test_a_stored_unknown_theme_falls_back_to_system(ini):
    settings = open_settings(ini)
    settings.setValue("theme", "neon")
    settings.sync()
    assert load_config(open_settings(ini)).theme == "system"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("http://203.0.113.5:8080", "only to this machine"),
        ("ftp://127.0.0.1", "https://"),
        ("https://", "host"),
        ("https://user:pw@api.kraken.com", "user name"),
        ("https://api.kraken.com/?x=1", "query"),
        ("https://api.kraken.com:99999", "not a valid URL"),
    ],
)
def test_a_bad_api_url_disables_ok_with_the_reason(qtbot, text, reason):
    dialog = SettingsDialog(MonitorConfig())
    qtbot.addWidget(dialog)
    dialog.url_edit.setText(text)
    assert not dialog.ok_button.isEnabled()
    assert reason in dialog.reason_label.text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("https://api.kraken.com/", None),  # Kraken's own: no override stored
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://localhost:1", "http://localhost:1"),
    ],
)
def test_accepted_api_urls(text, expected):
    assert check_api_url(text) == (expected, "")


def test_currency_and_pairs_checks():
    assert check_currency(" xbt ") == ("XBT", "")
    assert check_currency("US DOLLAR")[0] is None
    assert check_currency("")[0] is None
    assert check_watch_pairs("") == ((), "")
    pairs, reason = check_watch_pairs("BTC/USD, BTCUSD")
    assert pairs is None and "'BTCUSD'" in reason


def test_theme_choice_is_applied_when_settings_are_saved(qtbot, ini, monkeypatch):
    from PySide6.QtWidgets import QApplication, QWidget

    from kraken_monitor.ui import resources
    from kraken_monitor.ui.actions import ActionsController

    window = QWidget()
    qtbot.addWidget(window)
    controller = ActionsController(MonitorConfig(), parent_widget=window, settings=open_settings(ini))
    app = QApplication.instance()
    resources.apply_theme(app, "light")
    monkeypatch.setattr(
        SettingsDialog, "ask", classmethod(lambda cls, parent, config, settings=None: MonitorConfig(theme="dark"))
    )
    try:
        assert controller.open_settings().theme == "dark"
        assert app.palette().window().color().lightness() < 128  # the dark palette is in use
    finally:
        resources.apply_theme(app, "system")


def test_the_price_feed_defaults_to_stream_and_only_a_given_flag_is_session_only(ini):
    plain = _launch(ini)
    assert plain.prices == "stream" and plain.ws_url is None and plain.session_only == frozenset()
    polled = _launch(ini, "--prices", "poll", "--ws-url", "ws://127.0.0.1:9/v2")
    assert polled.prices == "poll" and polled.ws_url == "ws://127.0.0.1:9/v2"
    assert polled.session_only == {"prices", "ws_url"}
