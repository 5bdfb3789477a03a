"""What the trader asks the worker to do: one frozen record per action, sent to `PollWorker.handle`.

Adding an action is a record here (its `apply` calls ONE `Poller` method), that `Poller` method, and the
dialog or QAction that builds the record. The GUI imports only this module of the worker side; the
session (ui/session.py) carries every record to the worker's single slot, queued into its thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any


class Request:
    """Base of every record. `apply(poller, now)` runs in the poll thread and returns the result."""

    def apply(self, poller: Any, now: datetime) -> Any:  # pragma: no cover - every record overrides it
        raise NotImplementedError


class OrderRequest(Request):
    """Moves money (journaled by the Poller); on success the worker re-reads the account at once."""


class AlertRequest(Request):
    """Changes an alert's state; the changed alert goes out on `alerts_changed` to every view."""

    verb = "change"  # "Could not <verb> the alert: ..."


class DataRequest(Request):
    """A view's read (no money moves, no alert changes): the result goes out on `history_ready` as
    {key: result}; a failure is logged and the view asks again later."""

    key = "data"
    doing = "a read for the window"  # what the watchdog says the poll thread is busy with


@dataclass(frozen=True)
class ClosePosition(OrderRequest):
    position_id: str
    volume: Decimal
    order_type: str = "market"  # "market" | "limit"
    limit_price: Decimal | None = None

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.close(self.position_id, self.volume, self.order_type or "market", self.limit_price)


@dataclass(frozen=True)
class PlaceOrder(OrderRequest):
    """A protective order (stop-loss, take-profit, trailing stop; always reduce-only) on one position (issue 16)."""

    spec: Any  # domain.orders.OrderSpec

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.place_order(self.spec)


@dataclass(frozen=True)
class CancelOrder(OrderRequest):
    """Cancel one resting order (Kraken CancelOrder / futures cancelorder)."""

    order_id: str
    pair: str

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.cancel_order(self.order_id, self.pair)


@dataclass(frozen=True)
class ModifyOrder(OrderRequest):
    """Move a resting order (a dragged chart line, the Protect dialog's modify): EditOrder, or cancel + replace."""

    order_id: str
    spec: Any  # domain.orders.OrderSpec: the order as it should be

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.modify_order(self.order_id, self.spec)


@dataclass(frozen=True)
class Settle(OrderRequest):
    position_id: str

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.settle(self.position_id)


@dataclass(frozen=True)
class AddCollateral(OrderRequest):
    amount: Decimal

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.add_collateral(self.amount)


@dataclass(frozen=True)
class AddIsolatedMargin(OrderRequest):
    position_id: str
    amount: Decimal

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.add_isolated_margin(self.position_id, self.amount)


@dataclass(frozen=True)
class ChangeLeverage(OrderRequest):
    """Kraken Futures: a symbol's isolated leverage (lower adds margin, higher releases it); None: back to cross.

    Goes to the futures account's poller (worker/futures_watch.FuturesPoller.handle), whose thread alone
    uses its exchange; the outcome comes back as a LeverageOutcome.
    """

    pair: str
    leverage: Decimal | None

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.set_leverage(self.pair, self.leverage)


@dataclass(frozen=True)
class TransferToFlex(OrderRequest):
    """Kraken Futures cross "add margin": collateral from the futures cash wallet into the flex account.

    Like ChangeLeverage it goes to FuturesPoller.handle; the outcome comes back as a TransferOutcome.
    """

    amount: Decimal
    currency: str = "USD"

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.transfer_to_flex(self.amount, self.currency)


class JournalRequest(Request):
    """Alerts another account's monitor fired (the futures account, ui/futures_controller.py): the journal
    gives them ids, the alert engine keeps their records (so acknowledge and snooze work and persist), and
    they go out on `alerts_fired` like the worker's own. One thread owns the journal: this one."""


@dataclass(frozen=True)
class RecordAlerts(JournalRequest):
    alerts: tuple  # tuple[Alert, ...], id 0

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.record_alerts(self.alerts)


@dataclass(frozen=True)
class Acknowledge(AlertRequest):
    alert_id: int  # the journal id the alert carries
    verb = "acknowledge"

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.acknowledge_alert(self.alert_id, now)


@dataclass(frozen=True)
class Snooze(AlertRequest):
    """At the level of THAT alert (a higher level fires through); LIQUIDATION needs `confirmed`."""

    alert_id: int
    seconds: float
    confirmed: bool = False
    verb = "snooze"

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.snooze_alert(self.alert_id, now + timedelta(seconds=self.seconds), self.confirmed)


@dataclass(frozen=True)
class RefreshNow(Request):
    """F5 / Reconnect: one immediate account + price read; after an auth failure, a new connection."""


@dataclass(frozen=True)
class FetchCandles(DataRequest):
    """The chart's candles of one pair and timeframe: kept ones topped up from the venue (a CandleSet)."""

    pair: str
    timeframe: str
    key = "candles"  # worker/candle_sync.CANDLES_KEY: the chart's set_history knows it
    doing = "candles for the chart"

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.candles(self.pair, self.timeframe)


@dataclass(frozen=True)
class FetchClosedHistory(DataRequest):
    """The history dock's venue rows (live: Kraken's TradesHistory / ClosedOrders / Ledgers) since a time.

    A venue without its own history (demo, paper) answers no rows; a failed read answers its reason,
    so the dock says the journal is all it shows."""

    since: datetime
    key = "closed_history"
    doing = "Kraken's trade history for the history dock"

    def apply(self, poller: Any, now: datetime) -> Any:
        return poller.closed_history(self.since)
