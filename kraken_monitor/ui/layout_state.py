"""Remembered window layout in QSettings: geometry, dock/toolbar state, splitter and table header state."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView, QMainWindow, QSplitter

# Bump when the window's docks/toolbars change shape so an old saved state is ignored, not misapplied.
STATE_VERSION = 1
_GROUP = "layout"


def _bytes(settings: QSettings, key: str) -> QByteArray | None:
    value = settings.value(key)
    if isinstance(value, QByteArray) and not value.isEmpty():
        return value
    if isinstance(value, (bytes, bytearray)) and value:
        return QByteArray(bytes(value))
    return None


def save_layout(window: QMainWindow, splitter: QSplitter, header: QHeaderView, settings: QSettings | None = None) -> None:
    """Layout only: never anything secret (settings files are plain text)."""
    settings = settings or QSettings()
    settings.beginGroup(_GROUP)
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("state", window.saveState(STATE_VERSION))
    settings.setValue("splitter", splitter.saveState())
    settings.setValue("positions_header", header.saveState())
    settings.endGroup()
    settings.sync()


def restore_layout(
    window: QMainWindow, splitter: QSplitter, header: QHeaderView, settings: QSettings | None = None
) -> bool:
    """Apply a saved layout; returns False when none was saved (first start keeps the defaults)."""
    settings = settings or QSettings()
    settings.beginGroup(_GROUP)
    try:
        geometry = _bytes(settings, "geometry")
        if geometry is None:
            return False
        window.restoreGeometry(geometry)
        state = _bytes(settings, "state")
        if state is not None:
            window.restoreState(state, STATE_VERSION)
        split = _bytes(settings, "splitter")
        if split is not None:
            splitter.restoreState(split)
        head = _bytes(settings, "positions_header")
        if head is not None:
            header.restoreState(head)
        return True
    finally:
        settings.endGroup()
