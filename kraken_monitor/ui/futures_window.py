"""The main window's Kraken Futures parts (issue 15): its account bar, the account filter, Change leverage...."""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.models import Risk
from kraken_monitor.text import futures_chart as chart_words
from kraken_monitor.ui.account_filter import AccountFilter
from kraken_monitor.ui.futures_account_bar import FuturesAccountBar
from kraken_monitor.ui.positions_futures import FuturesRow

# Marks kept per contract for the chart (GUI thread), so a chart built late, a replay's way back or a row
# selected later still draws the session's history: about 5.5 hours of 1-second reads per contract.
MARK_HISTORY = 20_000
MARGIN_HISTORY_KEY = ""  # the futures account's margin level, beside the contracts' marks

FUTURES_ROW_REASON = "a Kraken Futures position (use Change leverage..., Ctrl+Shift+L, or Protect position..., Ctrl+P)"


def spot_action_tip(action: QAction, reason: str) -> str:
    """A spot-margin action's tooltip: why it is off (`reason`, a futures row selected) or its shortcut."""
    text = action.text().rstrip(".")
    if reason:
        return f"{text}: {reason}"
    return f"{text} ({action.shortcut().toString()})" if not action.shortcut().isEmpty() else text


class FuturesActionSignals(QObject):
    """The futures actions the session routes to the futures controller (ui/session.py FUTURES_TO_GUI)."""

    margin_mode_requested = Signal(str)  # a futures row's id: Switch margin mode...
    order_move_requested = Signal(str, str, object)  # a chart line dropped on a futures row: (row id, order id, price)
    transfer_requested = Signal()  # Transfer futures collateral...


