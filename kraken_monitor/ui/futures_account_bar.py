"""The Kraken Futures account bar: Kraken's own flex figures, the margin level against its 100 % liquidation, risk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from operator import attrgetter

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures import LIQUIDATION_LEVEL, FuturesBook, margin_thresholds
from kraken_monitor.domain.models import Risk
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.futures_feed import LABEL_SAMPLES, futures_feed_label
from kraken_monitor.ui import theme
from kraken_monitor.ui.account_bar import RISK_UNKNOWN, MarginGauge, _Figure, badge_box

NOT_WATCHED = "NOT WATCHED"
_RISK = attrgetter("risk")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class FuturesAccountBar(QFrame):
    """GUI thread only. `set_book` shows a read; a stale one keeps the last figures with RISK UNKNOWN.

    `show_outcome` puts Kraken's answer to a leverage change (or a transfer) on a line under the bar.
    """

    def __init__(self, mode: AccountKind | str = AccountKind.DEMO, thresholds: AlertThresholds | None = None,
                 clock: Callable[[], datetime] = _utcnow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("futuresAccountBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._clock = clock
        self.thresholds = thresholds or AlertThresholds()
        self.book: FuturesBook | None = None  # the last fresh read
        self.stale_reason: str | None = "waiting for the first read"
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 4, 8, 4)
        outer.setSpacing(2)
        layout = QHBoxLayout()
        layout.setSpacing(10)
        outer.addLayout(layout)
        self.mode_badge = QLabel()
        self.mode_badge.setObjectName("futuresModeBadge")
        self.mode_badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mode_badge.setMinimumWidth(64)
        layout.addLayout(badge_box("Kraken Futures", self.mode_badge))
        self.margin_equity = _Figure("Margin equity", "Kraken's marginEquity (accounts.flex): collateral + P&L, haircut")
        self.maintenance = _Figure("Maintenance", "Kraken's maintenanceMargin: liquidation when margin equity reaches it")
        self.initial = _Figure("Initial margin", "Kraken's initialMargin")
        self.available = _Figure("Available", "Kraken's availableMargin: what new positions or a lower leverage can use")
        self.portfolio = _Figure("Portfolio value", "Kraken's portfolioValue")
        for figure in (self.margin_equity, self.maintenance, self.initial, self.available, self.portfolio):
            layout.addWidget(figure)
        gauge_box = QVBoxLayout()
        gauge_box.setSpacing(0)
        gauge_box.addWidget(QLabel("Margin level (liquidation at 100 %)"))
        self.gauge = MarginGauge()
        self.gauge.setObjectName("futuresMarginGauge")
        self.gauge.call_name = "critical alert"
        gauge_box.addWidget(self.gauge)
        layout.addLayout(gauge_box, 1)
        self.age = _Figure("Updated", "Age of the futures account data")
        layout.addWidget(self.age)
        # Which futures feed is live (issue 17): the WebSocket (Kraken's liquidation prices) or REST alone.
        self.feed_label = QLabel()
        self.feed_label.setObjectName("futuresFeedLabel")
        self.feed_label.setVisible(False)
        self.feed_label.setMinimumWidth(max(map(self.feed_label.fontMetrics().horizontalAdvance, LABEL_SAMPLES)) + 2)
        layout.addWidget(self.feed_label)
        self.risk_label = QLabel(RISK_UNKNOWN)
        self.risk_label.setObjectName("futuresRiskLabel")
        self.risk_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.risk_label.setMinimumWidth(120)
        layout.addWidget(self.risk_label)
        self.outcome_label = QLabel()
        self.outcome_label.setObjectName("futuresOutcome")
        self.outcome_label.setWordWrap(True)
        self.outcome_label.setVisible(False)  # only while there is an answer or a reason to show
        outer.addWidget(self.outcome_label)
        self.set_mode(mode)
        self._as_of: datetime | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh_age)
        self._timer.start()
        self._show(None, stale=True)

    def set_mode(self, mode: AccountKind | str) -> None:
        mode = AccountKind.parse(mode)
        if mode.value.upper() == self.mode_badge.text():
            return
        bg, fg = theme.mode_colors(mode)
        self.mode_badge.setText(mode.value.upper())
        self.mode_badge.setToolTip(f"Kraken Futures {mode.value}: "
                                   + ("no real money at risk" if mode.simulated else "real money on Kraken"))
        self.mode_badge.setStyleSheet(
            f"QLabel#futuresModeBadge {{ background: {bg}; color: {fg}; font-weight: bold; border-radius: 4px;"
            " padding: 4px 10px; }")

    def set_book(self, book: FuturesBook) -> None:
        self.set_mode(book.mode)
        if book.stale:
            self.stale_reason = book.stale_reason
        else:
            self.book, self.stale_reason, self._as_of = book, None, book.as_of
        if book.feed:  # the full words in the tooltip; the bar says only which feed
            self.feed_label.setText(futures_feed_label(book.feed))
            self.feed_label.setToolTip(book.feed)
            self.feed_label.setVisible(True)
        self._show(self.book, stale=book.stale)
        self.refresh_age()

    def is_risk_unknown(self) -> bool:
        return self.stale_reason is not None or self.book is None

    def _show(self, book: FuturesBook | None, stale: bool) -> None:
        account = book.account if book is not None else None
        flex = account.flex if account is not None else None
        cur = flex.currency if flex is not None else ""
        for figure, value in ((self.margin_equity, flex and flex.margin_equity),
                              (self.maintenance, flex and flex.maintenance_margin),
                              (self.initial, flex and flex.initial_margin),
                              (self.available, flex and flex.available_margin),
                              (self.portfolio, flex and flex.portfolio_value)):
            figure.set_text(fmt.fmt_money(value, cur) if flex is not None else fmt.DASH)
        unknown = stale or account is None
        risk = Risk.UNKNOWN if unknown else Risk(account.risk)
        critical = margin_thresholds(self.thresholds)[Risk.CRITICAL]
        self.gauge.set_values(account.margin_level if account else None, critical, LIQUIDATION_LEVEL, risk)
        positions = book.positions if book is not None else ()
        worst = risk if unknown else Risk(max([risk, *map(_RISK, positions)]))
        if unknown:
            text, bg, fg = RISK_UNKNOWN, QColor("#616161"), QColor("#ffffff")
            tip = "Futures data is stale or was never read: risk unknown" + (
                f" ({self.stale_reason})" if self.stale_reason else "")
        else:
            text, bg = f"RISK: {worst.label.upper()}", theme.risk_color(worst)
            fg = QColor("#000000") if worst is Risk.WATCH else QColor("#ffffff")
            tip = f"Futures account: {risk.label}"
            if worst > risk:
                culprit = max(positions, key=_RISK)
                tip += f"; {culprit.position.pair} {culprit.position.margin_mode.value} position: {worst.label}"
        self._paint_risk(text, tip, bg, fg)

    def _paint_risk(self, text: str, tip: str, bg: QColor, fg: QColor) -> None:
        self.risk_label.setText(text)
        self.risk_label.setToolTip(tip)
        style = (f"QLabel#futuresRiskLabel {{ background: {bg.name()}; color: {fg.name()}; font-weight: bold;"
                 " border-radius: 4px; padding: 4px 8px; }")
        if style != self.risk_label.styleSheet():  # a style sheet set re-polishes the label: every read otherwise
            self.risk_label.setStyleSheet(style)

    def refresh_age(self) -> None:
        if self._as_of is None:
            self.age.set_text("waiting\u2026" if self.stale_reason else fmt.DASH)
            return
        self.age.set_text(fmt.fmt_duration(self._clock() - self._as_of) + " ago")

    def show_not_watched(self, reason: str) -> None:
        """Live without a futures key: say plainly that this account is not being watched, and why."""
        self.book, self.stale_reason, self._as_of = None, reason, None
        self._show(None, stale=True)
        self._paint_risk(NOT_WATCHED, reason, QColor("#616161"), QColor("#ffffff"))
        self.show_outcome(f"{reason} Futures positions, if you hold any, are not monitored.", False)
        self.refresh_age()

    def show_outcome(self, text: str, ok: bool) -> None:
        """Kraken's answer to a leverage change, under the bar until the next one."""
        self.outcome_label.setText(text)
        self.outcome_label.setVisible(bool(text))
        self.outcome_label.setStyleSheet("" if ok else "color: #c62828; font-weight: bold;")
