"""Which account's positions the table shows: every account, or one (venue and kind), remembered in settings."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

ALL_ACCOUNTS = "All accounts"
SETTINGS_KEY = "positions/account_filter"


class AccountFilter(QWidget):
    """A labelled combo box; `changed(str | None)` with the account name, None for every account.

    The saved choice is offered even before its account has been read (the futures read comes after
    the first paint), so a restart shows the trader the rows they chose last time.
    """

    changed = Signal(object)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountFilter")
        self._settings = settings or QSettings()
        settings = self._settings
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        label = QLabel("&Account:")
        self.combo = QComboBox()
        self.combo.setObjectName("accountFilterCombo")
        self.combo.setToolTip("Show the positions of every account, or of one (Alt+A)")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        label.setBuddy(self.combo)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        saved = str(settings.value(SETTINGS_KEY, "", type=str) or "")
        self.combo.addItem(ALL_ACCOUNTS, None)
        if saved:
            self.combo.addItem(saved, saved)
            self.combo.setCurrentIndex(1)
        self.combo.currentIndexChanged.connect(self._on_index_changed)

    def current(self) -> str | None:
        return self.combo.currentData()

    def set_accounts(self, names: tuple[str, ...]) -> None:
        """Offer every account read so far (and the current choice, even if its account is gone)."""
        current = self.current()
        wanted = [n for n in names if n] + ([current] if current and current not in names else [])
        shown = [self.combo.itemData(i) for i in range(1, self.combo.count())]
        if shown == wanted:
            return
        self.combo.blockSignals(True)  # rebuilding the list is not the trader's choice
        while self.combo.count() > 1:
            self.combo.removeItem(1)
        for name in wanted:
            self.combo.addItem(name, name)
        self.combo.setCurrentIndex(self.combo.findData(current) if current else 0)
        self.combo.blockSignals(False)

    def select(self, name: str | None) -> None:
        index = self.combo.findData(name) if name else 0
        if index < 0:
            self.combo.addItem(name, name)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)

    def _on_index_changed(self, _index: int) -> None:
        name = self.current()
        self._settings.setValue(SETTINGS_KEY, name or "")
        self.changed.emit(name)
