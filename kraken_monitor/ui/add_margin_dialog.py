"""Add-margin dialog: credit the cross account, allocate to an isolated position, or explain a Kraken deposit."""

from __future__ import annotations

import enum
from dataclasses import replace
from decimal import ROUND_CEILING, Decimal

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.domain import margin, whatif
from kraken_monitor.domain.errors import DomainError, InvalidAmount
from kraken_monitor.domain.models import MarginMode, PositionFigures, Snapshot
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.base import Capabilities
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui.dialog_footer import DialogFooter
from kraken_monitor.ui.preview_status import PreviewStatus
from kraken_monitor.ui.validators import parse_amount, to_input_text

AMOUNT_DECIMALS = 2  # collateral is a fiat/stable quote currency
DEFAULT_TARGET_LEVEL = 200
KRAKEN_DEPOSIT_TEXT = (
    "Kraken spot margin is cross margin: the whole account's collateral backs every position, and "
    'there is no per-position "add margin". To raise the margin level, deposit funds on Kraken '
    "(kraken.com -> Funding -> Deposit) or move them from another Kraken wallet into the spot "
    "account. The monitor picks up the new trade balance on its next account poll. Use the helper "
    "below to see how much is needed."
)


class AddMarginKind(enum.Enum):
    """Which of the three flows the dialog shows."""

    COLLATERAL = "collateral"  # paper/demo cross account: credit collateral
    ISOLATED = "isolated"  # allocate margin to one isolated position
    DEPOSIT_ON_KRAKEN = "deposit"  # live cross: nothing to do here, explain how


def _level(value: Decimal | None) -> str:
    return fmt.fmt_level(value, none="n/a (no margin used)")


def _price(value: Decimal | None, decimals: int) -> str:
    return "unreachable" if value is None else fmt.fmt_decimal(value, decimals)


