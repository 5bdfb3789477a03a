"""UI test fixtures: a private QSettings file per test and a main window built on it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from kraken_monitor.testing import builders


@pytest.fixture
def layout_settings(tmp_path) -> QSettings:
    """An INI file in tmp_path: layout tests never read or write the user's real settings."""
    return QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, layout_settings):
    """Factory for MainWindow on the test's own settings, with the clock fixed at builders.NOW."""
    from kraken_monitor.ui.main_window import MainWindow

    def factory(mode: str = "demo", clock=lambda: builders.NOW) -> MainWindow:
        window = MainWindow(mode, settings=layout_settings, clock=clock)
        qtbot.addWidget(window)
        return window

    return factory
