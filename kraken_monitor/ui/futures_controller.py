"""Feeds the futures panel from its poll thread and sends the leverage changes the trader confirms."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QWidget

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.futures_alerts import FuturesAlertTracker
from kraken_monitor.exchange.errors import AuthFailed, CredentialsMissing
from kraken_monitor.ui.change_leverage_dialog import ChangeLeverageDialog
from kraken_monitor.ui.futures_panel import FuturesPanel
from kraken_monitor.worker.futures_watch import FuturesPoller, LeverageOutcome


class FuturesController(QObject):
    """Lives in the GUI thread; the poller's thread never touches a Qt object (results come through a queue).

    `alerts_fired` carries the futures Alert records (account named) for the alert log.
    """

    alerts_fired = Signal(object)  # tuple[Alert, ...]

    def __init__(self, panel: FuturesPanel, poller: FuturesPoller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel, self.poller = panel, poller
        self.book: FuturesBook | None = None
        self.alerts = FuturesAlertTracker(f"futures {poller.mode}")
        self.dialog_parent: QWidget | None = panel
        panel.change_leverage_requested.connect(self.change_leverage)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.pump)

    @classmethod
    def start(cls, panel: FuturesPanel, config: MonitorConfig, interval_s: float,
              parent: QObject | None = None) -> FuturesController:
        controller = cls(panel, FuturesPoller(config, interval_s).start(), parent)
        controller.timer.start(200)
        return controller

    def pump(self) -> None:
        while not self.poller.results.empty():
            item = self.poller.results.get_nowait()
            if isinstance(item, FuturesBook):
                if not item.stale:
                    self.book = item
                self.panel.set_book(item)
                fired = self.alerts.update(item)
                if fired:
                    self.alerts_fired.emit(fired)
            elif isinstance(item, LeverageOutcome):
                self.panel.show_outcome(item.message, item.ok)
            elif isinstance(item, CredentialsMissing):
                self.panel.show_not_watched(str(item))
            elif isinstance(item, AuthFailed):
                self.panel.show_outcome(f"futures authentication failed: {item}", False)

    def change_leverage(self, position_id: str) -> None:
        book = self.book
        figures = next((pf for pf in book.positions if pf.position.id == position_id), None) if book else None
        if book is None or book.account is None or figures is None or figures.position.pair not in book.contracts:
            self.panel.show_outcome("No fresh futures figures for this position yet; try after the next read.", False)
            return
        dialog = ChangeLeverageDialog(figures, book.contracts[figures.position.pair], book.account.flex,
                                      self.dialog_parent)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            leverage = None if dialog.back_to_cross else dialog.leverage()
            if leverage is None and not dialog.back_to_cross:
                return
            self.poller.request_leverage(figures.position.pair, leverage)
            self.panel.show_outcome("Sent to Kraken; waiting for its answer…", True)
        finally:
            dialog.deleteLater()

    def stop(self) -> None:
        self.timer.stop()
        self.poller.stop()
