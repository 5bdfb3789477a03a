"""Settings' Notifications tab: channels (URL to the keyring), what each receives, "Send test", escalation and the alarm."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.events import KINDS as EVENT_KINDS
from kraken_monitor.notify import secrets
from kraken_monitor.notify.channels import (
    DEFAULT_EVENTS,
    DEFAULT_LEVELS,
    LEVELS,
    Channel,
    new_channel_id,
    parse_routing,
    routing_text,
)
from kraken_monitor.notify.delivery import DeliveryStatus, check_url
from kraken_monitor.notify.service import Destination
from kraken_monitor.text import notify as text

log = logging.getLogger(__name__)

GROUP = "notify"
ESCALATE_RANGE_S = (10, 3600)


# -- persistence: routing only (ids, labels, levels, events); the URL is in the keyring -----------------
def load_channels(settings: QSettings | None) -> list[Channel]:
    if settings is None:
        from kraken_monitor.ui.settings_store import open_settings

        settings = open_settings()
    settings.beginGroup(GROUP)
    try:
        ids = [i for i in str(settings.value("channels") or "").split(",") if i]
        channels = []
        for channel_id in ids:
            try:
                channels.append(Channel(
                    channel_id,
                    str(settings.value(f"{channel_id}/label") or channel_id),
                    parse_routing(settings.value(f"{channel_id}/levels"), LEVELS, DEFAULT_LEVELS),
                    parse_routing(settings.value(f"{channel_id}/events"), EVENT_KINDS, DEFAULT_EVENTS),
                ))
            except ValueError:
                log.warning("a stored notification channel id is invalid; skipped")
        return channels
    finally:
        settings.endGroup()


def save_channels(settings: QSettings, channels: list[Channel]) -> None:
    settings.remove(GROUP)
    settings.beginGroup(GROUP)
    settings.setValue("channels", ",".join(c.id for c in channels))
    for c in channels:
        settings.setValue(f"{c.id}/label", c.label)
        settings.setValue(f"{c.id}/levels", routing_text(c.levels, LEVELS))
        settings.setValue(f"{c.id}/events", routing_text(c.events, EVENT_KINDS))
    settings.endGroup()
    settings.sync()


def keyring_usable() -> bool:
    from kraken_monitor.exchange.credentials import keyring_status

    try:
        return keyring_status() == "ok"
    except Exception:  # noqa: BLE001 - a broken backend must not stop the dialog
        return False


class NotifySection(QWidget):
    """The tab. Nothing reaches the keyring or the settings before `save()` (the dialog's OK)."""

    def __init__(self, config: MonitorConfig, settings: QSettings | None, bridge=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.channels: list[Channel] = load_channels(settings)
        self.new_urls: dict[str, str] = {}
        self.removed: set[str] = set()
        self.keyring_ok = keyring_usable()
        layout = QVBoxLayout(self)

        box = QGroupBox("Channels (apprise URLs: ntfy://, tgram://, discord://, mailto://, json://, ...)")
        box_layout = QVBoxLayout(box)
        self.list = QListWidget()
        self.list.setMinimumHeight(90)
        self.list.currentRowChanged.connect(self._show_routing)
        box_layout.addWidget(self.list)
        buttons = QHBoxLayout()
        self.test_button = QPushButton("Send test")
        self.test_button.clicked.connect(self.send_test)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        box_layout.addLayout(buttons)
        self.status_label = QLabel("")
        self.status_label.setObjectName("notifyStatus")
        self.status_label.setWordWrap(True)
        box_layout.addWidget(self.status_label)
        add_row = QHBoxLayout()
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("name, e.g. Phone")
        self.label_edit.setMaximumWidth(160)
        self.url_edit = QLineEdit()
        self.url_edit.setEchoMode(QLineEdit.EchoMode.Password)  # it holds a token
        self.url_edit.setPlaceholderText("URL (kept in the OS keyring)")
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add_channel)
        add_row.addWidget(self.label_edit)
        add_row.addWidget(self.url_edit, 1)
        add_row.addWidget(self.add_button)
        box_layout.addLayout(add_row)
        self.add_reason = QLabel(text.NO_KEYRING if not self.keyring_ok else "")
        self.add_reason.setWordWrap(True)
        self.add_reason.setStyleSheet("color: #c62828;")
        self.add_reason.setVisible(not self.keyring_ok)
        box_layout.addWidget(self.add_reason)
        layout.addWidget(box)

        self.routing_box = QGroupBox("The selected channel receives")
        grid = QGridLayout(self.routing_box)
        grid.addWidget(QLabel("Alerts:"), 0, 0)
        grid.addWidget(QLabel("Position events:"), 1, 0)
        self.level_checks = {w: QCheckBox(label) for w, label in text.LEVEL_LABELS.items()}
        self.event_checks = {w: QCheckBox(label) for w, label in text.EVENT_LABELS.items()}
        for col, check in enumerate(self.level_checks.values(), 1):
            grid.addWidget(check, 0, col)
            check.toggled.connect(self._routing_edited)
        for col, check in enumerate(self.event_checks.values(), 1):
            grid.addWidget(check, 1, col)
            check.toggled.connect(self._routing_edited)
        layout.addWidget(self.routing_box)

        alarm_box = QGroupBox("Escalation and alarm")
        form = QFormLayout(alarm_box)
        self.escalate_spin = QSpinBox()
        self.escalate_spin.setRange(*ESCALATE_RANGE_S)
        self.escalate_spin.setSuffix(" s")
        self.escalate_spin.setMaximumWidth(120)
        self.escalate_spin.setValue(int(round(config.escalate_after_s)))
        self.escalate_spin.setToolTip("A critical or liquidation popup nobody acknowledged this long goes to the channels.")
        form.addRow("Send unacknowledged critical / liquidation after:", self.escalate_spin)
        volume_row = QHBoxLayout()
        self.volume_slider = QSlider(Qt.Orientation.Horizontal)
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(config.alarm_volume)
        self.volume_value = QLabel(f"{config.alarm_volume} %")
        self.volume_value.setMinimumWidth(44)
        self.volume_slider.valueChanged.connect(lambda v: self.volume_value.setText(f"{v} %"))
        volume_row.addWidget(self.volume_slider, 1)
        volume_row.addWidget(self.volume_value)
        form.addRow("Alarm volume:", volume_row)
        self.repeat_check = QCheckBox("Repeat the liquidation alarm until it is acknowledged")
        self.repeat_check.setChecked(config.alarm_repeat_liquidation)
        form.addRow("", self.repeat_check)
        layout.addWidget(alarm_box)
        layout.addStretch(1)

        if bridge is not None:
            bridge.status_changed.connect(self._on_status)
        self._fill()

    # -- list and routing ---------------------------------------------------------------------------
    def _fill(self, select: int = 0) -> None:
        self.list.clear()
        for c in self.channels:
            item = QListWidgetItem(text.channel_summary(c.label, c.levels, c.events))
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            self.list.addItem(item)
        if self.channels:
            self.list.setCurrentRow(min(select, len(self.channels) - 1))
        self._show_routing(self.list.currentRow())

    def selected(self) -> Channel | None:
        row = self.list.currentRow()
        return self.channels[row] if 0 <= row < len(self.channels) else None

    def _show_routing(self, row: int) -> None:
        channel = self.channels[row] if 0 <= row < len(self.channels) else None
        for checks, chosen in ((self.level_checks, channel.levels if channel else frozenset()),
                               (self.event_checks, channel.events if channel else frozenset())):
            for word, check in checks.items():
                check.blockSignals(True)
                check.setChecked(word in chosen)
                check.blockSignals(False)
        for widget in (self.routing_box, self.test_button, self.remove_button):
            widget.setEnabled(channel is not None)
        self.routing_box.setTitle(text.receives_title(channel.label if channel else None))
        status = self.bridge.last_status.get(channel.id) if (self.bridge and channel) else None
        self._show_status(status)

    def _show_status(self, status: DeliveryStatus | None, note: str = "") -> None:
        """The channel's last delivery: green delivered, red failed (the reason never holds the URL)."""
        self.status_label.setText(status.text() if status else note)
        colour = "" if status is None else "#2e7d32" if status.ok else "#c62828"
        self.status_label.setStyleSheet(f"color: {colour};" if colour else "")

    def _routing_edited(self) -> None:
        row = self.list.currentRow()
        channel = self.selected()
        if channel is None:
            return
        levels = frozenset(w for w, c in self.level_checks.items() if c.isChecked())
        events = frozenset(w for w, c in self.event_checks.items() if c.isChecked())
        self.channels[row] = Channel(channel.id, channel.label, levels, events)
        self.list.item(row).setText(text.channel_summary(channel.label, levels, events))

    # -- add / remove / test ----------------------------------------------------------------------
    def add_channel(self) -> Channel | None:
        url, label = self.url_edit.text().strip(), " ".join(self.label_edit.text().split())
        if not self.keyring_ok:
            self.add_reason.setText(text.NO_KEYRING)
            self.add_reason.setVisible(True)
            return None
        secrets.remember(url)
        reason = check_url(url) if url else "Enter the channel's URL."
        if reason:
            self.add_reason.setText(reason)
            self.add_reason.setVisible(True)
            return None
        channel = Channel(new_channel_id(), label or f"Channel {len(self.channels) + 1}")
        self.channels.append(channel)
        self.new_urls[channel.id] = url
        self.url_edit.clear()
        self.label_edit.clear()
        self.add_reason.setText("")
        self.add_reason.setVisible(False)
        self._fill(select=len(self.channels) - 1)
        return channel

    def remove_selected(self) -> None:
        channel = self.selected()
        if channel is None:
            return
        self.channels.remove(channel)
        if self.new_urls.pop(channel.id, None) is None:
            self.removed.add(channel.id)
        self._fill()

    def _url(self, channel: Channel) -> str | None:
        url = self.new_urls.get(channel.id) or (self.bridge.url_of(channel.id) if self.bridge else None)
        if url is None:
            try:
                url = secrets.load_url(channel.id)
            except secrets.SecretStoreUnavailable as exc:
                self._show_status(None, str(exc))
        return url

    def send_test(self) -> bool:
        channel = self.selected()
        if channel is None or self.bridge is None:
            return False
        url = self._url(channel)
        if not url:
            return False
        self._show_status(None, f"{channel.label}: {text.TEST_SENDING}")
        return self.bridge.send_test(Destination(channel, url))

    def _on_status(self, status: DeliveryStatus) -> None:
        channel = self.selected()
        if channel is not None and status.channel_id == channel.id and status.final:
            self._show_status(status)

    # -- OK ------------------------------------------------------------------------------------------
    def values(self) -> dict:
        """The MonitorConfig fields this tab edits."""
        return {"escalate_after_s": float(self.escalate_spin.value()), "alarm_volume": self.volume_slider.value(),
                "alarm_repeat_liquidation": self.repeat_check.isChecked()}

    def save(self, settings: QSettings | None) -> str:
        """URLs to the keyring, routing to the settings; '' or why a channel could not be kept."""
        if settings is None:
            from kraken_monitor.ui.settings_store import open_settings

            settings = open_settings()
        problem = ""
        for channel_id in self.removed:
            try:
                secrets.delete_url(channel_id)
            except secrets.SecretStoreUnavailable as exc:
                problem = str(exc)
        for channel_id, url in list(self.new_urls.items()):
            try:
                secrets.save_url(channel_id, url)
            except secrets.SecretStoreUnavailable as exc:
                problem = str(exc)
                self.channels = [c for c in self.channels if c.id != channel_id]
                del self.new_urls[channel_id]
        save_channels(settings, self.channels)
        return problem
