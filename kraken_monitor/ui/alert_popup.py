"""The alert popup: one non-modal, always-on-top window per alert key that follows the market while open."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QToolButton, QVBoxLayout, QWidget

from kraken_monitor.domain.alerts import ACCOUNT_KEY
from kraken_monitor.domain.models import Alert, MarginMode, PositionFigures, Risk, Snapshot
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.alerts import alert_details, alert_headline, live_lines

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


class AlertPopup(QWidget):
    """Non-modal, always-on-top warning for one alert key; `update_alert` refreshes it in place and
    `follow` shows the current margin level and distance on every snapshot (and "recovered")."""

    add_margin_clicked = Signal(object, object)  # Alert, position id to act on (None: the account)
    change_leverage_clicked = Signal(str)  # futures position id
    close_position_clicked = Signal(object, object)  # Alert, position id to act on
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
        self.target: tuple[str | None, str | None] = (alert.position_id, alert.pair)  # (id, pair) to act on
        self.recovered = False
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
        self.live = QLabel()  # the market now, refreshed on every snapshot
        self.live.setObjectName("alertLive")
        self.live.setWordWrap(True)
        self.live.setMargin(8)
        self.live.setTextFormat(Qt.TextFormat.RichText)
        self.live.hide()

        self.add_margin_button = QPushButton("Add margin...")
        self.close_button = QPushButton("Close position...")
        self.snooze_button = QToolButton()
        self.snooze_button.setText(f"Snooze {SNOOZE_CHOICES_MIN[0]} min")
        self.snooze_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(self.snooze_button)
        for minutes in SNOOZE_CHOICES_MIN:
            action = QAction(fmt.fmt_minutes(minutes), menu)
            action.triggered.connect(lambda _=False, m=minutes: self._snooze(m))
            menu.addAction(action)
        self.snooze_button.setMenu(menu)
        self.snooze_button.clicked.connect(lambda: self._snooze(SNOOZE_CHOICES_MIN[0]))
        self.add_margin_button.clicked.connect(self._on_add_margin)
        self.close_button.clicked.connect(lambda: self.close_position_clicked.emit(self._alert, self.target[0]))

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_margin_button)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.snooze_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        layout.addWidget(self.live)
        layout.addLayout(buttons)
        self.update_alert(alert)

    @property
    def alert(self) -> Alert:
        return self._alert

    def update_alert(self, alert: Alert) -> None:
        """Show the newest alert for this key (a new level replaces the text, never opens a second window)."""
        self._alert = alert
        self.target = (alert.position_id, alert.pair)
        self.recovered = False
        self._paint_headline()
        self.details.setText(_details_html(alert_details(alert)))
        self.setWindowTitle(f"kraken-monitor: {alert_headline(alert)}")
        # An event's position is gone (liquidated, closed): nothing to add margin to or close.
        self.add_margin_button.setEnabled(not alert.is_event)
        self.close_button.setEnabled(alert.position_id is not None and not alert.is_event)
        self.snooze_button.setVisible(not alert.is_event)  # an event never fires again: nothing to snooze
        if alert.is_futures:
            # Kraken Futures: margin is added by lowering the leverage (the futures panel's dialog); the
            # monitor does not close futures positions, and its futures alerts fire once per rise (no snooze).
            self.add_margin_button.setText("Change leverage...")
            self.add_margin_button.setEnabled(alert.position_id is not None)
            self.close_button.hide()
            self.snooze_button.hide()

    def _on_add_margin(self) -> None:
        if self._alert.is_futures:
            self.change_leverage_clicked.emit(self._alert.position_id or "")
        else:
            self.add_margin_clicked.emit(self._alert, self.target[0])

    def _paint_headline(self) -> None:
        alert = self._alert
        background, foreground = _LEVEL_COLOURS.get(alert.level, _LEVEL_COLOURS[Risk.CRITICAL])
        if alert.stale:
            background, foreground = _LEVEL_COLOURS[Risk.UNKNOWN]
        text = alert_headline(alert)
        if self.recovered:
            text += " (recovered)"
        self.headline.setText(text)
        self.headline.setStyleSheet(f"background: {background}; color: {foreground}; border-radius: 4px;")

    def follow(self, snapshot: Snapshot) -> bool:
        """Show the current figures for this alert's subject; False when there is nothing left to act on
        (the position is gone and no other position carries the account's risk): the caller closes it."""
        alert = self._alert
        if alert.stale or alert.is_event or alert.is_futures:  # spot snapshots do not describe futures
            return True
        if snapshot.stale or snapshot.account is None:
            self._show_live("Now: <b>risk unknown</b> (data stale)")
            return True
        by_id = {pf.position.id: pf for pf in snapshot.positions}
        if alert.key == ACCOUNT_KEY:
            subject = by_id.get(self.target[0]) if self.target[0] else None
            if subject is None and self.target[0] is not None:
                subject = _next_to_act_on(snapshot)
                if subject is None:
                    return False
                self.target = (subject.position.id, subject.position.pair)
                self.details.setText(_details_html(_retargeted(alert_details(alert), subject)))
            level, risk = snapshot.account.margin_level, snapshot.account.risk
            distance = subject.distance_to_liquidation_pct if subject is not None else None
        else:
            subject = by_id.get(alert.position_id or "")
            if subject is None:
                return False
            level, risk, distance = subject.margin_level, subject.risk, subject.distance_to_liquidation_pct
        recovered = Risk.OK <= risk < alert.level
        if recovered != self.recovered:
            self.recovered = recovered
            self._paint_headline()
        self._show_live("<br>".join(html.escape(line) for line in live_lines(level, distance, snapshot.as_of, risk, alert.level)))
        return True

    def _show_live(self, text: str) -> None:
        self.live.setText(text)
        self.live.show()

    def live_text(self) -> str:
        return self.live.text() if self.live.isVisible() or self.live.text() else ""

    def details_text(self) -> str:
        """The details as plain text (what the label shows, without markup)."""
        return "\n".join(alert_details(self._alert))

    def _snooze(self, minutes: int) -> None:
        # LIQUIDATION is never silenced by a stray click: the trader confirms it, else the popup stays.
        from kraken_monitor.ui.messages import Messages  # the one seam for every box (tests patch it)

        if not Messages.instance().confirm_snooze(self, self._alert, minutes * 60):
            return
        self.snooze_clicked.emit(self._alert, time.time() + minutes * 60)
        self.close_quietly()

    def close_quietly(self) -> None:
        """Close without acknowledging (snoozed, or handled elsewhere)."""
        self._closing_quietly = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not getattr(self, "_closing_quietly", False):
            self.dismissed.emit(self._alert)
        self.closed.emit(self)
        super().closeEvent(event)


def _next_to_act_on(snapshot: Snapshot) -> PositionFigures | None:
    """After the named position went: the cross position nearest liquidation (Kraken's FIFO first when tied)."""
    cross = [pf for pf in snapshot.positions if pf.position.margin_mode is MarginMode.CROSS]
    if not cross:
        return None
    return min(cross, key=lambda pf: (pf.distance_to_liquidation_pct is None,
                                      pf.distance_to_liquidation_pct or 0, pf.liquidation_order or 10**9))


def _retargeted(lines: list[str], subject: PositionFigures) -> list[str]:
    p = subject.position
    head = f"Act on: {p.id} ({p.pair}), now the position nearest liquidation (the one named before is closed)"
    return [head, *lines[1:]]


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


