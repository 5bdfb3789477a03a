"""Protect-position dialog: place, modify or cancel a reduce-only stop-loss, take-profit or trailing stop, with a live preview."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.domain import protection
from kraken_monitor.domain.errors import DomainError, InvalidAmount
from kraken_monitor.domain.models import PairRules, PositionFigures, Snapshot
from kraken_monitor.domain.orders import OpenOrder, OrderSide, OrderSpec, OrderType, TriggerSignal
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.base import Capabilities
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text import orders as text
from kraken_monitor.ui.dialog_footer import DialogFooter
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.preview_status import PreviewStatus
from kraken_monitor.ui.validators import parse_amount, to_input_text
from kraken_monitor.ui.volume_field import VolumeField

SPOT_TRIGGERS = (TriggerSignal.LAST, TriggerSignal.INDEX)  # Kraken spot AddOrder `trigger`: index | last
ALL_TRIGGERS = tuple(TriggerSignal)
PERCENT_DECIMALS = 2
_KINDS = {  # (kind radio, limit?) -> Kraken ordertype
    ("stop", False): OrderType.STOP_LOSS, ("stop", True): OrderType.STOP_LOSS_LIMIT,
    ("take", False): OrderType.TAKE_PROFIT, ("take", True): OrderType.TAKE_PROFIT_LIMIT,
    ("trail", False): OrderType.TRAILING_STOP, ("trail", True): OrderType.TRAILING_STOP_LIMIT,
}


@dataclass(frozen=True)
class ProtectChoice:
    """What the trader confirmed: "place" (spec), "modify" (order -> spec) or "cancel" (order)."""

    action: str
    spec: OrderSpec | None
    order: OpenOrder | None = None


class ProtectDialog(QDialog):
    """OK disabled with the reason until the order is valid; nothing is sent before the confirmation says yes."""

    def __init__(self, snapshot: Snapshot, position_id: str, mode: AccountKind | str, capabilities: Capabilities,
                 live_trading_enabled: bool = False, parent: QWidget | None = None, order_id: str | None = None,
                 triggers: tuple[TriggerSignal, ...] = SPOT_TRIGGERS):
        super().__init__(parent)
        self.mode = AccountKind.parse(mode)
        self.capabilities = capabilities
        self.live_trading_enabled = live_trading_enabled
        self.position_id = position_id
        self.triggers = triggers
        self._take(snapshot)
        pos = self.figures.position if self.figures else None
        self.pair_rules: PairRules | None = snapshot.pair_rules.get(pos.pair) if pos else None
        self.volume_decimals = fmt.volume_decimals(self.pair_rules)
        self.price_decimals = fmt.price_decimals(self.pair_rules)
        self.preview_result: protection.ProtectionPreview | None = None
        self.unchanged_spec: OrderSpec | None = None
        self._built = False  # signals fire while _build() is still adding widgets
        self._build()
        self._built = True
        self.volume.set_percent(100)
        if order_id is not None:
            index = self.order_box.findData(order_id)
            if index >= 0:
                self.order_box.setCurrentIndex(index)
        self._refresh()

    def _take(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.figures: PositionFigures | None = next(
            (pf for pf in snapshot.positions if pf.position.id == self.position_id), None)
        self.remaining = self.figures.remaining_volume if self.figures else Decimal(0)

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Recompute the preview on fresh figures (connected to the window's snapshots while open)."""
        self._take(snapshot)
        self.preview_status.update_from(snapshot)
        self._refresh()

    def _build(self) -> None:
        self.setWindowTitle("Protect position")
        self.setMinimumWidth(640)
        layout = QVBoxLayout(self)
        # Grow with the preview's wrapped lines instead of clipping them (a long warning, a trailing stop's note).
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        pos = self.figures.position if self.figures else None
        self.heading = QLabel(f"Protect {self._label()}" if pos else f"Position {self.position_id} is no longer open.")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)
        form = QFormLayout()
        self.order_box = QComboBox()
        self.order_box.addItem("New order", None)
        for order in (self.figures.orders or () if self.figures else ()):
            self.order_box.addItem(f"{text.order_summary(order, self.pair_rules)} \u00b7 {order.id}", order.id)
        self.order_box.currentIndexChanged.connect(self._on_order_chosen)
        self.cancel_order_button = QPushButton("Cancel order...")
        self.cancel_order_button.setAutoDefault(False)
        self.cancel_order_button.clicked.connect(self._on_cancel_order)
        order_row = QHBoxLayout()
        order_row.addWidget(self.order_box, 1)
        order_row.addWidget(self.cancel_order_button)
        form.addRow("Order:", order_row)

        self.stop_radio, self.take_radio = QRadioButton("Stop-loss"), QRadioButton("Take-profit")
        self.trail_radio = QRadioButton("Trailing stop")
        self.kind_group = QButtonGroup(self)
        kind_row = QHBoxLayout()
        for radio in (self.stop_radio, self.take_radio, self.trail_radio):
            self.kind_group.addButton(radio)
            kind_row.addWidget(radio)
            radio.toggled.connect(self._refresh)
        self.stop_radio.setChecked(True)
        form.addRow("Protect with:", kind_row)
        self.market_radio, self.limit_radio = QRadioButton("Market"), QRadioButton("Limit")
        self.fill_group = QButtonGroup(self)
        fill_row = QHBoxLayout()
        for radio in (self.market_radio, self.limit_radio):
            self.fill_group.addButton(radio)
            fill_row.addWidget(radio)
            radio.toggled.connect(self._refresh)
        self.market_radio.setChecked(True)
        form.addRow("Once triggered:", fill_row)

        quote = self.pair_rules.quote if self.pair_rules else ""
        self.trigger_edit = QLineEdit()
        self.trigger_edit.setPlaceholderText(f"price in {quote}, {self.price_decimals} decimals".strip())
        self.trigger_edit.textChanged.connect(self._refresh)
        form.addRow("Trigger price:", self.trigger_edit)
        self.offset_edit = QLineEdit()
        self.offset_unit = QComboBox()
        self.offset_unit.addItem(quote or "amount", False)
        self.offset_unit.addItem("%", True)
        self.offset_edit.textChanged.connect(self._refresh)
        self.offset_unit.currentIndexChanged.connect(self._refresh)
        offset_row = QHBoxLayout()
        offset_row.addWidget(self.offset_edit, 1)
        offset_row.addWidget(self.offset_unit)
        form.addRow("Trailing distance:", offset_row)
        self.limit_edit = QLineEdit()
        self.limit_edit.textChanged.connect(self._refresh)
        self.limit_label = QLabel("Limit price:")
        form.addRow(self.limit_label, self.limit_edit)
        self.trigger_box = QComboBox()
        for signal in ALL_TRIGGERS:
            self.trigger_box.addItem(text.trigger_label(signal), signal)
        self.trigger_box.setToolTip(text.TRIGGER_TIP)
        self.trigger_box.currentIndexChanged.connect(self._refresh)
        form.addRow("Trigger on:", self.trigger_box)

        self.volume = VolumeField(self.remaining, self.volume_decimals)
        self.volume.changed.connect(self._refresh)
        self.volume_edit, self.percent_spin = self.volume.edit, self.volume.percent
        form.addRow("Volume:", self.volume)

        self.distance_label, self.pnl_label, self.zone_label = QLabel(), QLabel(), QLabel()
        self.zone_label.setObjectName("zoneLabel")
        self.warning_label = QLabel()
        self.warning_label.setObjectName("orderWarning")
        self.warning_label.setStyleSheet("color: #ef6c00; font-weight: bold;")
        for label in (self.distance_label, self.pnl_label, self.zone_label, self.warning_label):
            label.setWordWrap(True)
        form.addRow("Trigger distance:", self.distance_label)
        form.addRow("Net P&&L if it fills:", self.pnl_label)
        form.addRow("Against liquidation:", self.zone_label)
        form.addRow(self.warning_label)
        layout.addLayout(form)
        self.reduce_only_label = QLabel(text.REDUCE_ONLY_TEXT)
        self.reduce_only_label.setWordWrap(True)
        layout.addWidget(self.reduce_only_label)
        self.preview_status = PreviewStatus(self.snapshot, [pos.pair] if pos else [])
        layout.addWidget(self.preview_status)
        self.footer = DialogFooter(self, layout, "Place order...")
        self.reason_label, self.ok_button = self.footer.reason_label, self.footer.ok_button

    def _label(self) -> str:
        pf = self.figures
        return text.position_label(pf.position.pair, pf.position.side.value, self.remaining, self.pair_rules,
                                   pf.position.id) if pf else f"position {self.position_id}"

    # -- existing orders ------------------------------------------------------------------------
    def chosen_order(self) -> OpenOrder | None:
        order_id = self.order_box.currentData()
        orders = (self.figures.orders or ()) if self.figures else ()
        return next((o for o in orders if o.id == order_id), None) if order_id else None

    def _on_order_chosen(self, _index: int) -> None:
        """An existing order fills the fields with its own values: edit them to modify it."""
        order = self.chosen_order()
        if order is not None:
            kind = order.type
            radio = self.trail_radio if kind.is_trailing else self.take_radio if kind.is_take_profit else self.stop_radio
            radio.setChecked(True)
            (self.limit_radio if kind.has_limit else self.market_radio).setChecked(True)
            self.trigger_edit.setText("" if order.trigger_price is None or kind.is_trailing
                                      else to_input_text(order.trigger_price, self.price_decimals))
            if kind.is_trailing and order.trailing_offset is not None:
                self.offset_unit.setCurrentIndex(1 if order.trailing_percent else 0)
                self.offset_edit.setText(to_input_text(order.trailing_offset, self._offset_decimals()))
            self.limit_edit.setText("" if order.limit_price is None else to_input_text(order.limit_price,
                                                                                        self.price_decimals))
            self.trigger_box.setCurrentIndex(max(self.trigger_box.findData(order.trigger), 0))
            self.volume.set_volume(min(order.volume, self.remaining) if self.remaining else order.volume)
        self._refresh()

    def _on_cancel_order(self) -> None:
        order = self.chosen_order()
        if order is None or self._trading_refusal():
            return
        question = text.confirmation_text("cancel", None, order, self._label(), self.pair_rules, str(self.mode))
        if Messages.instance().confirm(self, "Confirm cancel", question):
            self.choice = ProtectChoice("cancel", None, order)
            super().accept()

    # -- validation -----------------------------------------------------------------------------
    def order_type(self) -> OrderType:
        kind = "trail" if self.trail_radio.isChecked() else "take" if self.take_radio.isChecked() else "stop"
        return _KINDS[(kind, self.limit_radio.isChecked())]

    def _offset_decimals(self) -> int:
        return PERCENT_DECIMALS if self.offset_unit.currentData() else self.price_decimals

    def _trading_refusal(self) -> str:
        if self.figures is None:
            return f"Position {self.position_id} is no longer open."
        if not self.mode.simulated and not self.live_trading_enabled:
            return text.LIVE_TRADING_OFF
        if not self.capabilities.can_trade:
            return self.capabilities.note or "This venue does not accept orders from the monitor."
        return ""

    def _price(self, label: str, edit: QLineEdit, decimals: int) -> Decimal:
        try:
            return parse_amount(edit.text(), decimals=decimals, maximum=None)
        except InvalidAmount as err:
            raise InvalidAmount(f"{label}: {err}") from err

    def validate(self) -> tuple[OrderSpec | None, str]:
        """(spec, "") when OK may be pressed, else (None, the reason a trader can read)."""
        refusal = self._trading_refusal()
        if refusal:
            return None, refusal
        pf = self.figures
        kind = self.order_type()
        signal = self.trigger_box.currentData()
        if signal not in self.triggers:
            return None, text.SPOT_NO_MARK
        base = self.pair_rules.base if self.pair_rules else ""
        try:
            volume = parse_amount(self.volume_edit.text(), decimals=self.volume_decimals, maximum=self.remaining,
                                  unit=base)
        except InvalidAmount as err:
            return None, f"Volume: {err}"
        try:
            trigger = offset = limit = None
            if kind.is_trailing:
                offset = self._price("Trailing distance", self.offset_edit, self._offset_decimals())
            else:
                trigger = self._price("Trigger price", self.trigger_edit, self.price_decimals)
            if kind.has_limit:
                limit = self._price("Limit offset" if kind.is_trailing else "Limit price", self.limit_edit,
                                    self.price_decimals)
        except InvalidAmount as err:
            return None, str(err)
        spec = OrderSpec(pf.position.id, pf.position.pair, kind, OrderSide.closing(pf.position.side), volume,
                         trigger, limit, signal, offset, bool(offset is not None and self.offset_unit.currentData()))
        try:
            spec.validate(pf.price, self.remaining, pf.position.side)
        except DomainError as err:
            return None, str(err)
        order = self.chosen_order()
        if order is not None and _same(order, spec):
            self.unchanged_spec = spec  # still previewed: what the order does as it stands
            return None, "Nothing changed: edit the trigger, limit, trailing distance or volume to modify this order."
        return spec, ""

    def _refresh(self) -> None:
        if not self._built:
            return
        trailing, limit = self.trail_radio.isChecked(), self.limit_radio.isChecked()
        self.trigger_edit.setEnabled(not trailing)
        self.offset_edit.setEnabled(trailing)
        self.offset_unit.setEnabled(trailing)
        self.limit_edit.setEnabled(limit)
        self.limit_label.setText("Limit offset:" if trailing else "Limit price:")
        self.limit_edit.setPlaceholderText("from the stop, in price" if trailing else f"{self.price_decimals} decimals")
        order = self.chosen_order()
        self.cancel_order_button.setVisible(order is not None)
        self.cancel_order_button.setEnabled(order is not None and not self._trading_refusal())
        if self.ok_button is not None:
            self.ok_button.setText("Modify order..." if order is not None else "Place order...")
        self.unchanged_spec = None
        spec, reason = self.validate()
        self.footer.show_reason(reason)
        self._show_preview(spec or self.unchanged_spec)

    def _show_preview(self, spec: OrderSpec | None) -> None:
        self.preview_result = None
        if spec is None or self.figures is None:
            for label in (self.distance_label, self.pnl_label, self.zone_label):
                label.setText(fmt.DASH)
            self.zone_label.setStyleSheet("")
            self.warning_label.setVisible(False)
            return
        chosen = self.chosen_order()
        others = tuple(o for o in self.figures.orders or () if chosen is None or o.id != chosen.id)
        try:
            result = self._preview(spec, others)
        except DomainError as err:
            self.distance_label.setText(f"no preview: {err}")
            return
        self.preview_result = result
        pf = self.figures
        self.distance_label.setText(text.distance_text(result.trigger_price, result.trigger_distance_pct, pf.price,
                                                       self.pair_rules, spec.type.is_trailing))
        self._show_pnl_and_zone(result, spec)
        exceeds = text.ORDER_EXCEEDS_POSITION in result.warnings
        self.warning_label.setText(text.exceeds_text(spec, others, self.pair_rules) if exceeds else "")
        self.warning_label.setVisible(exceeds)
        danger = {"beyond_liquidation": "color: #c62828; font-weight: bold;", "past_margin_call": "color: #ef6c00;"}
        self.zone_label.setStyleSheet(danger.get(result.relation.value, ""))

    # -- another venue (ui/futures_protect.py) computes and words these its own way --------------
    def _preview(self, spec: OrderSpec, others: tuple[OpenOrder, ...]) -> protection.ProtectionPreview:
        return protection.preview(self.figures, spec, self.snapshot.as_of, others=others)

    def _show_pnl_and_zone(self, result: protection.ProtectionPreview, spec: OrderSpec) -> None:
        pf = self.figures
        self.pnl_label.setText(text.pnl_at_trigger_text(result.breakdown, result.fill_price, self.pair_rules))
        self.pnl_label.setToolTip(text.pnl_at_trigger_tip(result.breakdown))
        self.zone_label.setText(text.relation_text(result.relation, pf.margin_call_price, pf.liquidation_price,
                                                   self.pair_rules))

    def request(self) -> ProtectChoice | None:
        spec, reason = self.validate()
        if reason or spec is None:
            return None
        order = self.chosen_order()
        return ProtectChoice("modify" if order is not None else "place", spec, order)

    def confirmation_text(self, choice: ProtectChoice) -> str:
        extra = ""
        if self.preview_result is not None and self.preview_result.relation is protection.Relation.BEYOND_LIQUIDATION:
            extra = "Warning: " + text.WARNING_TEXT[text.STOP_BEYOND_LIQUIDATION]
        return text.confirmation_text(choice.action, choice.spec, choice.order, self._label(), self.pair_rules,
                                      str(self.mode), extra)

    def accept(self) -> None:
        choice = self.request()
        if choice is None:
            return  # Enter in a field must not bypass the disabled OK
        title = "Confirm modify" if choice.action == "modify" else "Confirm protective order"
        if not Messages.instance().confirm(self, title, self.confirmation_text(choice)):
            return
        self.choice = choice
        super().accept()

    @classmethod
    def ask(cls, parent: QWidget | None, snapshot: Snapshot, position_id: str, mode: AccountKind | str,
            capabilities: Capabilities, live_trading_enabled: bool = False, order_id: str | None = None,
            follow=None) -> ProtectChoice | None:
        """Run the dialog; the confirmed choice, or None. `follow` (a Snapshot signal) keeps the preview live."""
        dialog = cls(snapshot, position_id, mode, capabilities, live_trading_enabled, parent, order_id=order_id)
        if follow is not None:
            follow.connect(dialog.set_snapshot)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return getattr(dialog, "choice", None)
        finally:
            if follow is not None:
                follow.disconnect(dialog.set_snapshot)
            dialog.deleteLater()


def _same(order: OpenOrder, spec: OrderSpec) -> bool:
    """The spec asks for exactly what the order already is."""
    trigger_same = order.type.is_trailing or order.trigger_price == spec.trigger_price
    return (order.type is spec.type and order.volume == spec.volume and trigger_same
            and order.limit_price == spec.limit_price and order.trigger is spec.trigger
            and order.trailing_offset == spec.trailing_offset and order.trailing_percent == spec.trailing_percent)
