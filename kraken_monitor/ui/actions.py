"""Connects the main window's actions and the alert popups' buttons to the dialogs and the worker's slots."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from kraken_monitor.domain.models import Alert, MarginMode, Snapshot
from kraken_monitor.exchange.base import Capabilities, OrderResult
from kraken_monitor.ui.add_margin_dialog import AddMarginDialog
from kraken_monitor.ui.close_dialog import CloseDialog, CloseRequest
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.settings_dialog import SettingsDialog
from kraken_monitor.worker.config import MonitorConfig

log = logging.getLogger(__name__)

ADD_MARGIN_TEXT = "Add margin..."
CLOSE_TEXT = "Close position..."
SETTINGS_TEXT = "Settings..."
LIVE_NOTE = "Kraken spot margin is cross margin: deposit on Kraken to add collateral."


def capabilities_for_mode(mode: str) -> Capabilities:
    """What each mode supports when the worker has not reported the venue's own Capabilities."""
    if mode == "live":
        return Capabilities(
            can_trade=True,
            can_settle=True,
            can_add_collateral=False,
            can_add_isolated_margin=False,
            note=LIVE_NOTE,
        )
    return Capabilities(
        can_trade=True, can_settle=True, can_add_collateral=True, can_add_isolated_margin=True
    )


