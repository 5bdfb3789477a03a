"""The GUI's notification service: channels from the settings and the keyring, escalation ticking in the GUI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Alert
from kraken_monitor.notify import secrets
from kraken_monitor.notify.delivery import DeliveryStatus, Notifier
from kraken_monitor.notify.service import AlertNotifications, Destination
from kraken_monitor.ui.settings_notify import load_channels

log = logging.getLogger(__name__)

TICK_MS = 1000  # escalation is judged each second: "within 60 s" is late by at most one tick


class NotifyBridge(QObject):
    """Created once by the app (`NotifyBridge.instance()`); lives in the GUI thread.

    Delivery results arrive from the delivery thread and are re-emitted here as `status_changed`.
    """

    status_changed = Signal(object)  # DeliveryStatus, in the GUI thread
    destinations_loaded = Signal()
    _delivered = Signal(object)
    _loaded = Signal(object)
    _instance: NotifyBridge | None = None

    def __init__(self, config: MonitorConfig, settings: QSettings | None = None, parent: QObject | None = None,
                 *, clock: Callable[[], float] | None = None, notifier: Notifier | None = None,
                 tick_ms: int = TICK_MS):
        super().__init__(parent)
        self.last_status: dict[str, DeliveryStatus] = {}
        self._delivered.connect(self._on_delivered)
        self._loaded.connect(self._on_loaded)
        self.service = AlertNotifications((), at_desk=True, escalate_after_s=config.escalate_after_s, clock=clock,
                                          on_status=self._delivered.emit, notifier=notifier)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.service.tick)
        self._timer.start(tick_ms)
        self._escalate_after_s = config.escalate_after_s
        NotifyBridge._instance = self
        self.reload(config, settings)

    @classmethod
    def instance(cls) -> NotifyBridge | None:
        return cls._instance

    def reload(self, config: MonitorConfig, settings: QSettings | None, extra: dict[str, str] | None = None) -> None:
        """Channels from the settings, URLs from the keyring in a thread (a stuck keyring never blocks
        the window); `extra` are URLs just saved, used without reading them back."""
        channels = load_channels(settings)
        self._escalate_after_s = config.escalate_after_s
        known = {d.channel.id: d.url for d in self.service.destinations} | (extra or {})

        def load() -> None:
            found = []
            for channel in channels:
                url = known.get(channel.id)
                if url is None:
                    try:
                        url = secrets.load_url(channel.id)
                    except secrets.SecretStoreUnavailable as exc:
                        log.warning("notification channel %s not loaded: %s", channel.label, exc)
                if url:
                    found.append(Destination(channel, url))
            try:
                self._loaded.emit(found)
            except RuntimeError:  # the bridge (its window) was destroyed while the keyring answered
                pass

        threading.Thread(target=load, name="notify-keyring-load", daemon=True).start()

    def _on_loaded(self, destinations) -> None:
        self.service.set_destinations(destinations, self._escalate_after_s)
        self.destinations_loaded.emit()

    def url_of(self, channel_id: str) -> str | None:
        return next((d.url for d in self.service.destinations if d.channel.id == channel_id), None)

    def _on_delivered(self, status: DeliveryStatus) -> None:
        self.last_status[status.channel_id] = status
        self.status_changed.emit(status)

    # -- the alert lifecycle, from the actions controller -------------------------------------------
    def fired(self, alerts: tuple[Alert, ...]) -> None:
        self.service.fired(a for a in alerts if isinstance(a, Alert))

    def acknowledged(self, alert_id: int) -> None:
        self.service.acknowledged(alert_id)

    def changed(self, alerts) -> None:
        self.service.changed(a for a in alerts if isinstance(a, Alert))

    def send_test(self, destination: Destination) -> bool:
        return self.service.send_test(destination)

    def stop(self) -> None:
        self._timer.stop()
        self.service.stop()
        if NotifyBridge._instance is self:
            NotifyBridge._instance = None
