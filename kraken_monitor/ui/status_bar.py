"""Status bar: connection state, last good poll time, and a red 'RISK UNKNOWN' banner when data is stale."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QStatusBar, QStyle, QStyleOption

from kraken_monitor.domain.models import Snapshot
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui.account_bar import steady_text


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ElidedLabel(QLabel):
    """A one-line label that elides to the space it is given (full text in the tooltip), never widening its window.

    A plain QLabel's minimum width is its whole text: a long stale reason pushed the main window past
    the screen (hiding the RISK badge) and that width was saved with the layout.
    """

    MIN_WIDTH = 120

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.MIN_WIDTH, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(min(super().sizeHint().width(), 10_000), super().sizeHint().height())

    def shown_text(self) -> str:
        """The text as painted at the current width (ends in '…' when it does not fit)."""
        margins = self.contentsMargins()
        width = max(self.width() - margins.left() - margins.right(), 0)
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, width)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, option, painter, self)
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())


class MonitorStatusBar(QStatusBar):
    """GUI thread only; the stale banner's age ticks once a second from a local QTimer."""

    def __init__(self, clock: Callable[[], datetime] = _utcnow, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._last_good: datetime | None = None
        self.banner = ElidedLabel()
        self.banner.setObjectName("staleBanner")
        self.banner.setStyleSheet(
            "QLabel#staleBanner { background: #c62828; color: white; font-weight: bold; padding: 2px 10px; }"
        )
        self.banner.hide()
        self.connection = QLabel("starting\u2026")
        self.connection.setObjectName("connectionLabel")
        # Which price feed is live (issue 17): the WebSocket stream, or REST polling (by choice or as fallback).
        self.price_feed = QLabel()
        self.price_feed.setObjectName("priceFeedLabel")
        self.price_feed.hide()
        self.last_poll = QLabel("last update: " + fmt.DASH)
        self.last_poll.setObjectName("lastPollLabel")
        self.api_url = QLabel()
        self.api_url.setObjectName("apiUrlLabel")
        self.api_url.hide()
        # Shown after a terminal error (bad key): polling stopped until the trader reconnects (or F5).
        self.reconnect_button = QPushButton("Reconnect")
        self.reconnect_button.setObjectName("reconnectButton")
        self.reconnect_button.setToolTip("Try the exchange again with the current API key (F5)")
        self.reconnect_button.hide()
        self.journal = QLabel()
        self.journal.setObjectName("journalLabel")
        self.journal.setStyleSheet("QLabel#journalLabel { color: #c62828; font-weight: bold; }")
        self.journal.hide()
        self.addWidget(self.banner, 1)
        self.addWidget(self.reconnect_button)
        self.addPermanentWidget(self.journal)
        self.addPermanentWidget(self.api_url)
        self.addPermanentWidget(self.price_feed)
        self.addPermanentWidget(self.connection)
        self.addPermanentWidget(self.last_poll)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def set_api_url(self, url: str) -> None:
        """Shown only when it is not Kraken's own API ('' hides it)."""
        self.api_url.setText(f"API: {url}" if url else "")
        self.api_url.setVisible(bool(url))

    def set_connection(self, text: str) -> None:
        """Slot for the worker's `status_changed(str)`."""
        self.connection.setText(text)

    def set_price_feed(self, text: str) -> None:
        """Slot for the streaming worker's `price_feed_changed(str)`; the full words stay in the tooltip."""
        self.price_feed.setText(text)
        self.price_feed.setToolTip(text)
        self.price_feed.setVisible(bool(text))

    def set_journal(self, text: str) -> None:
        """Slot for the worker's `journal_status`: "not recording: <reason>" stays until writes work again."""
        self.journal.setText(text)
        self.journal.setToolTip(text)
        self.journal.setVisible(bool(text))

    def journal_text(self) -> str:
        return "" if self.journal.isHidden() else self.journal.text()

    def show_reconnect(self, *_message: object) -> None:
        """Slot for the worker's `auth_failed`: offer Reconnect until fresh data arrives again."""
        self.reconnect_button.show()

    def set_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        if not snapshot.stale:
            self._last_good = snapshot.as_of
            self.reconnect_button.hide()
        self.connection.setText(f"connection: {snapshot.connection}")
        self.refresh()

    def data_time(self) -> datetime | None:
        """When the data on screen was last fresh (oldest of prices and account)."""
        snap = self._snapshot
        if snap is None:
            return None
        times = [t for t in (snap.prices_as_of, snap.account_as_of) if t is not None]
        return min(times) if times else self._last_good  # None: nothing was ever read

    def is_stale(self) -> bool:
        return self._snapshot is not None and self._snapshot.stale

    def banner_text(self) -> str:
        return "" if self.banner.isHidden() else self.banner.text()

    def refresh(self) -> None:
        if self._last_good is not None:
            steady_text(self.last_poll, "last update: " + fmt.fmt_time(self._last_good))
        if not self.is_stale():
            self.banner.hide()
            return
        when = self.data_time()
        reason = self._snapshot.stale_reason if self._snapshot else ""
        if when is None:
            text = "RISK UNKNOWN: never read"
        else:
            text = f"RISK UNKNOWN: data {fmt.fmt_duration(self._clock() - when)} old"
        self.banner.setText(text + (f" ({reason})" if reason else ""))
        self.banner.show()