class AddMarginDialog(QDialog):
    """Validates live (OK disabled with the reason shown) and previews the engine's what-if as you type."""

    def __init__(
        self,
        snapshot: Snapshot,
        position_id: str | None,
        mode: AccountKind | str,
        capabilities: Capabilities,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.mode = AccountKind.parse(mode)
        self.capabilities = capabilities
        self._take(snapshot, position_id)
        self.position_id = self.figures.position.id if self.figures else None
        self.currency = snapshot.account.currency if snapshot.account else "USD"
        self.kind = self._choose_kind()
        self.preview_result: object | None = None  # AccountFigures or PositionFigures of the last preview
        self.cross_result: object | None = None  # isolated: the cross account after the allocation
        self._build()
        self._refresh()

    def _take(self, snapshot: Snapshot, position_id: str | None) -> None:
        self.snapshot = snapshot
        self.state = snapshot.account_state()
        self.prices = snapshot.prices()
        self.rules = snapshot.pair_rules
        self.figures: PositionFigures | None = next(
            (pf for pf in snapshot.positions if pf.position.id == position_id), None
        )

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Recompute the preview on fresh figures (connected to the window's snapshots while open)."""
        self._take(snapshot, self.position_id)
        self.preview_status.update_from(snapshot)
        self._refresh()

    def _pairs(self) -> list[str]:
        if self.figures is not None and self.kind is not AddMarginKind.ISOLATED:
            return [self.figures.position.pair]
        return sorted({pf.position.pair for pf in self.snapshot.positions})

    def _choose_kind(self) -> AddMarginKind:
        if self.figures is not None and self.figures.position.margin_mode is MarginMode.ISOLATED:
            return AddMarginKind.ISOLATED
        return (
            AddMarginKind.COLLATERAL
            if self.capabilities.can_add_collateral
            else AddMarginKind.DEPOSIT_ON_KRAKEN
        )

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        titles = {
            AddMarginKind.COLLATERAL: f"Add collateral ({self.mode} account)",
            AddMarginKind.ISOLATED: "Add margin to isolated position",
            AddMarginKind.DEPOSIT_ON_KRAKEN: "Add margin: deposit on Kraken",
        }
        self.setWindowTitle(titles[self.kind])
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        self.intro = QLabel(self._intro_text())
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)

        form = QFormLayout()
        self.amount_edit = QLineEdit()
        self.amount_edit.setPlaceholderText(f"amount in {self.currency}")
        self.amount_edit.textChanged.connect(self._refresh)
        form.addRow(f"Amount ({self.currency}):", self.amount_edit)

        self.target_spin = QSpinBox()
        self.target_spin.setRange(1, 10_000)
        self.target_spin.setSuffix(" %")
        self.target_spin.setValue(DEFAULT_TARGET_LEVEL)
        self.target_spin.valueChanged.connect(self._refresh_required)
        self.required_label = QLabel()
        self.fill_button = QPushButton("Use this amount")
        self.fill_button.clicked.connect(self._fill_required)
        helper = QHBoxLayout()
        helper.addWidget(self.target_spin)
        helper.addWidget(self.required_label, 1)
        helper.addWidget(self.fill_button)
        form.addRow("Amount needed to reach:", helper)

        self.level_label = QLabel()
        self.margin_call_label = QLabel()
        self.liquidation_label = QLabel()
        for label in (self.level_label, self.margin_call_label, self.liquidation_label):
            label.setWordWrap(True)
        form.addRow("Margin level:", self.level_label)
        form.addRow("Margin-call price:", self.margin_call_label)
        form.addRow("Liquidation price:", self.liquidation_label)
        self.cross_level_label = QLabel()
        self.cross_prices_label = QLabel()
        if self.kind is AddMarginKind.ISOLATED:
            # The allocation leaves the cross balance: the cross account moves too (reference section 2).
            for label in (self.cross_level_label, self.cross_prices_label):
                label.setWordWrap(True)
            form.addRow("Cross account level:", self.cross_level_label)
            form.addRow("Cross liquidation prices:", self.cross_prices_label)
        layout.addLayout(form)
        self.preview_status = PreviewStatus(self.snapshot, self._pairs())
        layout.addWidget(self.preview_status)

        self.footer = DialogFooter(
            self,
            layout,
            "Allocate margin" if self.kind is AddMarginKind.ISOLATED else "Add collateral",
            can_accept=self.kind is not AddMarginKind.DEPOSIT_ON_KRAKEN,
        )
        self.reason_label, self.buttons, self.ok_button = self.footer.reason_label, self.footer.buttons, self.footer.ok_button

    def _intro_text(self) -> str:
        if self.kind is AddMarginKind.DEPOSIT_ON_KRAKEN:
            return KRAKEN_DEPOSIT_TEXT
        if self.kind is AddMarginKind.ISOLATED:
            p = self.figures.position  # type: ignore[union-attr]
            return (
                f"Move collateral from the cross account into isolated position {p.id} ({p.side.value} "
                f"{p.pair}). Its liquidation price moves away, and the cross account has that much less "
                "collateral: its margin level falls and its positions' liquidation prices move closer. "
                "The amount is at risk if this position is liquidated."
            )
        note = " (simulated money)" if self.mode.simulated else ""
        return f"Credit the cross-margin account with collateral{note}; every cross position benefits."

    # -- validation and preview -----------------------------------------------------------------
    def _maximum(self) -> Decimal | None:
        # Isolated margin comes out of the account's free margin; a deposit has no upper bound here.
        if self.kind is AddMarginKind.ISOLATED and self.snapshot.account is not None:
            return max(self.snapshot.account.free_margin, Decimal(0))
        return None

    def validate(self) -> tuple[Decimal | None, str]:
        """(amount, "") when OK may be pressed, else (None or amount, reason)."""
        if self.state is None:
            return None, "Account data is not available yet; try again after the next update."
        if self.position_id is not None and self.figures is None:
            return None, f"Position {self.position_id} is no longer open."
        if self.kind is AddMarginKind.ISOLATED and not self.capabilities.can_add_isolated_margin:
            return None, self.capabilities.note or "This venue cannot add margin to a position."
        try:
            amount = parse_amount(
                self.amount_edit.text(), decimals=AMOUNT_DECIMALS, maximum=self._maximum(), unit=self.currency
            )
        except InvalidAmount as err:
            return None, str(err)
        if self.kind is AddMarginKind.DEPOSIT_ON_KRAKEN:
            return amount, "Deposits are made on Kraken; this window only shows their effect."
        return amount, ""

    def amount(self) -> Decimal | None:
        amount, reason = self.validate()
        return amount if not reason else None

    def _refresh(self) -> None:
        amount, reason = self.validate()
        self.footer.show_reason(reason)
        self._show_preview(amount if amount is not None else Decimal(0))
        self._refresh_required()

    def _show_preview(self, amount: Decimal) -> None:
        self.preview_result = self.cross_result = None
        labels = (self.level_label, self.margin_call_label, self.liquidation_label, self.cross_level_label,
                  self.cross_prices_label)  # fmt: skip
        if self.state is None or (self.position_id is not None and self.figures is None):
            text = "unknown (no account data)" if self.state is None else "position no longer open"
            for label in labels:
                label.setText(text)
            return
        try:
            if self.kind is AddMarginKind.ISOLATED:
                self._preview_isolated(amount)
            else:
                self._preview_cross(amount)
            if amount <= 0:
                self.preview_result = None  # the figures shown are today's, not a what-if
        except DomainError as err:
            for label in labels:
                label.setText("")
            self.level_label.setText(f"no preview: {err}")

    def _preview_isolated(self, amount: Decimal) -> None:
        before = self.figures
        after = (
            whatif.add_isolated_margin(self.state, self.prices, self.rules, self.position_id, amount)
            if amount > 0
            else before
        )
        self.preview_result = after
        decimals = self._price_decimals(before.position.pair)
        self.level_label.setText(f"{_level(before.margin_level)} -> {_level(after.margin_level)}")
        self.margin_call_label.setText(
            f"{_price(before.margin_call_price, decimals)} -> {_price(after.margin_call_price, decimals)}"
        )
        self.liquidation_label.setText(
            f"{_price(before.liquidation_price, decimals)} -> {_price(after.liquidation_price, decimals)}"
        )
        cross_before = self.snapshot.account
        cross_after = (
            whatif.cross_after_allocation(self.state, self.prices, self.rules, amount) if amount > 0 else cross_before
        )
        self.cross_result = cross_after if amount > 0 else None
        self.cross_level_label.setText(
            f"{_level(cross_before.margin_level if cross_before else None)} -> {_level(cross_after.margin_level)}"
        )
        _, liquidations = self._cross_prices(-amount, cross_after)
        self.cross_prices_label.setText(", ".join(liquidations) or "no cross positions")

    def _preview_cross(self, amount: Decimal) -> None:
        after = (
            whatif.deposit(self.state, self.prices, self.rules, amount)
            if amount > 0
            else self.snapshot.account
        )
        self.preview_result = after
        before_level = self.snapshot.account.margin_level if self.snapshot.account else None
        self.level_label.setText(f"{_level(before_level)} -> {_level(after.margin_level)}")
        calls, liquidations = self._cross_prices(amount, after)
        self.margin_call_label.setText(", ".join(calls) or "no open positions")
        self.liquidation_label.setText(", ".join(liquidations) or "no open positions")

    def _cross_prices(self, delta: Decimal, after) -> tuple[list[str], list[str]]:
        """'PAIR old -> new' margin-call and liquidation prices of the cross pairs when the balance moves by delta."""
        now = self.state.balance
        balance = replace(now, trade_balance=now.trade_balance + delta)
        cross = tuple(p for p in self.state.positions if p.margin_mode is MarginMode.CROSS)
        held = sorted({p.pair for p in cross})
        pairs = [self.figures.position.pair] if self.figures and self.figures.position.pair in held else held
        calls: list[str] = []
        liquidations: list[str] = []
        for pair in pairs:
            decimals = self._price_decimals(pair)
            for level, out in ((after.margin_call_level, calls), (after.liquidation_level, liquidations)):
                old = margin.cross_trigger_price(now, cross, self.prices, pair, level)
                new = margin.cross_trigger_price(balance, cross, self.prices, pair, level)
                out.append(f"{pair} {_price(old, decimals)} -> {_price(new, decimals)}")
        return calls, liquidations

    def _price_decimals(self, pair: str) -> int:
        rules = self.rules.get(pair)
        return rules.price_decimals if rules else 2

    # -- "amount needed to reach X %" -----------------------------------------------------------
    def required_amount(self) -> Decimal | None:
        """Smallest amount (rounded up to cents) that brings the margin level to the target; None if unknown."""
        if self.state is None:
            return None
        target = Decimal(self.target_spin.value())
        try:
            if self.kind is AddMarginKind.ISOLATED:
                needed = self._required_isolated(target)
            else:
                needed = whatif.required_deposit(self.state, self.prices, self.rules, target)
        except DomainError:
            return None
        if needed is None:
            return None
        return needed.quantize(Decimal(1).scaleb(-AMOUNT_DECIMALS), rounding=ROUND_CEILING)

    def _required_isolated(self, target: Decimal) -> Decimal | None:
        # The engine has no closed form for isolated top-ups; the level rises monotonically with the
        # allocation, so bisect on the engine itself (exact to a cent in ~40 steps).
        def level(amount: Decimal) -> Decimal | None:
            if amount <= 0:
                return self.figures.margin_level
            pf = whatif.add_isolated_margin(self.state, self.prices, self.rules, self.position_id, amount)
            return pf.margin_level

        current = level(Decimal(0))
        if current is None or current >= target:
            return Decimal(0)
        low, high = Decimal(0), max(self.figures.valuation, Decimal(1))
        for _ in range(60):
            value = level(high)
            if value is not None and value >= target:
                break
            low, high = high, high * 2
        else:
            return None
        cent = Decimal(1).scaleb(-AMOUNT_DECIMALS)
        while high - low > cent:
            mid = (low + high) / 2
            value = level(mid)
            if value is not None and value >= target:
                high = mid
            else:
                low = mid
        return high

    def _refresh_required(self) -> None:
        needed = self.required_amount()
        if needed is None:
            self.required_label.setText("unknown")
            self.fill_button.setEnabled(False)
        elif needed == 0:
            self.required_label.setText("already above this level")
            self.fill_button.setEnabled(False)
        else:
            verb = "deposit on Kraken" if self.kind is AddMarginKind.DEPOSIT_ON_KRAKEN else "add"
            self.required_label.setText(f"{verb} {fmt.fmt_money(needed, self.currency)}")
            self.fill_button.setEnabled(True)

    def _fill_required(self) -> None:
        needed = self.required_amount()
        if needed:
            self.amount_edit.setText(to_input_text(needed, AMOUNT_DECIMALS))

    def accept(self) -> None:
        if self.ok_button is None or self.amount() is None:
            return  # the button is disabled, but Enter in the line edit must not slip through
        super().accept()

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        snapshot: Snapshot,
        position_id: str | None,
        mode: AccountKind | str,
        capabilities: Capabilities,
        follow=None,
    ) -> Decimal | None:
        """Run the dialog; the validated amount, or None if cancelled (re-checked after exec).

        `follow` (a signal carrying Snapshots) feeds the open dialog, so its preview tracks the market.
        """
        dialog = cls(snapshot, position_id, mode, capabilities, parent)
        if follow is not None:
            follow.connect(dialog.set_snapshot)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.amount()
        finally:
            if follow is not None:
                follow.disconnect(dialog.set_snapshot)
            dialog.deleteLater()
