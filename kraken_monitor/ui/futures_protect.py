"""Protect position on a Kraken Futures row: the Protect dialog on futures figures, and the Orders dock's futures cancel.

The dialog is ui/protect_dialog.py's, fed a futures book: triggers on the mark by default (Kraken liquidates
on it; last and index may be chosen), the preview judged against the futures liquidation price, P&L after
the futures fee, and a confirmation naming the account and the contract. Confirmed choices become
worker/requests.py records for the futures poller (FuturesPoller.handle), whose thread alone uses its exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QDialog, QWidget

from kraken_monitor.domain import futures_protection, protection
from kraken_monitor.domain.futures import FuturesBook, FuturesPositionFigures
from kraken_monitor.domain.models import FUTURES_KEY_PREFIX, PairRules
from kraken_monitor.domain.orders import OpenOrder, OrderSpec, OrderType, TriggerSignal
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.base import Capabilities
from kraken_monitor.text import futures_orders as words
from kraken_monitor.text import orders as text
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.protect_dialog import ALL_TRIGGERS, ProtectChoice, ProtectDialog
from kraken_monitor.worker.requests import CancelOrder, ModifyOrder, PlaceOrder

TRAILING_NOTE = ("Kraken Futures trailing stops (trailing_stop) are sent as Kraken documents them; live acceptance "
                 "is unconfirmed: a refusal comes back in Kraken's words.")


def _decimals(tick: Decimal | None) -> int:
    if tick is None or tick <= 0:
        return 2
    exponent = tick.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 2


@dataclass(frozen=True)
class FuturesDialogSnapshot:
    """What the Protect dialog reads of a spot Snapshot, made from a futures book (prices are the marks)."""

    positions: tuple[FuturesPositionFigures, ...]
    pair_rules: dict[str, PairRules]
    as_of: datetime
    stale: bool = False
    stale_reason: str = ""
    marks: dict[str, Decimal] = field(default_factory=dict)

    def prices(self) -> dict[str, Decimal]:
        return dict(self.marks)

    @classmethod
    def of(cls, book: FuturesBook) -> FuturesDialogSnapshot:
        rules = {}
        for pair, contract in book.contracts.items():
            base, _, rest = pair.partition("/")
            rules[pair] = PairRules(pair, base, rest.split(":")[0] or "USD", Decimal(0), Decimal(0),
                                    price_decimals=_decimals(contract.tick_size), volume_decimals=4,
                                    exchange_id=contract.exchange_id)
        return cls(book.positions, rules, book.as_of, book.stale, book.stale_reason,
                   {pf.position.pair: pf.mark_price for pf in book.positions})


class FuturesProtectDialog(ProtectDialog):
    """The Protect dialog on a futures position; nothing is sent before its confirmation says yes."""

    def __init__(self, book: FuturesBook, position_id: str, mode: AccountKind | str, capabilities: Capabilities,
                 live_trading_enabled: bool = False, parent: QWidget | None = None, order_id: str | None = None,
                 account: str = "futures") -> None:
        self.account = account
        super().__init__(FuturesDialogSnapshot.of(book), position_id, mode, capabilities, live_trading_enabled,
                         parent, order_id=order_id, triggers=ALL_TRIGGERS)
        self.setWindowTitle("Protect futures position")
        self.trigger_box.setToolTip(words.FUTURES_TRIGGER_TIP)
        if order_id is None:
            self.trigger_box.setCurrentIndex(max(self.trigger_box.findData(TriggerSignal.MARK), 0))
        self.reduce_only_label.setText(f"{text.REDUCE_ONLY_TEXT} {TRAILING_NOTE}")
        self._refresh()

    def set_book(self, book: FuturesBook) -> None:
        """A fresh futures read: the preview follows the marks (connected while the dialog is open)."""
        self.set_snapshot(FuturesDialogSnapshot.of(book))  # type: ignore[arg-type]

    def _label(self) -> str:
        pf = self.figures
        if pf is None:
            return f"{self.account} position {self.position_id}"
        rules = self.pair_rules
        contract = rules.exchange_id if rules is not None and rules.exchange_id else pf.position.id
        return words.position_label(self.account, contract, pf.position.side.value, self.remaining, pf.position.pair)

    def validate(self) -> tuple[OrderSpec | None, str]:
        if self.order_type() is OrderType.TRAILING_STOP_LIMIT and not self._trading_refusal():
            return None, words.NO_TRAILING_LIMIT
        return super().validate()

    def _preview(self, spec: OrderSpec, others: tuple[OpenOrder, ...]) -> protection.ProtectionPreview:
        return futures_protection.preview(self.figures, spec, self.snapshot.as_of, others=others)  # type: ignore[arg-type]

    def _show_pnl_and_zone(self, result: protection.ProtectionPreview, spec: OrderSpec) -> None:
        rate = futures_protection.futures_fee_rate(spec.type)
        self.pnl_label.setText(words.pnl_text(result.pnl_at_trigger, result.fill_price, rate, self.pair_rules))
        self.pnl_label.setToolTip("")
        self.zone_label.setText(words.relation_text(result.relation, self.figures.liquidation_price, self.pair_rules))


def _capabilities(mode: AccountKind) -> Capabilities:
    # The futures poller's exchange lives in its thread; a book read means the account (and key, live) works.
    return Capabilities(can_trade=True, can_settle=False, can_add_collateral=False, can_add_isolated_margin=False,
                        can_place_orders=True, can_trail=True, trailing_note=TRAILING_NOTE)


def _live_trading(controller: Any) -> bool:
    config = getattr(controller, "config", None)
    return bool(getattr(config, "live_trading_enabled", False))


def protect(controller: Any, position_id: str, order_id: str | None = None) -> ProtectChoice | None:
    """FuturesController.protect: the dialog on its freshest book, then one request to its poller."""
    position_id = position_id.removeprefix(FUTURES_KEY_PREFIX)
    book: FuturesBook | None = controller.book
    figures = next((pf for pf in book.positions if pf.position.id == position_id), None) if book else None
    if book is None or book.account is None or figures is None:
        controller.outcome_ready.emit("No fresh futures figures for this position yet; try after the next read.", False)
        return None
    mode = AccountKind.parse(controller.poller.mode)
    dialog = FuturesProtectDialog(book, position_id, mode, _capabilities(mode), _live_trading(controller),
                                  controller.dialog_parent, order_id=order_id, account=controller.account)
    def on_book(fresh: FuturesBook) -> None:  # the preview follows the marks while the dialog is open
        if not fresh.stale:
            dialog.set_book(fresh)

    controller.book_ready.connect(on_book)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        choice: ProtectChoice | None = getattr(dialog, "choice", None)
    finally:
        controller.book_ready.disconnect(on_book)
        dialog.deleteLater()
    if choice is None:
        return None
    send(controller, choice)
    return choice


def send(controller: Any, choice: ProtectChoice) -> None:
    if choice.action == "cancel" and choice.order is not None:
        controller.poller.handle(CancelOrder(choice.order.id, choice.order.pair))
    elif choice.action == "modify" and choice.order is not None:
        controller.poller.handle(ModifyOrder(choice.order.id, choice.spec))
    else:
        controller.poller.handle(PlaceOrder(choice.spec))
    controller.outcome_ready.emit("Sent to Kraken Futures; waiting for its answer…", True)


def cancel(controller: Any, order: OpenOrder) -> bool:
    """The Orders dock's Cancel on a futures order: refused while live trading is off, sent only after a yes."""
    mode = AccountKind.parse(controller.poller.mode)
    parent = controller.dialog_parent
    if not mode.simulated and not _live_trading(controller):
        Messages.instance().error(parent, "Cannot cancel the order", text.LIVE_TRADING_OFF)
        return False
    book: FuturesBook | None = controller.book
    pf = next((p for p in book.positions if FUTURES_KEY_PREFIX + p.position.id == order.position_id), None) \
        if book else None
    contract = book.contracts.get(order.pair) if book else None
    label = words.position_label(controller.account, contract.exchange_id if contract else order.pair,
                                 pf.position.side.value if pf else "no position",
                                 pf.position.volume if pf else order.volume, order.pair)
    question = text.confirmation_text("cancel", None, order, label, None, str(mode))
    if not Messages.instance().confirm(parent, "Confirm cancel", question):
        return False
    controller.poller.handle(CancelOrder(order.id, order.pair))
    controller.outcome_ready.emit("Sent to Kraken Futures; waiting for its answer…", True)
    return True
