"""Feeds the window from the futures poll thread (books, answers, alerts) and sends the leverage changes confirmed."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QDialog, QWidget

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.futures_alerts import FuturesAlertTracker
from kraken_monitor.domain.models import FUTURES_KEY_PREFIX
from kraken_monitor.domain.venue import AccountKind, Venue
from kraken_monitor.exchange.errors import AuthFailed, CredentialsMissing
from kraken_monitor.text.accounts import account_name
from kraken_monitor.ui.change_leverage_dialog import ChangeLeverageDialog
from kraken_monitor.ui.transfer_collateral_dialog import LIVE_CURRENCIES, TransferCollateralDialog
from kraken_monitor.worker.futures_watch import FuturesNotice, FuturesPoller, LeverageOutcome, TransferOutcome
from kraken_monitor.worker.futures_watchdog import FuturesWatchdog, futures_watchdog_windows
from kraken_monitor.worker.requests import ChangeLeverage, TransferToFlex

SILENCE_CHECK_MS = 1000


class FuturesController(QObject):
    """Lives in the GUI thread; the poller's thread never touches a Qt object (results come through a queue).

    It touches no widget either: the session (ui/session.py FUTURES_TO_GUI) connects its signals to the
    window. `alerts_fired` carries the futures Alert records (account named) for the journal and the log.
    """

    book_ready = Signal(object)  # FuturesBook, fresh or stale (with the reason)
    outcome_ready = Signal(str, bool)  # Kraken's answer to a leverage change (text, accepted)
    not_watched = Signal(str)  # live without a futures key: why the account is not monitored
    alerts_fired = Signal(object)  # tuple[Alert, ...]
    _results_put = Signal()  # emitted in the poll thread, delivered queued: drain now

    def __init__(self, poller: FuturesPoller, parent: QObject | None = None,
                 monotonic: Callable[[], float] = time.monotonic, *,
                 windows: tuple[float, float] | None = None) -> None:
        super().__init__(parent)
        self.poller = poller
        # The spot poll thread's rules (worker/watchdog.py): no book within the configured stale window ->
        # the last figures stay, every risk unknown, with the reason.
        window_s, startup_s = windows or futures_watchdog_windows(MonitorConfig(), 1.0)
        self.watchdog = FuturesWatchdog(window_s, startup_s, poller.activity, poller.mode, monotonic)
        self.book: FuturesBook | None = None
        self.account = account_name(Venue.FUTURES, poller.mode)
        self.alerts = FuturesAlertTracker(self.account)
        self.dialog_parent: QWidget | None = None
        self.config: MonitorConfig | None = None  # live trading on/off for protective orders (issue 16)
        # Results are drained when the poller puts one (a queued signal); the timer is the silence check's
        # cadence (and drains a poller that cannot notify): 1 s, not 200 ms (5 wakeups a second, issue 17.7).
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.pump)
        self._results_put.connect(self._pump_once, Qt.ConnectionType.QueuedConnection)
        self._pump_queued = False
        results = getattr(poller, "results", None)
        if results is not None and hasattr(results, "listener"):
            results.listener = self._on_result_put

    @classmethod
    def start(cls, config: MonitorConfig, interval_s: float, parent: QObject | None = None,
              poller_factory: Callable[[MonitorConfig, float], FuturesPoller] = FuturesPoller) -> FuturesController:
        controller = cls(poller_factory(config, interval_s).start(), parent,
                         windows=futures_watchdog_windows(config, interval_s))
        controller.config = config
        controller.timer.start(SILENCE_CHECK_MS)
        return controller

    def _on_result_put(self) -> None:
        """Poll thread: one queued pump at a time (a burst of results is drained by one)."""
        if not self._pump_queued:
            self._pump_queued = True
            self._results_put.emit()

    def _pump_once(self) -> None:
        self._pump_queued = False
        self.pump()

    def pump(self) -> None:
        while not self.poller.results.empty():
            item = self.poller.results.get_nowait()
            if isinstance(item, FuturesBook):
                self.watchdog.saw_snapshot(item)
                if not item.stale:
                    self.book = item
                self._show_book(item)
            elif isinstance(item, LeverageOutcome | TransferOutcome):
                self.outcome_ready.emit(item.message, item.ok)
            elif isinstance(item, FuturesNotice):
                self.outcome_ready.emit(item.message, False)
            elif isinstance(item, CredentialsMissing):
                self.not_watched.emit(str(item))
            elif isinstance(item, AuthFailed):
                self.outcome_ready.emit(f"futures authentication failed: {item}", False)
        self._check_silence()

    def _show_book(self, book: FuturesBook) -> None:
        self.book_ready.emit(book)
        fired = self.alerts.update(book)
        if fired:
            self.alerts_fired.emit(fired)

    def on_alerts_changed(self, alerts) -> None:
        """Acknowledged / snoozed anywhere (the spot worker's engine keeps the records): a snoozed futures
        alert stays quiet at its level until its time."""
        for alert in alerts or ():
            self.alerts.follow(alert)

    def _check_silence(self) -> None:
        """Fail closed when the poll thread stops answering: the rows stay, every risk reads unknown."""
        if not self.poller.is_alive():
            return  # it ended (stopped, or an authentication failure said so already)
        reason, started = self.watchdog.check()
        if not started:
            return  # answering, or this episode already shown
        self.book = None  # no leverage change or transfer on figures this old
        self._show_book(self.watchdog.unknown_book(reason))

    def change_leverage(self, position_id: str, to_cross: bool = False) -> None:
        """The table's selection ("futures:<id>") or a popup's position (Kraken's id): the dialog, then Kraken."""
        position_id = position_id.removeprefix(FUTURES_KEY_PREFIX)
        book = self.book
        figures = next((pf for pf in book.positions if pf.position.id == position_id), None) if book else None
        if book is None or book.account is None or figures is None or figures.position.pair not in book.contracts:
            self.outcome_ready.emit("No fresh futures figures for this position yet; try after the next read.", False)
            return
        dialog = ChangeLeverageDialog(figures, book.contracts[figures.position.pair], book.account.flex,
                                      self.dialog_parent, book=book, to_cross=to_cross)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            if self.book is None:  # the poll thread went silent while the dialog was open
                self.outcome_ready.emit("Not sent: the futures figures went stale while the dialog was open.", False)
                return
            leverage = None if dialog.back_to_cross else dialog.leverage()
            if leverage is None and not dialog.back_to_cross:
                return
            self.poller.handle(ChangeLeverage(figures.position.pair, leverage))
            self.outcome_ready.emit("Sent to Kraken; waiting for its answer…", True)
        finally:
            dialog.deleteLater()

    # Protective orders (issue 16): ui/futures_protect.py runs the dialog and sends the record to the poller.
    def protect(self, position_id: str) -> None:
        from kraken_monitor.ui import futures_protect

        futures_protect.protect(self, position_id)

    def protect_order(self, order) -> None:
        from kraken_monitor.ui import futures_protect

        futures_protect.protect(self, order.position_id or "", order.id)

    def move_order(self, row_id: str, order_id: str, trigger) -> None:
        """A futures order line dragged on the chart: confirmed like the Protect dialog's modify, then sent."""
        from kraken_monitor.ui import futures_chart_move

        futures_chart_move.move_order(self, row_id, order_id, trigger)

    def cancel_order(self, order) -> None:
        from kraken_monitor.ui import futures_protect

        futures_protect.cancel(self, order)

    def switch_margin_mode(self, position_id: str) -> None:
        """Position > Switch margin mode...: an isolated position goes back to cross (previewed); a cross one is
        made isolated at the leverage typed (the same dialog, its isolated half)."""
        position_id = position_id.removeprefix(FUTURES_KEY_PREFIX)
        book = self.book
        figures = next((pf for pf in book.positions if pf.position.id == position_id), None) if book else None
        isolated = figures is not None and figures.allocated_margin is not None
        self.change_leverage(position_id, to_cross=isolated)

    def transfer_collateral(self) -> None:
        """Position > Transfer futures collateral...: cash wallet -> flex (cross "add margin"), confirmed first."""
        book = self.book
        if book is None or book.account is None:
            self.outcome_ready.emit("No fresh futures account figures yet; try after the next read.", False)
            return
        simulated = AccountKind.parse(self.poller.mode).simulated
        dialog = TransferCollateralDialog(book.account.flex, self.poller.mode,
                                          ("USD",) if simulated else LIVE_CURRENCIES, self.dialog_parent)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.amount() is None:
                return
            if self.book is None:
                self.outcome_ready.emit("Not sent: the futures figures went stale while the dialog was open.", False)
                return
            self.poller.handle(TransferToFlex(dialog.amount(), dialog.currency()))
            self.outcome_ready.emit("Transfer sent to Kraken; waiting for its answer…", True)
        finally:
            dialog.deleteLater()

    def stop(self) -> None:
        self.timer.stop()
        results = getattr(self.poller, "results", None)
        if results is not None and getattr(results, "listener", None) == self._on_result_put:
            results.listener = None
        self.poller.stop()
