"""Connects the main window's actions and the alert popups' buttons to the dialogs; emits request records."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from decimal import Decimal

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QApplication, QWidget

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.models import Alert, MarginMode, PositionFigures, Snapshot
from kraken_monitor.domain.orders import OpenOrder, OrderSpec
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.base import Capabilities, OrderResult
from kraken_monitor.notify.delivery import DeliveryStatus
from kraken_monitor.text import notify as notify_text
from kraken_monitor.text import orders as orders_text
from kraken_monitor.ui.add_margin_dialog import AddMarginDialog
from kraken_monitor.ui.close_dialog import CloseDialog, CloseRequest
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.notify_bridge import NotifyBridge
from kraken_monitor.ui.protect_dialog import ProtectChoice, ProtectDialog
from kraken_monitor.ui.resources import apply_theme
from kraken_monitor.ui.settings_dialog import SettingsDialog
from kraken_monitor.ui.settings_store import load_config
from kraken_monitor.worker.requests import (
    Acknowledge,
    AddCollateral,
    AddIsolatedMargin,
    CancelOrder,
    ClosePosition,
    ModifyOrder,
    OrderRequest,
    PlaceOrder,
    Request,
    Settle,
    Snooze,
)

log = logging.getLogger(__name__)

LIVE_NOTE = "Kraken spot margin is cross margin: deposit on Kraken to add collateral."


def capabilities_for_mode(mode: AccountKind | str) -> Capabilities:
    """What each account kind supports when the worker has not reported the venue's own Capabilities."""
    if not AccountKind.parse(mode).simulated:
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
    """GUI-thread controller. Every confirmed action leaves as ONE request record on `requested`; the
    session (ui/session.py) queues it to the worker and brings `action_finished/failed` back here.

    Popups come from `alerts_fired` (not from the snapshot's copy of the same alerts): those carry the
    journal id that acknowledge/snooze need, and one source means one popup and beep per alert.
    """

    requested = Signal(object)  # one worker/requests.py record per confirmed action
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
        self.notifications = None  # NotifyBridge: alerts to the trader's channels (install() sets it)
        self.window: QWidget | None = None
        self.messages.add_margin_requested.connect(self._on_popup_add_margin)
        self.messages.close_requested.connect(self._on_popup_close)
        self.messages.snooze_requested.connect(self._on_popup_snooze)
        self.messages.acknowledged.connect(self._on_popup_acknowledged)

    # -- wiring ---------------------------------------------------------------------------------
    def connect_window(self, window: QWidget) -> None:
        """Connect the window's actions to the dialogs and follow its snapshots."""
        self.window = window
        self.parent_widget = self.parent_widget or window
        window.action_add_margin.triggered.connect(lambda: self.open_add_margin())
        window.action_add_collateral.triggered.connect(lambda: self.open_add_margin(account=True))
        window.action_close_position.triggered.connect(lambda: self.open_close())
        window.action_settle.triggered.connect(lambda: self.open_close(settle=True))
        window.action_settings.triggered.connect(self.open_settings)
        window.action_protect.triggered.connect(lambda: self.open_protect())
        window.orders_dock.cancel_requested.connect(self.cancel_order)
        window.orders_dock.modify_requested.connect(lambda order: self.open_protect(order.position_id, order.id))
        window.order_move_requested.connect(self.move_order)
        window.snapshot_shown.connect(self.on_snapshot_ready)
        window.closing.connect(self.messages.close_all_popups)

    # -- worker results -------------------------------------------------------------------------
    def on_snapshot_ready(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.messages.follow_snapshot(snapshot)  # open popups show the market now

    def on_capabilities_ready(self, capabilities: object) -> None:
        """The venue's own Capabilities; None (a new worker is starting) forgets the old ones."""
        if capabilities is None or isinstance(capabilities, Capabilities):
            self.capabilities = capabilities

    def on_alerts_fired(self, alerts: tuple[Alert, ...]) -> None:
        """One popup per fired alert key (each alert carries its journal id for acknowledge/snooze)."""
        for alert in alerts:
            if isinstance(alert, Alert):
                self.messages.show_alert(alert)
        if self.notifications is not None:  # events at once; critical/liquidation if not acknowledged in time
            self.notifications.fired(alerts)

    def on_delivery_status(self, status: object) -> None:
        """A notification that finally failed is said on the desktop (tray or D-Bus), never silently lost."""
        if isinstance(status, DeliveryStatus) and status.final and not status.ok:
            self.messages.notify(notify_text.DELIVERY_FAILED_TITLE, status.text())

    def on_alerts_changed(self, alerts) -> None:
        """Acknowledged or snoozed anywhere (popup, tray, log): escalation stops for those."""
        if self.notifications is not None:
            self.notifications.changed(alerts)

    def on_action_finished(self, request: Request, result: object) -> None:
        if not isinstance(request, OrderRequest):  # an alert's new state shows in the log and popups
            return
        text = result.description if isinstance(result, OrderResult) else str(result)
        self.messages.info(self.parent_widget, "Done", text)

    def on_action_failed(self, request: Request, text: str) -> None:
        self.messages.error(self.parent_widget, "Action failed", text)

    # -- opening dialogs ------------------------------------------------------------------------
    def current_capabilities(self) -> Capabilities:
        """What the venue in use reported (`capabilities_ready`), else what its mode usually supports."""
        return self.capabilities or capabilities_for_mode(self._mode())

    def _mode(self) -> AccountKind:
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

    def _snapshots(self):
        """The window's snapshot signal, so an open dialog's preview follows the market (None without a window)."""
        return getattr(self.window, "snapshot_shown", None)

    def _ready(self) -> bool:
        if self.snapshot is None or self.snapshot.account is None:
            self.messages.error(
                self.parent_widget, "No account data", "The account has not been read yet; try again shortly."
            )
            return False
        return True

    def open_add_margin(self, position_id: str | None = None, account: bool = False) -> Decimal | None:
        if not self._ready():
            return None
        # Only an isolated position takes margin of its own; otherwise this is an account top-up.
        if account:
            position_id = None
        elif not position_id:
            selected = self._pick_position(None)
            figures = next((pf for pf in self.snapshot.positions if pf.position.id == selected), None)
            position_id = (
                selected if figures and figures.position.margin_mode is MarginMode.ISOLATED else None
            )
        figures = next((pf for pf in self.snapshot.positions if pf.position.id == position_id), None)
        amount = AddMarginDialog.ask(
            self.parent_widget, self.snapshot, position_id, self._mode(), self.current_capabilities(),
            follow=self._snapshots(),
        )  # fmt: skip
        if amount is None:
            return None
        if figures is not None and figures.position.margin_mode is MarginMode.ISOLATED:
            self.requested.emit(AddIsolatedMargin(figures.position.id, amount))
        else:
            self.requested.emit(AddCollateral(amount))
        return amount

    def open_close(self, position_id: str | None = None, settle: bool = False) -> CloseRequest | None:
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
            settle=settle,
            follow=self._snapshots(),
        )
        if request is None:
            return None
        self.submit_close(request)
        return request

    def submit_close(self, request: CloseRequest) -> None:
        if request.settle:
            self.requested.emit(Settle(request.position_id))
        else:
            self.requested.emit(
                ClosePosition(request.position_id, request.volume, request.order_type, request.limit_price)
            )

    # -- protective orders (issue 16) ------------------------------------------------------------
    def _trading_refusal(self) -> str:
        """Why no order may be sent from here ("" when it may): a live account needs live trading on, as closes do."""
        if not self._mode().simulated and not self.config.live_trading_enabled:
            return orders_text.LIVE_TRADING_OFF
        capabilities = self.current_capabilities()
        if not capabilities.can_trade:
            return capabilities.note or "This venue does not accept orders from the monitor."
        return ""

    def _figures(self, position_id: str | None) -> PositionFigures | None:
        positions = self.snapshot.positions if self.snapshot else ()
        return next((pf for pf in positions if pf.position.id == position_id), None)

    def open_protect(self, position_id: str | None = None, order_id: str | None = None) -> ProtectChoice | None:
        """Ctrl+P, the table's context menu, the Orders dock's Modify: place, modify or cancel, confirmed."""
        selected_futures = getattr(self.window, "selected_futures_row", None)
        if position_id is None and selected_futures is not None and selected_futures() is not None:
            return None  # a futures row: ui/futures_window.py sends it to the futures account (futures_protect.py)
        if not self._ready():
            return None
        position_id = self._pick_position(position_id)
        if position_id is None:
            self.messages.info(self.parent_widget, "Protect position", "There is no open position to protect.")
            return None
        choice = ProtectDialog.ask(self.parent_widget, self.snapshot, position_id, self._mode(),
                                   self.current_capabilities(), self.config.live_trading_enabled,
                                   order_id=order_id, follow=self._snapshots())
        if choice is None:
            return None
        if choice.action == "cancel" and choice.order is not None:
            self.requested.emit(CancelOrder(choice.order.id, choice.order.pair))
        elif choice.action == "modify" and choice.order is not None:
            self.requested.emit(ModifyOrder(choice.order.id, choice.spec))
        else:
            self.requested.emit(PlaceOrder(choice.spec))
        return choice

    def _order_label(self, order: OpenOrder) -> str:
        pf = self._figures(order.position_id)
        if pf is None:
            return f"{order.pair} (no position)"
        rules = self.snapshot.pair_rules.get(pf.position.pair)
        return orders_text.position_label(pf.position.pair, pf.position.side.value, pf.remaining_volume, rules,
                                          pf.position.id)

    def cancel_order(self, order: OpenOrder) -> bool:
        """The Orders dock's Cancel: refused with the reason when trading is off; sent only after a yes."""
        refusal = self._trading_refusal()
        if refusal:
            self.messages.error(self.parent_widget, "Cannot cancel the order", refusal)
            return False
        rules = self.snapshot.pair_rules.get(order.pair) if self.snapshot else None
        question = orders_text.confirmation_text("cancel", None, order, self._order_label(order), rules,
                                                 str(self._mode()))
        if not self.messages.confirm(self.parent_widget, "Confirm cancel", question):
            return False
        self.requested.emit(CancelOrder(order.id, order.pair))
        return True

    def move_order(self, order_id: str, trigger: Decimal) -> bool:
        """A chart line dragged to `trigger`: the same order at the new trigger, validated, then confirmed."""
        positions = self.snapshot.positions if self.snapshot else ()
        found = next(((pf, o) for pf in positions for o in pf.orders if o.id == order_id), None)
        if found is None:
            self.messages.error(self.parent_widget, "Cannot move the order", f"Order {order_id} is not open any more.")
            return False
        pf, order = found
        refusal = self._trading_refusal()
        spec = OrderSpec(pf.position.id, order.pair, order.type, order.side, order.volume, trigger,
                         order.limit_price, order.trigger, order.trailing_offset, order.trailing_percent)
        try:
            spec.validate(pf.price, pf.remaining_volume, pf.position.side)
        except DomainError as err:
            refusal = refusal or str(err)
        if refusal:
            self.messages.error(self.parent_widget, "Cannot move the order", refusal)
            return False
        rules = self.snapshot.pair_rules.get(order.pair)
        question = orders_text.move_question(order, trigger, self._order_label(order), rules, str(self._mode()))
        if not self.messages.confirm(self.parent_widget, "Confirm move", question):
            return False
        self.requested.emit(ModifyOrder(order.id, spec))
        return True

    def open_settings(self) -> MonitorConfig | None:
        config = SettingsDialog.ask(self.parent_widget, self.config, self.settings)
        if config is not None:
            if config.theme != self.config.theme:
                apply_theme(QApplication.instance(), config.theme)
            self.config = config
            self.messages.set_sound_enabled(config.sound_enabled)
            self.messages.set_alarm(config.alarm_volume, config.alarm_repeat_liquidation)
            self.config_changed.emit(config)
        return config

    # -- popup buttons --------------------------------------------------------------------------
    def _on_popup_add_margin(self, alert: Alert, position_id: str | None) -> None:
        self.open_add_margin(position_id)

    def _on_popup_close(self, alert: Alert, position_id: str | None) -> None:
        self.open_close(position_id)

    def _on_popup_snooze(self, alert: Alert, until_ts: float) -> None:
        if alert.id != 0:  # 0: never recorded by the engine, nothing to act on
            # The popup asked for confirmation of a LIQUIDATION snooze before emitting this.
            self.requested.emit(Snooze(alert.id, max(until_ts - time.time(), 0.0), True))

    def _on_popup_acknowledged(self, alert: Alert) -> None:
        if self.notifications is not None:
            self.notifications.acknowledged(alert.id)
        if alert.id != 0:  # 0: never recorded by the engine, nothing to act on
            self.requested.emit(Acknowledge(alert.id))


def install(
    window: QWidget, config: MonitorConfig | None = None, settings: QSettings | None = None
) -> ActionsController:
    """Called by ui/app.py after the main window exists: one Messages, one controller, all connected."""
    if config is None:
        config = load_config(settings)
        mode = getattr(window, "mode", None)
        if isinstance(mode, AccountKind):
            config = replace(config, mode=mode)
    messages = Messages._instance or Messages(window, sound_enabled=config.sound_enabled)
    messages.set_sound_enabled(config.sound_enabled)
    messages.set_alarm(config.alarm_volume, config.alarm_repeat_liquidation)
    controller = ActionsController(config, messages, window, settings)
    controller.notifications = NotifyBridge(config, settings, window)
    window.closing.connect(controller.notifications.stop)
    controller.notifications.status_changed.connect(controller.on_delivery_status)
    controller.connect_window(window)
    return controller
