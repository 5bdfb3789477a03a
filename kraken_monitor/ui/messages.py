"""The one seam every popup goes through: error/confirm/info boxes, liquidation popups, tray and sound."""

from __future__ import annotations

import html
import logging
import time
from datetime import timezone

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyle,
    QSystemTrayIcon,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.domain.alerts import ACCOUNT_KEY
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.models import Alert, Risk
from kraken_monitor.exchange.errors import ExchangeError

log = logging.getLogger(__name__)

SNOOZE_CHOICES_MIN = (15, 60, 240)

# Background / text colours per level; UNKNOWN (stale) is purple so it never reads as "fine".
_LEVEL_COLOURS = {
    Risk.UNKNOWN: ("#5b2a86", "#ffffff"),
    Risk.OK: ("#2e7d32", "#ffffff"),
    Risk.WATCH: ("#f9a825", "#000000"),
    Risk.WARNING: ("#ef6c00", "#ffffff"),
    Risk.CRITICAL: ("#c62828", "#ffffff"),
    Risk.LIQUIDATION: ("#7f0000", "#ffffff"),
}


def alert_headline(alert: Alert) -> str:
    """Short title: RISK UNKNOWN for stale data, else the level and what it concerns."""
    if alert.stale or alert.level == Risk.UNKNOWN:
        return "RISK UNKNOWN: data is stale"
    if alert.key == ACCOUNT_KEY or not alert.position_id:
        # The cross account is at risk as a whole; it names the position to act on in the details.
        subject = "Cross-margin account"
    else:
        subject = f"{alert.pair} position"
    return f"{alert.level.name}: {subject}"


def alert_details(alert: Alert) -> list[str]:
    """The lines a trader needs to decide: which position, margin level, distance to liquidation."""
    lines = []
    if alert.key == ACCOUNT_KEY and alert.position_id:
        lines.append(f"Act on: {alert.position_id} ({alert.pair}), the position nearest liquidation")
    elif alert.position_id:
        lines.append(f"Position: {alert.position_id} ({alert.pair})")
    else:
        lines.append("Account: all cross-margin positions")
    level = "unknown" if alert.margin_level is None else f"{alert.margin_level:.1f} %"
    lines.append(f"Margin level: {level}")
    distance = alert.distance_to_liquidation_pct
    lines.append(f"Distance to liquidation: {'unknown' if distance is None else f'{distance:.2f} %'}")
    if alert.stale:
        lines.append("The monitor cannot see current prices or balances. Check Kraken directly.")
    if alert.message:
        lines.append(alert.message)
    fired = alert.fired_at.astimezone(timezone.utc) if alert.fired_at.tzinfo else alert.fired_at
    lines.append(f"Fired at {fired:%Y-%m-%d %H:%M:%S} UTC")
    return lines


class AlertPopup(QWidget):
    """Non-modal, always-on-top warning for one alert key; `update_alert` refreshes it in place."""

    add_margin_clicked = Signal(object)  # Alert
    close_position_clicked = Signal(object)  # Alert
    snooze_clicked = Signal(object, float)  # Alert, until (unix seconds)
    dismissed = Signal(object)  # Alert (closed by the trader: acknowledge)
    closed = Signal(object)  # self, however it was closed

    def __init__(self, alert: Alert, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # A popup left open must not keep the app alive after the main window is closed.
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        self.setObjectName("alertPopup")
        self.setMinimumWidth(420)
        self._alert = alert
        self.headline = QLabel()
        self.headline.setObjectName("alertHeadline")
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.headline.setMargin(10)
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.headline.setFont(font)
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMargin(8)

        self.add_margin_button = QPushButton("Add margin...")
        self.close_button = QPushButton("Close position...")
        self.snooze_button = QToolButton()
        self.snooze_button.setText(f"Snooze {SNOOZE_CHOICES_MIN[0]} min")
        self.snooze_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(self.snooze_button)
        for minutes in SNOOZE_CHOICES_MIN:
            action = QAction(_minutes_text(minutes), menu)
            action.triggered.connect(lambda _=False, m=minutes: self._snooze(m))
            menu.addAction(action)
        self.snooze_button.setMenu(menu)
        self.snooze_button.clicked.connect(lambda: self._snooze(SNOOZE_CHOICES_MIN[0]))
        self.add_margin_button.clicked.connect(lambda: self.add_margin_clicked.emit(self._alert))
        self.close_button.clicked.connect(lambda: self.close_position_clicked.emit(self._alert))

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_margin_button)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.snooze_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        self.update_alert(alert)

    @property
    def alert(self) -> Alert:
        return self._alert

    def update_alert(self, alert: Alert) -> None:
        """Show the newest alert for this key (a new level replaces the text, never opens a second window)."""
        self._alert = alert
        background, foreground = _LEVEL_COLOURS.get(alert.level, _LEVEL_COLOURS[Risk.CRITICAL])
        if alert.stale:
            background, foreground = _LEVEL_COLOURS[Risk.UNKNOWN]
        self.headline.setText(alert_headline(alert))
        self.headline.setStyleSheet(f"background: {background}; color: {foreground}; border-radius: 4px;")
        self.details.setText(_details_html(alert_details(alert)))
        self.setWindowTitle(f"kraken-monitor: {alert_headline(alert)}")

    def details_text(self) -> str:
        """The details as plain text (what the label shows, without markup)."""
        return "\n".join(alert_details(self._alert))

    def _snooze(self, minutes: int) -> None:
        # LIQUIDATION is never silenced by a stray click: the trader confirms it, else the popup stays.
        if not Messages.instance().confirm_snooze(self, self._alert, minutes * 60):
            return
        self.snooze_clicked.emit(self._alert, time.time() + minutes * 60)
        self._closing_quietly = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not getattr(self, "_closing_quietly", False):
            self.dismissed.emit(self._alert)
        self.closed.emit(self)
        super().closeEvent(event)


