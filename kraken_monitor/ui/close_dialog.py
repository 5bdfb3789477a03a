"""Close dialog: full/partial reduce-only close (market or limit) or settle, with a what-if preview."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.domain import costs, whatif
from kraken_monitor.domain.decimals import ZERO
from kraken_monitor.domain.errors import DomainError, InvalidAmount, UnknownRate
from kraken_monitor.domain.models import MarginMode, PairRules, PositionFigures, Snapshot
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.base import Capabilities
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.pnl import NET_PNL_MEANING, breakdown_lines, fees_summary
from kraken_monitor.ui.dialog_footer import DialogFooter
from kraken_monitor.ui.limit_check import is_resting, limit_fill_warning
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.preview_status import PreviewStatus
from kraken_monitor.ui.validators import parse_amount, to_input_text

BALANCE_CHANGE_TIP = (
    "What the close credits to the trade balance: this part's P&L less its closing fee. The trading fee, "
    "opening fee and rollovers were taken from the balance when they were charged."
)
REDUCE_ONLY_TEXT = "Reduce-only: the order can only shrink this position, never open or flip one."


@dataclass(frozen=True)
class CloseRequest:
    """What the trader confirmed; the actions controller sends it as a ClosePosition or Settle record."""

    position_id: str
    volume: Decimal
    order_type: str  # "market" | "limit" (ignored when settle)
    limit_price: Decimal | None
    settle: bool = False


class CloseDialog(QDialog):
    """Volume and percent kept in sync; OK disabled with the reason until valid; confirmation on OK."""

    def __init__(
        self,
        snapshot: Snapshot,
        position_id: str,
        mode: AccountKind | str,
        capabilities: Capabilities,
        live_trading_enabled: bool = False,
        parent: QWidget | None = None,
        settle: bool = False,
    ):
        super().__init__(parent)
        self.mode = AccountKind.parse(mode)
        self.capabilities = capabilities
        self.live_trading_enabled = live_trading_enabled
        self.position_id = position_id
        self._take(snapshot)
        pos = self.figures.position if self.figures else None
        self.pair_rules: PairRules | None = self.rules.get(pos.pair) if pos else None
        self.volume_decimals = self.pair_rules.volume_decimals if self.pair_rules else 8
        self.price_decimals = self.pair_rules.price_decimals if self.pair_rules else 2
        self.preview_result: object | None = None
        self._syncing = False
        self._build()
        self.percent_spin.setValue(100)
        if settle and self._settle_possible():
            self.settle_radio.setChecked(True)
        self._refresh()

    def _take(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.figures: PositionFigures | None = next(
            (pf for pf in snapshot.positions if pf.position.id == self.position_id), None
        )
        self.state = snapshot.account_state()
        self.prices = snapshot.prices()
        self.rules = snapshot.pair_rules
        self.remaining = self.figures.position.remaining_volume if self.figures else Decimal(0)

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Recompute the preview on fresh figures (connected to the window's snapshots while open)."""
        self._take(snapshot)
        self.preview_status.update_from(snapshot)
        self._refresh()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setWindowTitle("Close position")
        self.setMinimumWidth(500)
        layout = QVBoxLayout(self)
        pos = self.figures.position if self.figures else None
        if pos is None:
            heading = f"Position {self.position_id} is no longer open."
        else:
            base = self.pair_rules.base if self.pair_rules else pos.pair.split("/")[0]
            heading = (
                f"{pos.side.value.upper()} {fmt.fmt_decimal(self.remaining, self.volume_decimals)} {base} "
                f"{pos.pair}, position {pos.id} ({pos.margin_mode.value} margin)"
            )
        self.heading = QLabel(heading)
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)

        form = QFormLayout()
        self.volume_edit = QLineEdit()
        self.volume_edit.setMinimumWidth(150)
        self.volume_edit.textEdited.connect(self._on_volume_edited)
        self.percent_spin = QSpinBox()
        self.percent_spin.setRange(1, 100)
        self.percent_spin.setSuffix(" %")
        self.percent_spin.valueChanged.connect(self._on_percent_changed)
        size_row = QHBoxLayout()
        size_row.addWidget(self.volume_edit, 1)
        size_row.addWidget(self.percent_spin)
        for pct in (25, 50, 100):
            button = QPushButton(f"{pct}%")
            button.setAutoDefault(False)
            button.setMaximumWidth(56)
            button.clicked.connect(lambda _=False, p=pct: self.percent_spin.setValue(p))
            size_row.addWidget(button)
        form.addRow("Volume to close:", size_row)

        self.market_radio = QRadioButton("Market")
        self.limit_radio = QRadioButton("Limit")
        self.settle_radio = QRadioButton("Settle (no trading fee)")
        self.order_group = QButtonGroup(self)
        type_row = QHBoxLayout()
        self.market_radio.setChecked(True)
        for radio in (self.market_radio, self.limit_radio, self.settle_radio):
            self.order_group.addButton(radio)
            type_row.addWidget(radio)
            radio.toggled.connect(self._refresh)
        self.settle_radio.setVisible(self._settle_possible())
        form.addRow("Order:", type_row)
        self.limit_edit = QLineEdit()
        self.limit_edit.setPlaceholderText(f"price, {self.price_decimals} decimals")
        self.limit_edit.textChanged.connect(self._refresh)
        form.addRow("Limit price:", self.limit_edit)
        self.limit_warning = QLabel()
        self.limit_warning.setObjectName("limitWarning")
        self.limit_warning.setWordWrap(True)
        self.limit_warning.setStyleSheet("color: #c62828; font-weight: bold;")
        self.limit_warning.setVisible(False)
        form.addRow(self.limit_warning)

        self.pnl_label = QLabel()
        self.pnl_label.setToolTip(NET_PNL_MEANING)
        self.fees_label = QLabel()
        self.fees_label.setWordWrap(True)
        self.balance_label = QLabel()
        self.balance_label.setToolTip(BALANCE_CHANGE_TIP)
        self.level_label = QLabel()
        form.addRow("Net P&&L, all fees:", self.pnl_label)
        form.addRow("Fees in it:", self.fees_label)
        form.addRow("Trade balance change:", self.balance_label)
        form.addRow("Account margin level:", self.level_label)
        layout.addLayout(form)

        self.reduce_only_label = QLabel(REDUCE_ONLY_TEXT)
        self.reduce_only_label.setWordWrap(True)
        layout.addWidget(self.reduce_only_label)
        self.preview_status = PreviewStatus(self.snapshot, [pos.pair] if pos else [])
        layout.addWidget(self.preview_status)
        self.footer = DialogFooter(self, layout, "Close position...")
        self.reason_label, self.buttons, self.ok_button = self.footer.reason_label, self.footer.buttons, self.footer.ok_button

    def _settle_possible(self) -> bool:
        # Settling exists for Kraken spot (cross) positions only; isolated positions are closed by trading.
        pos = self.figures.position if self.figures else None
        return bool(pos and pos.margin_mode is MarginMode.CROSS and self.capabilities.can_settle)

    # -- volume <-> percent ---------------------------------------------------------------------
    def _volume_for_percent(self, pct: int) -> Decimal:
        if pct >= 100:
            return self.remaining  # exactly everything, never a rounding dust left open
        step = Decimal(1).scaleb(-self.volume_decimals)
        return (self.remaining * pct / 100).quantize(step, rounding=ROUND_DOWN)

    def _on_percent_changed(self, pct: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.volume_edit.setText(to_input_text(self._volume_for_percent(pct), self.volume_decimals))
        self._syncing = False
        self._refresh()

    def _on_volume_edited(self, _text: str) -> None:
        volume = self._parsed_volume()
        if volume is not None and self.remaining > 0:
            pct = int((volume / self.remaining * 100).to_integral_value())
            self._syncing = True
            self.percent_spin.setValue(min(max(pct, 1), 100))
            self._syncing = False
        self._refresh()

    def _parsed_volume(self) -> Decimal | None:
        try:
            return parse_amount(
                self.volume_edit.text(), decimals=self.volume_decimals, maximum=self.remaining
            )
        except InvalidAmount:
            return None

    # -- validation -----------------------------------------------------------------------------
    def order_type(self) -> str:
        return "limit" if self.limit_radio.isChecked() else "market"

    def validate(self) -> tuple[CloseRequest | None, str]:
        """(request, "") when OK may be pressed, else (None, reason a trader can read)."""
        if self.figures is None:
            return None, f"Position {self.position_id} is no longer open."
        if not self.mode.simulated and not self.live_trading_enabled:
            return (
                None,
                'Live trading is off: enable "Live trading" in Settings to close positions from here.',
            )
        if not self.capabilities.can_trade:
            return None, self.capabilities.note or "This venue does not accept orders from the monitor."
        settle = self.settle_radio.isChecked() and self._settle_possible()
        if settle:
            return CloseRequest(self.position_id, self.remaining, "settle", None, settle=True), ""
        try:
            volume = parse_amount(
                self.volume_edit.text(),
                decimals=self.volume_decimals,
                maximum=self.remaining,
                unit=self.pair_rules.base if self.pair_rules else "",
            )
        except InvalidAmount as err:
            return None, f"Volume: {err}"
        min_order = self.pair_rules.min_order if self.pair_rules else Decimal(0)
        if volume < min_order and volume != self.remaining:
            return None, f"Volume: below the pair's minimum order of {min_order}."
        limit_price = None
        if self.limit_radio.isChecked():
            try:
                limit_price = parse_amount(self.limit_edit.text(), decimals=self.price_decimals, maximum=None)
            except InvalidAmount as err:
                return None, f"Limit price: {err}"
        return CloseRequest(self.position_id, volume, self.order_type(), limit_price), ""

    def request(self) -> CloseRequest | None:
        request, reason = self.validate()
        return request if not reason else None

    def _refresh(self) -> None:
        settle = self.settle_radio.isChecked()
        self.volume_edit.setEnabled(not settle)
        self.percent_spin.setEnabled(not settle)
        self.limit_edit.setEnabled(self.limit_radio.isChecked())
        request, reason = self.validate()
        self.footer.show_reason(reason)
        warning = self.fill_warning(request)
        self.limit_warning.setText(warning)
        self.limit_warning.setVisible(bool(warning))
        self._show_preview(request)

    def _resting(self, request: CloseRequest | None) -> bool | None:
        """True: the limit rests on the book; False: it fills at once at the market; None: not a limit."""
        if request is None or request.limit_price is None or self.figures is None:
            return None
        pos = self.figures.position
        return is_resting(pos.side, self.snapshot.tickers.get(pos.pair), self.figures.price, request.limit_price)

    def fill_warning(self, request: CloseRequest | None) -> str:
        """Why this limit would not fill soon (or fills far from it); "" for market orders and near limits."""
        if request is None or request.limit_price is None or self.figures is None:
            return ""
        pos = self.figures.position
        return limit_fill_warning(
            pos.side, self.snapshot.tickers.get(pos.pair), self.figures.price, request.limit_price, self.price_decimals
        )

    def _show_preview(self, request: CloseRequest | None) -> None:
        self.preview_result = None
        volume = request.volume if request else self._parsed_volume()
        for label in (self.fees_label, self.balance_label):
            label.setText("")
        self.pnl_label.setToolTip(NET_PNL_MEANING)
        if self.state is None or self.figures is None or volume is None:
            self.pnl_label.setText("enter a valid volume" if self.figures else "")
            self.level_label.setText("")
            return
        before = _level(self.snapshot.account.margin_level if self.snapshot.account else None)
        currency = self.snapshot.account.currency if self.snapshot.account else ""
        try:
            if request is not None and request.settle:
                after = whatif.settle(self.state, self.prices, self.rules, self.position_id)
                self.preview_result = after
                pf = self.figures
                if pf.fx_rate is None:
                    raise UnknownRate(pf.unknown_reason or f"no exchange rate for {pf.position.pair}")
                pnl = costs.pnl_breakdown(pf.position, pf.price, self.snapshot.as_of, pf.fx_rate, currency, ZERO)
                self._show_pnl(pnl, "settled at the current price")
                self.fees_label.setText(f"{fees_summary(pnl)} (no trading fee when settling)")
                self.balance_label.setText(fmt.fmt_money(pf.unrealized_pnl, currency, signed=True))
                self.level_label.setText(f"{before} -> {_level(after.margin_level)}")
                return
            prices = dict(self.prices)
            note = "at the current price"
            fee_rate = costs.TAKER_FEE_RATE
            resting = self._resting(request)
            if resting:
                prices[self.figures.position.pair] = request.limit_price  # preview the fill at the limit
                note, fee_rate = "only if the price reaches the limit", costs.MAKER_FEE_RATE
            elif resting is False:
                note = "the limit fills at once at the market price"
            result = whatif.partial_close(self.state, prices, self.rules, self.position_id, volume, fee_rate)
        except DomainError as err:
            self.pnl_label.setText(f"no preview: {err}")
            self.level_label.setText("")
            return
        self.preview_result = result
        self._show_pnl(result.pnl, note)
        self.fees_label.setText(fees_summary(result.pnl))
        self.balance_label.setText(fmt.fmt_money(result.net_realized, currency, signed=True))
        self.level_label.setText(f"{before} -> {_level(result.account.margin_level)}")

    def _show_pnl(self, pnl: costs.PnlBreakdown, note: str) -> None:
        """Net P&L in the table's meaning (text/pnl.py), its terms in the tooltip."""
        self.pnl_label.setText(f"{fmt.fmt_money(pnl.net, pnl.currency, signed=True)} ({note})")
        self.pnl_label.setToolTip("\n".join([NET_PNL_MEANING + ":", *breakdown_lines(pnl)]))

    def confirmation_text(self, request: CloseRequest) -> str:
        pos = self.figures.position  # type: ignore[union-attr]
        base = self.pair_rules.base if self.pair_rules else ""
        size = f"{fmt.fmt_decimal(request.volume, self.volume_decimals)} {base}".strip()
        if request.settle:
            return f"Settle position {pos.id} ({pos.side.value} {pos.pair}), {size}, with collateral?"
        how = (
            "with a market order"
            if request.order_type == "market"
            else f"with a limit order at {fmt.fmt_decimal(request.limit_price, self.price_decimals)}"
        )
        part = (
            "all"
            if request.volume == self.remaining
            else f"{size} of {fmt.fmt_decimal(self.remaining, self.volume_decimals)}"
        )
        warning = self.fill_warning(request)
        return (
            f"Close {part} {base} of position {pos.id} ({pos.side.value} {pos.pair}) {how}?\n"
            + (f"\nWarning: {warning}\n\n" if warning else "")
            + f"Reduce-only. Mode: {self.mode}."
        )

    def accept(self) -> None:
        request = self.request()
        if request is None:
            return  # Enter in a field must not bypass the disabled OK
        if not Messages.instance().confirm(self, "Confirm close", self.confirmation_text(request)):
            return
        super().accept()

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        snapshot: Snapshot,
        position_id: str,
        mode: AccountKind | str,
        capabilities: Capabilities,
        live_trading_enabled: bool = False,
        settle: bool = False,
        follow=None,
    ) -> CloseRequest | None:
        """Run the dialog; the confirmed request, or None (re-validated after exec).

        `follow` (a signal carrying Snapshots) feeds the open dialog, so its preview tracks the market.
        """
        dialog = cls(snapshot, position_id, mode, capabilities, live_trading_enabled, parent, settle=settle)
        if follow is not None:
            follow.connect(dialog.set_snapshot)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.request()
        finally:
            if follow is not None:
                follow.disconnect(dialog.set_snapshot)
            dialog.deleteLater()


def _level(value: Decimal | None) -> str:
    return fmt.fmt_level(value, none="n/a (no margin used)")
