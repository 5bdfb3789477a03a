"""Account bar: mode badge, balances, margin-level gauge with call/liquidation marks, data age."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from operator import attrgetter

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from kraken_monitor.domain import whatif
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.models import AccountFigures, PositionFigures, Risk, Snapshot
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.fx import fx_sensitivity_text
from kraken_monitor.ui import theme

RISK_UNKNOWN = "RISK UNKNOWN"
_RISK = attrgetter("risk")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class MarginGauge(QWidget):
    """Horizontal gauge of the margin level; red/orange ticks at the liquidation and margin-call levels."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("marginGauge")
        self.level: Decimal | None = None
        self.call_level = Decimal("80")
        self.liquidation_level = Decimal("40")
        self.risk = Risk.UNKNOWN
        self._shown: tuple | None = None
        self.extra_tip: Callable[[], str] | None = None  # computed only when the tooltip is asked for
        self.call_name = "margin call"  # Kraken Futures has no call: its bar names its critical level instead
        self.setMinimumSize(220, 34)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(300, 38)

    def set_values(self, level: Decimal | None, call: Decimal, liquidation: Decimal, risk: Risk) -> None:
        key = (level, call, liquidation, int(risk))
        if key == self._shown:
            return  # same figures: no tooltip rebuild, no repaint
        self._shown = key
        self.level, self.call_level, self.liquidation_level, self.risk = level, call, liquidation, Risk(risk)
        text = fmt.fmt_level(level, none="no margin used")
        self.setToolTip(
            f"Margin level {text}; {self.call_name} at {fmt.fmt_threshold(call)} %, "
            f"liquidation at {fmt.fmt_threshold(liquidation)} %"
        )
        self.update()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.extra_tip is not None:
            extra = self.extra_tip()
            QToolTip.showText(event.globalPos(), self.toolTip() + (f"\n{extra}" if extra else ""), self)
            return True
        return super().event(event)

    @staticmethod
    def mark_text(level: Decimal) -> str:
        """Label under a call/liquidation tick: the configured level as the popup states it, e.g. '82.5%'."""
        return fmt.fmt_threshold(level) + "%"

    def scale_max(self) -> float:
        # Enough room to show the call level comfortably; grows with the level up to a cap.
        base = float(self.call_level) * 3.5
        if self.level is not None:
            base = max(base, min(float(self.level) * 1.15, 2000.0))
        return base

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = QRectF(1, 4, self.width() - 2, self.height() - 16)
        pal = self.palette()
        p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        p.setBrush(pal.color(QPalette.ColorRole.Base))
        p.drawRoundedRect(bar, 3, 3)
        top = self.scale_max()

        def x_of(value: float) -> float:
            return bar.left() + bar.width() * max(0.0, min(value / top, 1.0))

        unknown = self.risk is Risk.UNKNOWN
        if self.level is not None and not unknown:
            fill = QRectF(bar.left(), bar.top(), x_of(float(self.level)) - bar.left(), bar.height())
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.risk_color(self.risk))
            p.drawRoundedRect(fill, 3, 3)
        elif unknown:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.risk_background(Risk.UNKNOWN) or QColor("#999999"))
            p.drawRoundedRect(bar, 3, 3)
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.75))
        p.setFont(small)
        labelled: list[float] = []
        for value, color in ((self.liquidation_level, theme.LINE_LIQUIDATION), (self.call_level, theme.LINE_MARGIN_CALL)):
            x = x_of(float(value))
            p.setPen(QPen(QColor(color), 2))
            p.drawLine(int(x), int(bar.top()) - 3, int(x), int(bar.bottom()) + 2)
            if any(abs(x - other) < 48 for other in labelled):
                continue  # two ticks squeezed together by a high level: one label, never "10040%" (tooltip has both)
            labelled.append(x)
            p.setPen(pal.color(QPalette.ColorRole.WindowText))
            p.drawText(QRectF(x - 24, bar.bottom() + 1, 48, 12), Qt.AlignmentFlag.AlignCenter, self.mark_text(value))
        label = RISK_UNKNOWN if unknown else fmt.fmt_level(self.level, none="no margin used")
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(pal.color(QPalette.ColorRole.Text))
        p.drawText(bar.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        p.end()


class _Figure(QWidget):
    """A caption over a value, e.g. 'Equity' / '20,123.45 USD'."""

    def __init__(self, caption: str, tip: str = "", parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(0)
        self.caption = QLabel(caption)
        small = self.caption.font()
        small.setPointSizeF(small.pointSizeF() * 0.85)
        self.caption.setFont(small)
        self.caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.value = QLabel(fmt.DASH)
        bold = self.value.font()
        bold.setBold(True)
        self.value.setFont(bold)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        if tip:
            self.setToolTip(tip)

    def set_text(self, text: str) -> None:
        steady_text(self.value, text)


def steady_text(label: QLabel, text: str) -> None:
    """Set a one-line label's text with a fixed size that only grows (issue 17.7): a fixed size makes
    QWidget::updateGeometry a no-op, so a figure changing every tick repaints itself instead of re-laying out
    the whole window (~8 relayouts a second while idle).

    The width of a plain text comes from the font's advance plus the padding its size hint added the first
    time (per font and style): a selectable label's size hint lays its text out in a QTextDocument three
    times over, which was a tenth of the GUI thread's idle time."""
    fixed = label.minimumSize() == label.maximumSize()
    if text == label.text() and fixed:
        return  # most figures do not move on a tick: nothing to measure
    label.setText(text)
    metrics, key = label.fontMetrics(), (label.font().key(), id(label.style()))
    padding = getattr(label, "_steady_padding", None)
    if fixed and padding is not None and padding[0] == key and "<" not in text:
        width = metrics.horizontalAdvance(text) + padding[1]
        if width > label.width():
            label.setFixedWidth(width)  # wider text: one relayout
        return
    hint = label.sizeHint()
    label._steady_padding = (key, hint.width() - metrics.horizontalAdvance(text))
    width, height = max(hint.width(), label.minimumWidth()), hint.height()
    if not fixed or width > label.width() or height != label.height():
        label.setFixedSize(width, height)  # the first time, another font, or wider text: one relayout


def badge_box(venue: str, badge: QLabel) -> QVBoxLayout:
    """The mode badge under the venue's name ("Spot margin", "Kraken Futures") when the window shows several."""
    box = QVBoxLayout()
    box.setSpacing(0)
    box.setContentsMargins(0, 0, 0, 0)
    caption = QLabel(venue)
    caption.setObjectName("venueCaption")
    caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
    small = caption.font()
    small.setPointSizeF(small.pointSizeF() * 0.85)
    small.setBold(True)
    caption.setFont(small)
    caption.setVisible(bool(venue))
    box.addWidget(caption)
    box.addWidget(badge)
    return box


class AccountBar(QFrame):
    """Top bar of the main window; GUI thread only. `clock` is injectable so tests can fix 'now'."""

    def __init__(self, mode: AccountKind | str = AccountKind.DEMO, clock: Callable[[], datetime] = _utcnow, parent=None,
                 venue: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("accountBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._clock = clock
        self._snapshot: Snapshot | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(10)
        self.mode_badge = QLabel()
        self.mode_badge.setObjectName("modeBadge")
        self.mode_badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mode_badge.setMinimumWidth(64)
        layout.addLayout(badge_box(venue, self.mode_badge))
        self.trade_balance = _Figure("Trade balance", "Collateral value (Kraken tb)")
        self.equity = _Figure("Equity", "Trade balance + unrealised P&L (Kraken e)")
        self.used_margin = _Figure("Used margin", "Sum of used margin; shorts revalued at the current price")
        self.free_margin = _Figure("Free margin", "Equity - used margin")
        for w in (self.trade_balance, self.equity, self.used_margin, self.free_margin):
            layout.addWidget(w)
        gauge_box = QVBoxLayout()
        gauge_box.setSpacing(0)
        self.level_caption = QLabel("Margin level")
        gauge_box.addWidget(self.level_caption)
        self.gauge = MarginGauge()
        self.gauge.extra_tip = self.gauge_extra_text
        gauge_box.addWidget(self.gauge)
        layout.addLayout(gauge_box, 1)
        self.exchange_level = _Figure("Kraken ml", "Margin level as Kraken reports it (live only)")
        layout.addWidget(self.exchange_level)
        self.age = _Figure("Updated", "Age of the account data")
        layout.addWidget(self.age)
        self.risk_label = QLabel(RISK_UNKNOWN)
        self.risk_label.setObjectName("riskLabel")
        self.risk_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.risk_label.setMinimumWidth(120)
        layout.addWidget(self.risk_label)
        self.set_mode(mode)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh_age)
        self._timer.start()
        self._show_account(None, stale=True)

    def set_mode(self, mode: AccountKind | str) -> None:
        mode = AccountKind.parse(mode)
        badge = mode.value.upper()
        if badge == self.mode_badge.text():
            return  # every snapshot calls this; re-applying a style sheet re-polishes the label (~0.1 ms)
        bg, fg = theme.mode_colors(mode)
        self.mode_badge.setText(badge)
        self.mode_badge.setToolTip(
            f"{badge}: no real money at risk" if mode.simulated else "LIVE: real money on Kraken"
        )
        self.mode_badge.setStyleSheet(
            f"QLabel#modeBadge {{ background: {bg}; color: {fg}; font-weight: bold; border-radius: 4px;"
            " padding: 4px 10px; }"
        )

    def set_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.set_mode(snapshot.mode)
        self._show_account(snapshot.account, stale=snapshot.stale, positions=snapshot.positions)
        self.refresh_age()

    def gauge_extra_text(self) -> str:
        """The gauge tooltip's extra lines: rollover carry, then collateral FX sensitivity."""
        snap = self._snapshot
        fx_lines = ""
        if snap is not None and not snap.stale and snap.account is not None:
            fx_lines = fx_sensitivity_text(snap.account.fx_sensitivity)
        return "\n".join(part for part in (self.carry_text(), fx_lines) if part)

    def carry_text(self) -> str:
        """How long rollover fees alone (flat prices) take to reach the margin call: Kraken does not say."""
        snap = self._snapshot
        state = snap.account_state() if snap is not None and not snap.stale else None
        if state is None or not state.positions:
            return ""
        level = snap.account.margin_level
        if level is not None and level <= snap.account.margin_call_level:
            return "Already at or below the margin call."
        try:
            left = whatif.time_to_margin_call(state, snap.prices(), snap.pair_rules, snap.as_of)
        except DomainError:
            return ""
        if left is None:
            return "Rollover fees alone never reach the margin call at these prices."
        return f"At flat prices, rollover fees alone reach the margin call in {fmt.fmt_duration(left)}."

    def is_risk_unknown(self) -> bool:
        return self._snapshot is None or self._snapshot.stale or self._snapshot.account is None

    def _show_account(
        self, account: AccountFigures | None, stale: bool, positions: tuple[PositionFigures, ...] = ()
    ) -> None:
        cur = account.currency if account else ""
        self.trade_balance.set_text(fmt.fmt_money(account.trade_balance, cur) if account else fmt.DASH)
        self.equity.set_text(fmt.fmt_money(account.equity, cur) if account else fmt.DASH)
        self.used_margin.set_text(fmt.fmt_money(account.used_margin, cur) if account else fmt.DASH)
        self.free_margin.set_text(fmt.fmt_money(account.free_margin, cur) if account else fmt.DASH)
        exchange = account.margin_level_exchange if account else None
        self.exchange_level.setVisible(exchange is not None)
        self.exchange_level.set_text(fmt.fmt_pct(exchange))
        unknown = stale or account is None
        risk = Risk.UNKNOWN if unknown else Risk(account.risk)
        if account is not None:
            self.gauge.set_values(account.margin_level, account.margin_call_level, account.liquidation_level, risk)
        else:
            self.gauge.set_values(None, self.gauge.call_level, self.gauge.liquidation_level, Risk.UNKNOWN)
        # The badge shows the worst risk anywhere: an isolated position can be near its own liquidation
        # while the cross account is comfortable, and the badge must not read "OK" then.
        worst = Risk(max([risk, *map(_RISK, positions)])) if not unknown else risk
        tip = f"Cross account: {risk.label}"
        if worst > risk:
            culprit = max(positions, key=lambda pf: pf.risk)
            tip += f"; {culprit.position.pair} {culprit.position.margin_mode.value} position: {worst.label}"
        bg = theme.risk_color(worst)
        if unknown:
            text, bg, fg = RISK_UNKNOWN, QColor("#616161"), QColor("#ffffff")
            tip = "Data is stale or the account was never read: risk unknown"
        else:
            text = f"RISK: {worst.label.upper()}"
            fg = QColor("#000000") if worst is Risk.WATCH else QColor("#ffffff")
        if tip != self.risk_label.toolTip():
            self.risk_label.setToolTip(tip)
        if text != self.risk_label.text():
            self.risk_label.setText(text)
        style = (
            f"QLabel#riskLabel {{ background: {bg.name()}; color: {fg.name()}; font-weight: bold;"
            " border-radius: 4px; padding: 4px 8px; }"
        )
        if style != self.risk_label.styleSheet():
            self.risk_label.setStyleSheet(style)

    def refresh_age(self) -> None:
        """Cheap once-a-second label update (no recomputation)."""
        snap = self._snapshot
        if snap is None:
            self.age.set_text("waiting\u2026")
            return
        as_of = snap.account_as_of or snap.as_of
        self.age.set_text(fmt.fmt_duration(self._clock() - as_of) + " ago")