def _details_html(lines: list[str]) -> str:
    """Figures in bold so the margin level and distance read at a glance; free text stays plain."""
    rows = []
    for line in lines:
        label, sep, value = line.partition(": ")
        if sep and label in ("Position", "Account", "Margin level", "Distance to liquidation"):
            rows.append(f"{html.escape(label)}: <b style='font-size: 115%'>{html.escape(value)}</b>")
        else:
            rows.append(html.escape(line))
    return "<br>".join(rows)


def _minutes_text(minutes: int) -> str:
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"


class Messages(QObject):
    """Created once by the app (`Messages.instance()` finds it); tests patch its methods, not QMessageBox.

    Every method runs in the GUI thread. Popup buttons are re-emitted as the signals below, which the
    actions controller connects to dialogs and worker slots.
    """

    add_margin_requested = Signal(object)  # Alert
    close_requested = Signal(object)  # Alert
    snooze_requested = Signal(object, float)  # Alert, until (unix seconds)
    acknowledged = Signal(object)  # Alert

    _instance: Messages | None = None

    def __init__(self, parent: QObject | None = None, *, sound_enabled: bool = True):
        super().__init__(parent)
        self.sound_enabled = sound_enabled
        self._popups: dict[str, AlertPopup] = {}
        self._tray: QSystemTrayIcon | None = None
        self._sound_effect = None
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
        return self.confirm(
            parent,
            "Snooze a LIQUIDATION alert?",
            f"{alert_headline(alert)}\n\nThe position is close to being liquidated. Snoozing silences "
            f"LIQUIDATION alerts on it for {_minutes_text(int(seconds // 60))}.\n\nSnooze anyway?",
        )

    def show_alert(self, alert: Alert) -> AlertPopup | None:
        """Exactly one popup per alert key: a repeat or a new level updates and raises the open one.

        Snoozing is the alert engine's (it does not fire a snoozed level): every alert shown here fired.
        """
        popup = self._popups.get(alert.key)
        if popup is None:
            popup = AlertPopup(alert)
            popup.add_margin_clicked.connect(self.add_margin_requested)
            popup.close_position_clicked.connect(self.close_requested)
            popup.snooze_clicked.connect(self.snooze_requested)
            popup.dismissed.connect(self.acknowledged)
            popup.closed.connect(self._forget_popup)
            self._popups[alert.key] = popup
        else:
            popup.update_alert(alert)
        popup.show()
        popup.raise_()
        popup.activateWindow()
        self.notify(alert_headline(alert), "\n".join(alert_details(alert)[:3]))
        self.play_sound()
        return popup

    def _forget_popup(self, popup: AlertPopup) -> None:
        if self._popups.get(popup.alert.key) is popup:
            del self._popups[popup.alert.key]

    def popups(self) -> dict[str, AlertPopup]:
        """Open popups by alert key (a copy)."""
        return dict(self._popups)

    def close_all_popups(self) -> None:
        for popup in list(self._popups.values()):
            popup._closing_quietly = True
            popup.close()

    # -- tray and sound --------------------------------------------------------------------------
    def notify(self, title: str, text: str) -> bool:
        """Desktop notification through the system tray when there is one; False when not shown."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return False
        if self._tray is None:
            app = QApplication.instance()
            icon = app.windowIcon() if isinstance(app, QApplication) else None
            if icon is None or icon.isNull():
                icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self._tray = QSystemTrayIcon(icon, self)
            self._tray.show()
        self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 15_000)
        return True

    def play_sound(self) -> bool:
        """The packaged alert WAV through QSoundEffect when QtMultimedia exists (PySide6-Essentials 6.11
        ships without it), else the system beep; False when muted."""
        if not self.sound_enabled:
            return False
        if self._sound_effect is None:
            self._sound_effect = _load_sound_effect(self) or False
        if self._sound_effect:
            self._sound_effect.play()
        else:
            QApplication.beep()
        return True

    def set_sound_enabled(self, enabled: bool) -> None:
        self.sound_enabled = enabled


def _load_sound_effect(parent: QObject):
    """A QSoundEffect for the packaged alert.wav, or None without QtMultimedia or the resource."""
    try:
        from PySide6.QtCore import QUrl
        from PySide6.QtMultimedia import QSoundEffect  # absent from PySide6-Essentials

        from kraken_monitor.ui.resources import alert_sound_path

        effect = QSoundEffect(parent)
        effect.setSource(QUrl.fromLocalFile(str(alert_sound_path())))
        return effect
    except Exception:  # ImportError, MissingResource: fall back to the beep
        return None
