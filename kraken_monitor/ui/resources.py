"""Loads the packaged assets (icon, alert sound, stylesheets) through importlib.resources and applies the theme."""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette, QPixmap

if TYPE_CHECKING:
    from importlib.abc import Traversable

# Assets live inside the package (never next to the working directory), so they are found the same way
# in a checkout, an editable install, a wheel install and a PyInstaller bundle.
PACKAGE = "kraken_monitor"
FOLDER = "resources"
ICON_SIZES = (16, 32, 48, 64, 128, 256)
ALERT_SOUND = "alert.wav"
THEMES = ("system", "light", "dark")

# Keeps files extracted by as_file() alive until exit (only happens for zipped installs).
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)
_sound_path: Path | None = None
_system_palette: QPalette | None = None  # the desktop's palette, saved before apply_theme replaces it


class MissingResource(FileNotFoundError):
    """A packaged asset is absent: the install is broken (run resources/make_assets.py in a checkout)."""


def resource(name: str) -> Traversable:
    """The packaged asset `name`; raises MissingResource if the install lacks it."""
    item = resources.files(PACKAGE) / FOLDER / name  # one name per "/" (Python 3.10)
    if not item.is_file():
        raise MissingResource(f"packaged resource {FOLDER}/{name} is missing")
    return item


def app_icon() -> QIcon:
    """The application icon with every rendered size (needs a QGuiApplication)."""
    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap()
        if not pixmap.loadFromData(resource(f"kraken-monitor-{size}.png").read_bytes(), "PNG"):
            raise MissingResource(f"kraken-monitor-{size}.png is not a readable PNG")
        icon.addPixmap(pixmap)
    return icon


def alert_sound_path() -> Path:
    """A real file path of the alert WAV (sound players need a path, not bytes)."""
    global _sound_path
    if _sound_path is None or not _sound_path.is_file():
        _sound_path = _extracted.enter_context(resources.as_file(resource(ALERT_SOUND)))
    return _sound_path


def stylesheet(dark: bool) -> str:
    """The QSS for the dark or light theme (fonts, spacing, alternating rows; no risk colours)."""
    return resource("dark.qss" if dark else "light.qss").read_text(encoding="utf-8")


def is_dark(palette: QPalette) -> bool:
    """True when the palette draws light text on a dark window (how every desktop signals a dark theme)."""
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    return window.lightness() < text.lightness()


def system_is_dark(app: QGuiApplication) -> bool:
    """The desktop's own preference: Qt's colour scheme hint when known, else the desktop's palette."""
    from PySide6.QtCore import Qt

    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return is_dark(_system_palette if _system_palette is not None else app.palette())


def dark_palette() -> QPalette:
    """A dark palette for when the user picks "dark" on a light desktop."""
    colours = {
        QPalette.ColorRole.Window: "#1d1a29",
        QPalette.ColorRole.WindowText: "#e8e6f0",
        QPalette.ColorRole.Base: "#17151f",
        QPalette.ColorRole.AlternateBase: "#262138",
        QPalette.ColorRole.ToolTipBase: "#2b2640",
        QPalette.ColorRole.ToolTipText: "#e8e6f0",
        QPalette.ColorRole.PlaceholderText: "#8d88a0",
        QPalette.ColorRole.Text: "#e8e6f0",
        QPalette.ColorRole.Button: "#2a2638",
        QPalette.ColorRole.ButtonText: "#e8e6f0",
        QPalette.ColorRole.BrightText: "#ff6b78",
        QPalette.ColorRole.Highlight: "#7b3ff2",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#a98bff",
        QPalette.ColorRole.Mid: "#3a3450",
        QPalette.ColorRole.Dark: "#110f18",
        QPalette.ColorRole.Light: "#3d3752",
    }
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    disabled = QColor("#6f6a80")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_theme(app: QGuiApplication, choice: str = "system") -> bool:
    """Applies "system", "light" or "dark" (anything else = system) to the app; returns True if dark."""
    global _system_palette
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
    system_dark = system_is_dark(app)
    dark = choice == "dark" if choice in ("light", "dark") else system_dark
    if dark == system_dark:
        app.setPalette(_system_palette)  # back to the desktop's own look after an explicit choice
    elif dark:
        app.setPalette(dark_palette())
    else:
        style = getattr(app, "style", None)  # a QApplication's style knows its light standard palette
        app.setPalette(style().standardPalette() if style else QPalette(QColor("#efedf4")))
    if hasattr(app, "setStyleSheet"):  # QApplication only; a bare QGuiApplication has no widgets
        app.setStyleSheet(stylesheet(dark))
    return dark
