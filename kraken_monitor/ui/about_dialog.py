"""About dialog: version, licence and where the app keeps its data (so users can back it up or wipe it)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor import __version__
from kraken_monitor.ui.resources import app_icon

LICENCE = "MIT"
HOMEPAGE_TEXT = "Watches leveraged Kraken margin positions and warns before liquidation."


def current_data_dir() -> Path | None:
    """The data directory, or None when it cannot be determined (the dialog must still open)."""
    # Imported here: the About box is opened rarely and must not slow start-up or fail to import.
    try:
        from kraken_monitor.paths import data_dir

        return data_dir(create=False)
    except (ImportError, OSError):
        return None


class AboutDialog(QDialog):
    """Modal About box; `ask(parent)` opens it (tests build it directly and read its labels)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About kraken-monitor")
        self.setWindowIcon(app_icon())
        self.data_dir = current_data_dir()

        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        title = QLabel(f"<b>kraken-monitor</b> {__version__}")
        title.setObjectName("headline")
        self.version_label = title
        self.licence_label = QLabel(f"Licence: {LICENCE}. No warranty: this app can be wrong or late; "
                                    "Kraken's own figures decide liquidations.")
        self.licence_label.setWordWrap(True)
        self.data_dir_label = QLabel()
        self.data_dir_label.setWordWrap(True)
        self.data_dir_label.setOpenExternalLinks(True)
        self.data_dir_label.setTextFormat(Qt.TextFormat.RichText)
        if self.data_dir is None:
            self.data_dir_label.setText("Data directory: unknown")
        else:
            url = QUrl.fromLocalFile(str(self.data_dir)).toString()
            self.data_dir_label.setText(f'Data directory: <a href="{url}">{_escape(str(self.data_dir))}</a>')

        self.copy_button = QPushButton("Copy path")
        self.copy_button.setEnabled(self.data_dir is not None)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)

        header = QHBoxLayout()
        header.addWidget(icon)
        text = QVBoxLayout()
        text.addWidget(title)
        text.addWidget(QLabel(HOMEPAGE_TEXT))
        header.addLayout(text, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.licence_label)
        layout.addWidget(self.data_dir_label)
        layout.addWidget(buttons)

    def _on_copy_button_clicked(self) -> None:
        if self.data_dir is not None:
            QGuiApplication.clipboard().setText(str(self.data_dir))

    @classmethod
    def ask(cls, parent: QWidget | None = None) -> None:
        """Shows the dialog modally (the one call the main window makes)."""
        cls(parent).exec()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