class FuturesWindow:
    """Builds and feeds the futures widgets of `window` (a MainWindow); GUI thread only.

    Kept out of main_window.py so the window stays a list of wiring: this holds the futures bar, the
    toolbar's account filter (Alt+A, remembered) and the Change leverage... action that follows a futures row.
    """

    def __init__(self, window: Any, mode: Any, extra: dict) -> None:
        self.window = window
        # Every monitored account has its bar: the futures one shows once the session watches it.
        self.bar = FuturesAccountBar(mode, **extra)
        self.bar.setVisible(False)
        self.signals = FuturesActionSignals(window)
        # While replaying: the newest live futures read, held back. The journal records the spot account only,
        # so the replayed moment shows no futures rows or bar rather than live ones under a "not live" banner.
        self._held: FuturesBook | None = None
        self._replaying = False
        self.marks: dict[str, deque[tuple[float, float]]] = {}  # contract (or MARGIN_HISTORY_KEY) -> (ts, value)

    def make_actions(self, settings) -> tuple[QAction, AccountFilter, QAction]:
        """(Change leverage..., the account filter, View > Futures account bar), connected."""
        w = self.window
        leverage = w._action("Change leverage...", "Ctrl+Shift+L",
                             "Kraken Futures: isolated leverage (lower adds margin, higher releases it), or cross")
        leverage.triggered.connect(self._on_change_leverage_triggered)
        w.action_protect.triggered.connect(self._on_protect_triggered)
        account_filter = AccountFilter(settings, w)
        account_filter.changed.connect(w.positions_model.set_account_filter)
        w.positions_model.set_account_filter(account_filter.current())
        show_bar = w._action("Futures account bar", "Ctrl+Shift+F", "Show or hide the Kraken Futures account's bar")
        show_bar.setCheckable(True)
        show_bar.setChecked(True)
        show_bar.setEnabled(False)  # until the session watches a futures account
        show_bar.toggled.connect(self.bar.setVisible)
        # Set on the window for ui/window_menus.py (the Position menu and the table's context menu).
        w.action_switch_margin_mode = w._action(
            "Switch margin mode...", "Ctrl+Shift+K",
            "Kraken Futures: an isolated position back to cross, or a cross one isolated (previewed)")
        w.action_switch_margin_mode.triggered.connect(self._on_switch_margin_mode_triggered)
        w.action_transfer_futures = w._action(
            "Transfer futures collateral...", None,
            "Kraken Futures cross margin: collateral from the futures cash wallet into the flex account")
        w.action_transfer_futures.triggered.connect(self._on_transfer_triggered)
        return leverage, account_filter, show_bar

    def update_actions(self, row: FuturesRow | None) -> None:
        """Change leverage... follows the selection: a futures row with fresh figures, never while replaying."""
        action = self.window.action_change_leverage
        replaying = self.window.replay.active
        fresh = row is not None and row.risk is not Risk.UNKNOWN
        action.setEnabled(fresh and not replaying)
        if row is not None:  # Protect position... works on a fresh futures row as well (issue 16)
            protect = self.window.action_protect
            protect.setEnabled(fresh and not replaying)
            if not replaying:
                protect.setToolTip(f"Protect {row.position.pair} (Ctrl+P)" if fresh else
                                   "Protect position: the futures figures are stale; wait for a fresh read")
        self._update_extra_actions(row, fresh, replaying)
        if replaying:
            return  # the replay controller names its own reason
        if row is None:
            tip = "Change leverage: select a Kraken Futures position"
        elif not fresh:
            tip = "Change leverage: the futures figures are stale; wait for a fresh read"
        else:
            tip = f"Change leverage of {row.position.pair} (Ctrl+Shift+L)"
        action.setToolTip(tip)

    def _update_extra_actions(self, row: FuturesRow | None, fresh: bool, replaying: bool) -> None:
        w = self.window
        switch = getattr(w, "action_switch_margin_mode", None)
        transfer = getattr(w, "action_transfer_futures", None)
        if switch is None or transfer is None:
            return  # still being built
        switch.setEnabled(fresh and not replaying)
        if row is None:
            switch.setToolTip("Switch margin mode: select a Kraken Futures position")
        elif not fresh:
            switch.setToolTip("Switch margin mode: the futures figures are stale; wait for a fresh read")
        else:
            target = "cross" if row.position.margin_mode.value == "isolated" else "isolated"
            switch.setToolTip(f"Switch {row.position.pair} to {target} margin (previewed; Ctrl+Shift+K)")
        account_fresh = w.action_show_futures.isEnabled() and not self.bar.is_risk_unknown()  # watched, fresh
        transfer.setEnabled(account_fresh and not replaying)
        transfer.setToolTip("Transfer futures collateral into the flex account" if account_fresh else
                            "Transfer futures collateral: the futures account is not watched or its figures are stale")

    def _on_switch_margin_mode_triggered(self) -> None:
        w = self.window
        row = w.selected_futures_row()
        if row is not None and w.action_switch_margin_mode.isEnabled():
            self.signals.margin_mode_requested.emit(row.position.id)

    def _on_transfer_triggered(self) -> None:
        if self.window.action_transfer_futures.isEnabled():
            self.signals.transfer_requested.emit()

    def _on_change_leverage_triggered(self) -> None:
        w = self.window
        row = w.selected_futures_row()
        if row is not None and w.action_change_leverage.isEnabled():
            w.change_leverage_requested.emit(row.position.id)

    def _on_protect_triggered(self) -> None:
        w = self.window
        row = w.selected_futures_row()
        if row is not None and w.action_protect.isEnabled():
            w.protect_futures_requested.emit(row.position.id)

    def watch(self, watched: bool) -> None:
        """The session watches a futures account (its bar shows) or stopped watching it."""
        w = self.window
        self.bar.setVisible(watched and w.action_show_futures.isChecked())
        w.action_show_futures.setEnabled(watched)
        if not watched:
            w.positions_model.clear_futures()

    def replay_started(self) -> None:
        """Replay shows a journaled spot moment: the live futures rows and bar step aside until back to live."""
        w = self.window
        self._replaying = True
        w.positions_model.clear_futures()
        w.account_filter.set_accounts(w.positions_model.accounts())
        self.bar.setVisible(False)

    def replay_ended(self) -> None:
        """Back to live: the futures account as last read meanwhile (or as it was), bar as the View menu says."""
        w = self.window
        self._replaying = False
        self.bar.setVisible(w.action_show_futures.isEnabled() and w.action_show_futures.isChecked())
        held, self._held = self._held, None
        if held is not None:
            self.show_book(held)
        elif self.bar.book is not None:
            self.show_book(self.bar.book)

    def show_book(self, book: FuturesBook) -> None:
        """The futures account's read: its bar and its rows in the table (held back while replaying)."""
        w = self.window
        self._record_marks(book)  # live data: kept even while a replay holds the widgets
        if self._replaying:
            self._held = book
            return
        self.bar.set_book(book)
        w.positions_model.set_futures_book(book)
        w.orders_dock.set_futures_book(book)
        w.account_filter.set_accounts(w.positions_model.accounts())
        row = w.selected_futures_row()
        self.update_actions(row)
        chart = w._chart if not w.replay.active else None  # a deferred chart is backfilled when it is built
        if chart is not None:
            chart.append_futures_book(book)
            if row is not None:
                chart.show_futures(row)

    # --- the chart on a futures row (ui/chart_futures.py) ----------------------------------------
    def _record_marks(self, book: FuturesBook) -> None:
        if book.stale:
            return  # a stale read carries no marks (and its rows are the last fresh ones)
        ts = book.as_of.timestamp()
        points = [(pf.position.pair, pf.mark_price) for pf in book.positions]
        if book.account is not None and book.account.margin_level is not None:
            points.append((MARGIN_HISTORY_KEY, book.account.margin_level))
        for key, value in points:
            buf = self.marks.get(key)
            if buf is None:
                buf = self.marks[key] = deque(maxlen=MARK_HISTORY)
            if not buf or ts > buf[-1][0]:
                buf.append((ts, float(value)))

    def backfill_chart(self, chart: Any) -> None:
        """The marks (and futures margin levels) of the session so far into a chart built late or back from a replay."""
        history = {key: ([t for t, _ in buf], [v for _, v in buf]) for key, buf in self.marks.items() if buf}
        margin = history.pop(MARGIN_HISTORY_KEY, None)
        if margin is not None:
            chart.futures_margin.seed(*margin)
        if history:
            chart.set_history(history)
        row = self.window.selected_futures_row()
        if row is not None:
            chart.show_futures(row)

    def chart_order_moved(self, row_id: str, order_id: str, price: Decimal) -> None:
        """A futures order line dropped: refused while replaying or stale, else to the futures controller."""
        w = self.window
        row = w.selected_futures_row()  # the chart draws the selected row: the line dragged is one of its orders
        reason = ""
        if w.replay.active:
            reason = chart_words.NOT_MOVABLE_REPLAY
        elif row is None or row.position.id != row_id or row.risk is Risk.UNKNOWN:
            reason = chart_words.NOT_MOVABLE_STALE
        if reason:
            from kraken_monitor.ui.messages import Messages

            Messages.instance().error(w, "Cannot move the order", reason)
            return
        self.signals.order_move_requested.emit(row_id, order_id, price)
