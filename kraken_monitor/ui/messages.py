"""The one seam every popup goes through: error/confirm/info boxes, liquidation popups, tray and sound."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QApplication,
    QMenu,
    QMessageBox,
    QStyle,
    QSystemTrayIcon,
    QWidget,
)

from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.models import Alert, Risk, Snapshot
from kraken_monitor.exchange.errors import ExchangeError
from kraken_monitor.notify.desktop import DesktopNotifications
from kraken_monitor.text.alerts import alert_details, alert_headline, snooze_question
from kraken_monitor.ui.alert_popup import SNOOZE_CHOICES_MIN, AlertPopup  # AlertPopup re-exported
from kraken_monitor.ui.sound import Alarm

log = logging.getLogger(__name__)

__all__ = ["SNOOZE_CHOICES_MIN", "AlertPopup", "Messages"]


class Messages(QObject):
    """Created once by the app (`Messages.instance()` finds it); tests patch its methods, not QMessageBox.

    Every method runs in the GUI thread. Popup buttons are re-emitted as the signals below, which the
    actions controller connects to dialogs and worker slots.
    """

    add_margin_requested = Signal(object, object)  # Alert, position id to act on
    change_leverage_requested = Signal(str)  # futures position id (a futures alert's popup)
    close_requested = Signal(object, object)  # Alert, position id to act on
    snooze_requested = Signal(object, float)  # Alert, until (unix seconds)
    acknowledged = Signal(object)  # Alert

    _instance: Messages | None = None

    def __init__(self, parent: QObject | None = None, *, sound_enabled: bool = True):
        super().__init__(parent)
        self.sound_enabled = sound_enabled
        self.repeat_liquidation = True  # the LIQUIDATION alarm loops until its popup is acknowledged
        self._popups: dict[str, AlertPopup] = {}
        self._tray: QSystemTrayIcon | None = None
        self.alarm = Alarm(parent=self)
        self.desktop = DesktopNotifications()  # freedesktop notifications when there is no tray
        self._snapshot: Snapshot | None = None  # the newest, for a popup opened between snapshots
        self._tray_menu: QMenu | None = None
        Messages._instance = self

    @classmethod
    def instance(cls) -> Messages:
        """The app's Messages; created on first use so a dialog opened alone (tests, tools) still works."""
        if cls._instance is None:
            cls._instance = Messages()
        return cls._instance

    # -- modal boxes ---------------------------------------------------------------------------
    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.critical(parent, title, text)

    def info(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def confirm(self, parent: QWidget | None, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            parent,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,  # a stray Enter must not close a position
        )
        return answer == QMessageBox.StandardButton.Yes

    def error_from(self, parent: QWidget | None, title: str, exc: BaseException) -> None:
        """Show a typed error's own message; anything else gets a generic line (traceback only in the log)."""
        if isinstance(exc, (DomainError, ExchangeError)):
            text = str(exc) or type(exc).__name__
        else:
            log.error("unexpected error shown to the user as %s", type(exc).__name__, exc_info=exc)
            text = f"Unexpected error ({type(exc).__name__}). Details are in the log."
        self.error(parent, title, text)

    # -- liquidation popups ----------------------------------------------------------------------
    def confirm_snooze(self, parent: QWidget | None, alert: Alert, seconds: float) -> bool:
        """True to go ahead: below LIQUIDATION at once; a LIQUIDATION snooze only after a Yes."""
        if alert.stale or alert.level < Risk.LIQUIDATION:
            return True
        return self.confirm(parent, "Snooze a LIQUIDATION alert?", snooze_question(alert, int(seconds // 60)))

    def show_alert(self, alert: Alert) -> AlertPopup | None:
        """Exactly one popup per alert key: a repeat or a new level updates and raises the open one.

        Snoozing is the alert engine's (it does not fire a snoozed level): every alert shown here fired.
        Position events pop up only for a liquidation; the others are in the alert log.
        """
        if alert.is_event and alert.level < Risk.CRITICAL:
            return None
        popup = self._popups.get(alert.key)
        if popup is None:
            popup = AlertPopup(alert)
            popup.add_margin_clicked.connect(self.add_margin_requested)
            popup.change_leverage_clicked.connect(self.change_leverage_requested)
            popup.close_position_clicked.connect(self.close_requested)
            popup.snooze_clicked.connect(self.snooze_requested)
            popup.dismissed.connect(self.acknowledged)
            popup.closed.connect(self._forget_popup)
            self._popups[alert.key] = popup
        else:
            popup.update_alert(alert)
        if self._snapshot is not None:
            popup.follow(self._snapshot)
        popup.show()
        popup.raise_()
        popup.activateWindow()
        self.notify(alert_headline(alert), "\n".join(alert_details(alert)[:3]))
        self.play_sound(repeat=self.repeat_liquidation and alert.level >= Risk.LIQUIDATION)
        return popup

    def _forget_popup(self, popup: AlertPopup) -> None:
        if self._popups.get(popup.alert.key) is popup:
            del self._popups[popup.alert.key]
        self._stop_alarm_when_answered()

    def _stop_alarm_when_answered(self) -> None:
        """The looping alarm stops once no LIQUIDATION popup is left open (acknowledged anywhere)."""
        if not any(p.alert.level >= Risk.LIQUIDATION for p in self._popups.values()):
            self.alarm.stop()

    def popups(self) -> dict[str, AlertPopup]:
        """Open popups by alert key (a copy)."""
        return dict(self._popups)

    def close_all_popups(self) -> None:
        for popup in list(self._popups.values()):
            popup.close_quietly()

    def update_alerts(self, alerts) -> None:
        """Slot for the worker's `alerts_changed`: an alert acknowledged or snoozed anywhere (popup, tray,
        log) closes its popup here too; the log shows the new state from the same records."""
        for alert in alerts:
            popup = self._popups.get(alert.key)
            if popup is not None and popup.alert.id == alert.id and (
                alert.acknowledged_at is not None or alert.snoozed_until is not None
            ):
                popup.close_quietly()
        self._stop_alarm_when_answered()
        self._update_tray_tooltip()

    def follow_snapshot(self, snapshot: Snapshot) -> None:
        """Every open popup shows the market now; one whose position is gone retargets or closes."""
        self._snapshot = snapshot
        for popup in list(self._popups.values()):
            if not popup.follow(snapshot):
                popup.close_quietly()

    def acknowledge_open(self) -> None:
        """Tray menu: acknowledge every open popup's alert (as closing each would)."""
        for popup in list(self._popups.values()):
            popup.close()

    def snooze_open(self, minutes: int = SNOOZE_CHOICES_MIN[0]) -> None:
        """Tray menu: snooze every open popup's alert (LIQUIDATION still asks)."""
        for popup in list(self._popups.values()):
            popup._snooze(minutes)

    def _update_tray_tooltip(self) -> None:
        if self._tray is None:
            return
        open_alerts = [p.alert for p in self._popups.values()]
        worst = max(open_alerts, key=lambda a: a.level, default=None)
        self._tray.setToolTip("kraken-monitor: no open alerts" if worst is None
                              else f"kraken-monitor: {len(open_alerts)} open, worst {alert_headline(worst)}")

    # -- tray and sound --------------------------------------------------------------------------
    def notify(self, title: str, text: str) -> bool:
        """Desktop notification through the system tray, else freedesktop's Notifications over D-Bus
        (many Linux desktops have no tray); False when neither could show it."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return self.desktop.send(title, text) is not None
        if self._tray is None:
            app = QApplication.instance()
            icon = app.windowIcon() if isinstance(app, QApplication) else None
            if icon is None or icon.isNull():
                icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self._tray = QSystemTrayIcon(icon, self)
            menu = QMenu()
            menu.addAction("Acknowledge open alerts", self.acknowledge_open)
            menu.addAction(f"Snooze open alerts {SNOOZE_CHOICES_MIN[0]} min", self.snooze_open)
            self._tray_menu = menu  # the tray does not own its menu
            self._tray.setContextMenu(menu)
            self._tray.show()
        self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 15_000)
        self._update_tray_tooltip()
        return True

    def play_sound(self, repeat: bool = False) -> bool:
        """The packaged alert WAV (looped when `repeat`, until acknowledged), else the system beep; False when muted."""
        if not self.sound_enabled:
            return False
        self.alarm.play(repeat=repeat)
        return True

    def set_sound_enabled(self, enabled: bool) -> None:
        self.sound_enabled = enabled
        if not enabled:
            self.alarm.stop()

    def set_alarm(self, volume: int, repeat_liquidation: bool) -> None:
        self.alarm.set_volume(volume)
        self.repeat_liquidation = repeat_liquidation
        if not repeat_liquidation and self.alarm.is_repeating():
            self.alarm.stop()
