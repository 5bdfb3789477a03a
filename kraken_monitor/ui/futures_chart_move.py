"""A futures order line dragged on the chart: the same order at the new trigger, confirmed as the Protect dialog does.

The window refuses first while replaying or when the row is stale (ui/futures_window.py chart_order_moved);
here, on the futures controller's freshest book: the order must still be open, the trigger valid for the
position (domain OrderSpec.validate on the mark), live trading on when live. The question is the Protect
dialog's modify confirmation (text/orders.py confirmation_text, with its "fires only past liquidation"
warning), and only a yes sends the ModifyOrder record to the futures poller (ui/futures_protect.py send).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kraken_monitor.domain import futures_protection, protection
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.futures import FuturesBook
from kraken_monitor.domain.models import FUTURES_KEY_PREFIX
from kraken_monitor.domain.orders import OrderSpec
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.text import futures_chart as chart_words
from kraken_monitor.text import futures_orders as words
from kraken_monitor.text import orders as text
from kraken_monitor.ui.futures_protect import FuturesDialogSnapshot, send
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.protect_dialog import ProtectChoice

TITLE = "Cannot move the order"


def move_order(controller: Any, row_id: str, order_id: str, trigger: Decimal) -> ProtectChoice | None:
    """FuturesController.move_order: validate, ask, and send the modify only after a yes; the choice sent or None."""
    parent = controller.dialog_parent
    book: FuturesBook | None = controller.book
    if book is None or book.stale or book.account is None:
        Messages.instance().error(parent, TITLE, chart_words.NOT_MOVABLE_STALE)
        return None
    position_id = row_id.removeprefix(FUTURES_KEY_PREFIX)
    pf = next((p for p in book.positions if p.position.id == position_id), None)
    order = next((o for o in (pf.orders or ()) if o.id == order_id), None) if pf is not None else None
    if pf is None or order is None:
        Messages.instance().error(parent, TITLE, chart_words.NOT_OPEN.format(order_id=order_id))
        return None
    mode = AccountKind.parse(controller.poller.mode)
    config = getattr(controller, "config", None)
    refusal = text.LIVE_TRADING_OFF if not mode.simulated and not getattr(config, "live_trading_enabled", False) else ""
    spec = OrderSpec(pf.position.id, order.pair, order.type, order.side, order.volume, trigger, order.limit_price,
                     order.trigger, order.trailing_offset, order.trailing_percent)
    try:
        spec.validate(pf.price, pf.remaining_volume, pf.position.side)
    except DomainError as err:
        refusal = refusal or str(err)
    if refusal:
        Messages.instance().error(parent, TITLE, refusal)
        return None
    rules = FuturesDialogSnapshot.of(book).pair_rules.get(pf.position.pair)
    contract = book.contracts.get(pf.position.pair)
    label = words.position_label(controller.account, contract.exchange_id if contract else pf.position.id,
                                 pf.position.side.value, pf.remaining_volume, pf.position.pair)
    others = tuple(o for o in (pf.orders or ()) if o.id != order.id)
    result = futures_protection.preview(pf, spec, book.as_of, others=others)
    extra = ("Warning: " + text.WARNING_TEXT[text.STOP_BEYOND_LIQUIDATION]
             if result.relation is protection.Relation.BEYOND_LIQUIDATION else "")
    question = text.confirmation_text("modify", spec, order, label, rules, str(mode), extra)
    if not Messages.instance().confirm(parent, "Confirm modify", question):
        return None
    if controller.book is None:  # the poll thread went silent while the question was open
        Messages.instance().error(parent, TITLE, "Not sent: " + chart_words.NOT_MOVABLE_STALE.split(": ", 1)[1])
        return None
    choice = ProtectChoice("modify", spec, order)
    send(controller, choice)
    return choice