class ActionsController(QObject):
    """GUI-thread controller. Requests reach the worker only through the queued signals below."""

    close_requested = Signal(str, object, str, object)  # position id, volume, order type, limit price
    settle_requested = Signal(str)
    add_collateral_requested = Signal(object)  # Decimal
    add_isolated_margin_requested = Signal(str, object)  # position id, Decimal
    acknowledge_requested = Signal(int)  # journal alert id
    snooze_requested = Signal(int, float)  # journal alert id, seconds
    config_changed = Signal(object)  # MonitorConfig saved by the settings dialog

    def __init__(
        self,
        config: MonitorConfig,
        messages: Messages | None = None,
        parent_widget: QWidget | None = None,
        settings: QSettings | None = None,
        capabilities: Capabilities | None = None,
    ):
        super().__init__(parent_widget)
        self.config = config
        self.messages = messages or Messages.instance()
        self.parent_widget = parent_widget
        self.settings = settings
        self.capabilities = capabilities
        self.snapshot: Snapshot | None = None
        self.window: QWidget | None = None
        self.messages.add_margin_requested.connect(self._on_popup_add_margin)
        self.messages.close_requested.connect(self._on_popup_close)
        self.messages.snooze_requested.connect(self._on_popup_snooze)
        self.messages.acknowledged.connect(self._on_popup_acknowledged)

    # -- wiring ---------------------------------------------------------------------------------
    def connect_worker(self, worker: QObject) -> None:
        """Signal -> slot across threads is queued, so the worker runs each request in its own thread."""
        self.close_requested.connect(worker.request_close)
        self.settle_requested.connect(worker.request_settle)
        self.add_collateral_requested.connect(worker.request_add_collateral)
        self.add_isolated_margin_requested.connect(worker.request_add_isolated_margin)
        self.acknowledge_requested.connect(worker.acknowledge_alert)
        self.snooze_requested.connect(worker.snooze_alert)
        worker.snapshot_ready.connect(self.on_snapshot_ready)
        worker.alerts_fired.connect(self.on_alerts_fired)
        worker.action_finished.connect(self.on_action_finished)
        worker.action_failed.connect(self.on_action_failed)

    def connect_window(self, window: QWidget) -> None:
        """Find the window's actions by their text, so the window needs no knowledge of this class."""
        self.window = window
        self.parent_widget = self.parent_widget or window
        handlers = {
            ADD_MARGIN_TEXT: lambda: self.open_add_margin(),
            CLOSE_TEXT: lambda: self.open_close(),
            SETTINGS_TEXT: self.open_settings,
        }
        for action in window.findChildren(QAction):
            handler = handlers.get(action.text().replace("&", ""))
            if handler is not None:
                action.triggered.connect(handler)

    # -- worker results -------------------------------------------------------------------------
    def on_snapshot_ready(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def on_alerts_fired(self, alerts: tuple[Alert, ...]) -> None:
        for alert in alerts:
            self.messages.show_alert(alert)

    def on_action_finished(self, result: object) -> None:
        text = result.description if isinstance(result, OrderResult) else str(result)
        self.messages.info(self.parent_widget, "Done", text)

    def on_action_failed(self, text: str) -> None:
        self.messages.error(self.parent_widget, "Action failed", text)

    # -- opening dialogs ------------------------------------------------------------------------
    def current_capabilities(self) -> Capabilities:
        reported = getattr(self.snapshot, "capabilities", None)
        if isinstance(reported, Capabilities):
            return reported
        return self.capabilities or capabilities_for_mode(
            self.snapshot.mode if self.snapshot else self.config.mode
        )

    def _mode(self) -> str:
        return self.snapshot.mode if self.snapshot else self.config.mode

    def _pick_position(self, position_id: str | None) -> str | None:
        """The given id, else the window's selection, else the position Kraken would liquidate first."""
        if position_id:
            return position_id
        selected = getattr(self.window, "selected_position_id", None)
        if callable(selected) and selected():
            return selected()
        if self.snapshot and self.snapshot.positions:
            ranked = sorted(self.snapshot.positions, key=lambda pf: pf.liquidation_order or 10**9)
            return ranked[0].position.id
        return None

    def _ready(self) -> bool:
        if self.snapshot is None or self.snapshot.account is None:
            self.messages.error(
                self.parent_widget, "No account data", "The account has not been read yet; try again shortly."
            )
            return False
        return True

    def open_add_margin(self, position_id: str | None = None) -> Decimal | None:
        if not self._ready():
            return None
        # Only an isolated position takes margin of its own; otherwise this is an account top-up.
        if not position_id:
            selected = self._pick_position(None)
            figures = next((pf for pf in self.snapshot.positions if pf.position.id == selected), None)
            position_id = (
                selected if figures and figures.position.margin_mode is MarginMode.ISOLATED else None
            )
        figures = next((pf for pf in self.snapshot.positions if pf.position.id == position_id), None)
        amount = AddMarginDialog.ask(
            self.parent_widget, self.snapshot, position_id, self._mode(), self.current_capabilities()
        )
        if amount is None:
            return None
        if figures is not None and figures.position.margin_mode is MarginMode.ISOLATED:
            self.add_isolated_margin_requested.emit(figures.position.id, amount)
        else:
            self.add_collateral_requested.emit(amount)
        return amount

    def open_close(self, position_id: str | None = None) -> CloseRequest | None:
        if not self._ready():
            return None
        position_id = self._pick_position(position_id)
        if position_id is None:
            self.messages.info(self.parent_widget, "Close position", "There is no open position to close.")
            return None
        request = CloseDialog.ask(
            self.parent_widget,
            self.snapshot,
            position_id,
            self._mode(),
            self.current_capabilities(),
            self.config.live_trading_enabled,
        )
        if request is None:
            return None
        self.submit_close(request)
        return request

    def submit_close(self, request: CloseRequest) -> None:
        if request.settle:
            self.settle_requested.emit(request.position_id)
        else:
            self.close_requested.emit(
                request.position_id, request.volume, request.order_type, request.limit_price
            )

    def open_settings(self) -> MonitorConfig | None:
        config = SettingsDialog.ask(self.parent_widget, self.config, self.settings)
        if config is not None:
            self.config = config
            self.messages.set_sound_enabled(config.sound_enabled)
            self.config_changed.emit(config)
        return config

    # -- popup buttons --------------------------------------------------------------------------
    def _on_popup_add_margin(self, alert: Alert) -> None:
        self.open_add_margin(alert.position_id)

    def _on_popup_close(self, alert: Alert) -> None:
        self.open_close(alert.position_id)

    def _on_popup_snooze(self, alert: Alert, until_ts: float) -> None:
        self.messages.snooze(alert.key, alert.level, until_ts)
        alert_id = getattr(alert, "id", None)  # journal row id, when the worker attaches one
        if isinstance(alert_id, int):
            self.snooze_requested.emit(alert_id, max(until_ts - time.time(), 0.0))

    def _on_popup_acknowledged(self, alert: Alert) -> None:
        alert_id = getattr(alert, "id", None)
        if isinstance(alert_id, int):
            self.acknowledge_requested.emit(alert_id)
