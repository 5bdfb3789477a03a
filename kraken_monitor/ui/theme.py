"""Risk and mode colours for tables, badges and gauges; picks light or dark variants from the palette."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPalette

from kraken_monitor.domain.models import Risk
from kraken_monitor.domain.venue import AccountKind

# (background, foreground) per risk. OK has no background so the table reads calm; UNKNOWN is a
# hatched grey so stale rows can never be mistaken for "ok".
_LIGHT = {
    Risk.OK: (None, None),
    Risk.WATCH: ("#fff6c2", "#000000"),
    Risk.WARNING: ("#ffd9a0", "#000000"),
    Risk.CRITICAL: ("#ff9e8f", "#000000"),
    Risk.LIQUIDATION: ("#c62828", "#ffffff"),
    Risk.UNKNOWN: ("#c9c9c9", "#303030"),
}
_DARK = {
    Risk.OK: (None, None),
    Risk.WATCH: ("#5a5214", "#ffffff"),
    Risk.WARNING: ("#7a4a10", "#ffffff"),
    Risk.CRITICAL: ("#8e2a1e", "#ffffff"),
    Risk.LIQUIDATION: ("#d32f2f", "#ffffff"),
    Risk.UNKNOWN: ("#4a4a4a", "#d0d0d0"),
}

# Mode badges: LIVE must be unmistakable (real money), DEMO/PAPER calm.
MODE_COLORS = {
    AccountKind.LIVE: ("#c62828", "#ffffff"),
    AccountKind.PAPER: ("#1565c0", "#ffffff"),
    AccountKind.DEMO: ("#2e7d32", "#ffffff"),
}

# Replay: a colour no risk level or mode badge uses, so history can never pass for live data.
REPLAY_COLORS = ("#4a148c", "#ffffff")

GAUGE_OK = "#43a047"
CHART_PRICE = "#1e88e5"
CHART_MARGIN = "#8e24aa"
LINE_ENTRY = "#757575"
LINE_BREAK_EVEN = "#00897b"
LINE_MARGIN_CALL = "#fb8c00"
LINE_LIQUIDATION = "#e53935"
# Protective orders (issue 16): dashed, and hues apart from the margin-call orange and liquidation red.
LINE_STOP_LOSS = "#d81b60"
LINE_TAKE_PROFIT = "#43a047"
LINE_TRAILING = "#8e24aa"


def is_dark() -> bool:
    """True when the application's window colour is dark (system dark theme)."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def risk_colors(risk: Risk) -> tuple[QColor | None, QColor | None]:
    table = _DARK if is_dark() else _LIGHT
    bg, fg = table.get(Risk(risk), (None, None))
    return (QColor(bg) if bg else None, QColor(fg) if fg else None)


def risk_background(risk: Risk) -> QBrush | None:
    bg, _fg = risk_colors(risk)
    if bg is None:
        return None
    if Risk(risk) is Risk.UNKNOWN:
        brush = QBrush(bg, Qt.BrushStyle.Dense4Pattern)  # hatched: "we do not know", not a calm grey
        return brush
    return QBrush(bg)


def risk_foreground(risk: Risk) -> QBrush | None:
    _bg, fg = risk_colors(risk)
    return QBrush(fg) if fg is not None else None


# Saturated variants for gauges and badges: pale table tints would be unreadable as a bar fill.
_SOLID = {
    Risk.OK: GAUGE_OK,
    Risk.WATCH: "#f9a825",
    Risk.WARNING: "#ef6c00",
    Risk.CRITICAL: "#d32f2f",
    Risk.LIQUIDATION: "#8e0000",
    Risk.UNKNOWN: "#757575",
}


def risk_color(risk: Risk) -> QColor:
    """A solid colour for a risk level (gauges, badges); OK is green."""
    return QColor(_SOLID.get(Risk(risk), "#757575"))


def mode_colors(mode: AccountKind) -> tuple[str, str]:
    return MODE_COLORS[AccountKind.parse(mode)]
