"""Packaged assets load through importlib.resources (from any working directory) and the theme applies."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, qInstallMessageHandler
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QTableView

from kraken_monitor import __version__
from kraken_monitor.ui import resources
from kraken_monitor.ui.about_dialog import AboutDialog


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Runs the test from an unrelated directory: assets must not be looked up relative to the cwd."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def restored_theme(qapp, monkeypatch):
    """Puts the app's palette and stylesheet back so theme tests do not leak into other tests."""
    palette, sheet = qapp.palette(), qapp.styleSheet()
    monkeypatch.setattr(resources, "_system_palette", None)
    yield qapp
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)


def palette_of(window: str, text: str) -> QPalette:
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(window))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(text))
    return palette


def test_app_icon_has_every_size(qapp, elsewhere):
    icon = resources.app_icon()
    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} == set(resources.ICON_SIZES)
    small = icon.pixmap(QSize(16, 16)).toImage()
    # The centre of the 16 px icon is the needle hub, not transparent background: readable when tiny.
    assert small.pixelColor(8, 9).alpha() == 255


def test_alert_sound_is_short_two_tone_16bit_mono(elsewhere):
    path = resources.alert_sound_path()
    assert path.is_file() and path.is_absolute()
    assert elsewhere not in path.parents
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        duration = wav.getnframes() / wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    assert 0.5 <= duration <= 0.7
    samples = memoryview(frames).cast("h")
    peak = max(abs(s) for s in samples)
    assert 10000 < peak < 32767  # audible, and no clipped samples
    assert path.stat().st_size < 64_000


def test_alert_sound_path_is_stable(elsewhere):
    assert resources.alert_sound_path() == resources.alert_sound_path()


@pytest.mark.parametrize("dark", [False, True])
def test_stylesheets_parse_without_qt_warnings(qapp, qtbot, restored_theme, dark):
    sheet = resources.stylesheet(dark)
    assert "alternate-background-color" in sheet
    messages: list[str] = []
    # Qt reports a QSS syntax error only as a log line ("Could not parse application stylesheet").
    previous = qInstallMessageHandler(lambda _mode, _ctx, message: messages.append(message))
    try:
        qapp.setStyleSheet(sheet)
        view = QTableView()
        qtbot.addWidget(view)
        view.setAlternatingRowColors(True)
        view.ensurePolished()
        view.show()
    finally:
        qInstallMessageHandler(previous)
    assert not [m for m in messages if "style" in m.lower()]


def test_light_and_dark_stylesheets_differ():
    assert resources.stylesheet(True) != resources.stylesheet(False)


def test_is_dark_reads_the_palette():
    assert resources.is_dark(palette_of("#202020", "#f0f0f0"))
    assert not resources.is_dark(palette_of("#f0f0f0", "#101010"))
    assert resources.is_dark(resources.dark_palette())


def test_apply_theme_dark_then_system_restores_desktop_palette(restored_theme, monkeypatch):
    app = restored_theme
    app.setPalette(palette_of("#f5f5f5", "#000000"))
    monkeypatch.setattr(resources, "system_is_dark", lambda _app: False)
    assert resources.apply_theme(app, "dark") is True
    assert resources.is_dark(app.palette())
    assert app.styleSheet() == resources.stylesheet(True)
    assert resources.apply_theme(app, "system") is False
    assert not resources.is_dark(app.palette())
    assert app.styleSheet() == resources.stylesheet(False)


def test_apply_theme_light_on_dark_desktop(restored_theme, monkeypatch):
    app = restored_theme
    app.setPalette(resources.dark_palette())
    monkeypatch.setattr(resources, "system_is_dark", lambda _app: True)
    assert resources.apply_theme(app, "light") is False
    assert not resources.is_dark(app.palette())
    assert resources.apply_theme(app, "bogus") is True  # unknown choice follows the system
    assert resources.is_dark(app.palette())


def test_missing_resource_is_a_typed_error():
    with pytest.raises(resources.MissingResource):
        resources.resource("no-such-file.png")


def test_about_dialog_shows_version_licence_and_data_dir(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    home = Path(os.environ["KRAKEN_MONITOR_HOME"])  # set by tests/conftest.py
    assert __version__ in dialog.version_label.text()
    assert "MIT" in dialog.licence_label.text()
    assert dialog.data_dir == home
    assert str(home) in dialog.data_dir_label.text()
    assert not dialog.windowIcon().isNull()


def test_about_dialog_copies_the_data_dir(qtbot, qapp):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    assert qapp.clipboard().text() == os.environ["KRAKEN_MONITOR_HOME"]


def test_about_dialog_opens_without_a_data_dir(qtbot, monkeypatch):
    monkeypatch.setattr("kraken_monitor.ui.about_dialog.current_data_dir", lambda: None)
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert "unknown" in dialog.data_dir_label.text()
    assert not dialog.copy_button.isEnabled()
