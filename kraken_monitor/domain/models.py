"""Immutable domain records: pair rules, tickers, positions, balances and computed snapshots (Decimal money)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from kraken_monitor.domain.venue import AccountKind

if TYPE_CHECKING:  # domain/orders.py imports Side from here
    from kraken_monitor.domain.orders import OpenOrder


class Side(str, enum.Enum):
    """Direction of a margin position; Kraken's `type` buy is long, sell is short."""

    LONG = "long"
    SHORT = "short"


class MarginMode(str, enum.Enum):
    """Cross = Kraken spot account-wide margin; isolated = per-position collateral (Futures, paper account)."""

    CROSS = "cross"
    ISOLATED = "isolated"


class Risk(enum.IntEnum):
    """Risk / alert level, ordered; UNKNOWN is below OK in value but always treated as 'not safe' by the UI."""

    UNKNOWN = -1
    OK = 0
    WATCH = 1
    WARNING = 2
    CRITICAL = 3
    LIQUIDATION = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class PairRules:
    """Per-pair rules from Kraken `AssetPairs` (levels are percentages, e.g. Decimal('80'))."""

    symbol: str  # unified "BTC/USD"
    base: str  # "BTC"
    quote: str  # "USD"
    margin_call_level: Decimal  # AssetPairs.margin_call, %
    margin_stop_level: Decimal  # AssetPairs.margin_stop (liquidation), %
    leverage_buy: tuple[int, ...] = ()
    leverage_sell: tuple[int, ...] = ()
    price_decimals: int = 1
    volume_decimals: int = 8
    min_order: Decimal = Decimal("0")
    exchange_id: str = ""  # Kraken's own pair name, e.g. "XXBTZUSD"
    maintenance_rate: Decimal = Decimal("0.01")  # isolated positions: maintenance margin / notional
    # Non-empty when AssetPairs gave no valid levels for the pair (missing, or not 0 < stop < call):
    # the levels above are then Kraken's usual 80/40 and this says so, e.g. "levels unknown, using 80/40".
    levels_unknown: str = ""


@dataclass(frozen=True)
class Ticker:
    """One pair's prices at one moment; `last` is the price positions are valued at."""

    pair: str
    bid: Decimal
    ask: Decimal
    last: Decimal
    as_of: datetime


@dataclass(frozen=True)
class Position:
    """One open margin position as the exchange (or paper account) reports it.

    Reading chosen for Kraken OpenPositions: `cost` and `margin` describe the REMAINING volume
    (vol - vol_closed), because Kraken's own docs example has net == value - cost exactly after a
    partial close (see shared reference section 3). Entry price = cost / remaining volume.
    """

    id: str
    pair: str  # unified symbol, "BTC/USD"
    side: Side
    volume: Decimal  # originally opened volume (Kraken `vol`)
    volume_closed: Decimal  # Kraken `vol_closed`
    cost: Decimal  # opening cost of the remaining volume, quote currency
    margin: Decimal  # used margin at opening for the remaining volume (cost / leverage), quote currency
    opened_at: datetime
    trading_fee: Decimal = Decimal("0")  # Kraken `fee`: trading fee paid on opening
    opening_fee: Decimal | None = None  # margin opening fee; None = derive from terms
    rollover_terms: str = ""  # Kraken `terms`, e.g. "0.0100% per 4 hours"
    next_rollover: datetime | None = None  # Kraken `rollovertm`
    margin_mode: MarginMode = MarginMode.CROSS
    allocated_margin: Decimal | None = None  # isolated only: collateral set aside for this position
    exchange_value: Decimal | None = None  # Kraken `value` (docalcs), cross-check only
    exchange_net: Decimal | None = None  # Kraken `net` (docalcs), cross-check only

    @property
    def remaining_volume(self) -> Decimal:
        return self.volume - self.volume_closed


@dataclass(frozen=True)
class Balance:
    """Account collateral and the exchange's own reported figures (TradeBalance `tb`, `e`, `m`, `ml`)."""

    currency: str  # "USD"
    trade_balance: Decimal  # tb: collateral value (excludes isolated allocations in the paper account)
    exchange_equity: Decimal | None = None  # e
    exchange_used_margin: Decimal | None = None  # m
    exchange_margin_level: Decimal | None = None  # ml, %
    exchange_unrealized_pnl: Decimal | None = None  # n (cross-check: Kraken's e must equal tb + n)


@dataclass(frozen=True)
class AccountState:
    """What one account read returns: balance plus every open position and every resting order."""

    balance: Balance
    positions: tuple[Position, ...]
    as_of: datetime
    orders: tuple[OpenOrder, ...] = ()  # OpenOrders / openorders read with the account (issue 16)


@dataclass(frozen=True)
class PositionFigures:
    """Everything the monitor shows about one position at one price (computed, never stored as truth)."""

    position: Position
    price: Decimal
    entry_price: Decimal
    remaining_volume: Decimal
    leverage: Decimal
    valuation: Decimal | None  # money fields: None only when unknown_reason says why
    unrealized_pnl: Decimal | None
    pnl_pct: Decimal  # unrealised P&L in % of used margin at opening (a ratio: the same in any currency)
    used_margin: Decimal | None  # shorts revalued at the current price (and FX)
    fees: Decimal | None  # trading fee + opening fee + rollovers charged so far
    net_pnl: Decimal | None  # unrealized_pnl - fees - closing_fee (domain/costs.py: one meaning everywhere)
    break_even_price: Decimal  # quote currency
    margin_call_price: Decimal | None  # None when no price can reach it
    liquidation_price: Decimal | None
    distance_to_margin_call_pct: Decimal | None  # % of current price, positive = room left
    distance_to_liquidation_pct: Decimal | None
    margin_level: Decimal | None  # isolated: own level; cross: None (see AccountFigures)
    next_rollover: datetime | None
    projected_cost_24h: Decimal | None
    risk: Risk = Risk.OK
    liquidation_order: int | None = None  # 1 = Kraken would liquidate this one first (oldest, FIFO)
    # Currencies (issue 11): prices (price, entry, break-even, trigger prices) are in `quote_currency`
    # (common code: BTC, not XBT); money (valuation, unrealized_pnl, used_margin, fees, net_pnl,
    # projected_cost_24h, cost) is in `account_currency`, converted at `fx_rate` (quote -> account).
    # "" = the record predates currencies (same currency, no conversion).
    quote_currency: str = ""
    account_currency: str = ""
    fx_rate: Decimal | None = None  # units of account currency per unit of quote currency, this cycle
    cost: Decimal | None = None  # opening cost of the remaining volume, account currency at fx_rate
    closing_fee: Decimal | None = None  # estimated fee of closing it all at market now (costs.TAKER_FEE_RATE)
    # Non-empty = the money of this position cannot be known (e.g. "no price for EUR/USD"): every money
    # field above and the trigger prices/distances are then None, never a number computed without it.
    unknown_reason: str = ""
    # Protection (issue 16, domain/protection.attach): the orders attached to this position, the nearest
    # stop-loss / take-profit trigger (quote currency) with its distance in % of the price (positive = not
    # reached) and the net P&L if it fills (after fees, account currency), and warning codes
    # (protection.OrderWarning values: "stop_beyond_liquidation", "unprotected", "order_exceeds_position").
    orders: tuple[OpenOrder, ...] = ()
    stop_loss_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    stop_loss_distance_pct: Decimal | None = None
    take_profit_distance_pct: Decimal | None = None
    stop_loss_pnl: Decimal | None = None
    take_profit_pnl: Decimal | None = None
    warnings: tuple[str, ...] = ()

    @property
    def unknown(self) -> bool:
        return bool(self.unknown_reason)


@dataclass(frozen=True)
class FxSensitivity:
    """How the account margin level reacts to the account currency moving against the positions' currencies.

    `move` (%) = change of the account currency's value against EVERY position currency at once:
    +5 means each foreign rate into the account currency is divided by 1.05 (a USD account: EUR/USD
    1.10 -> 1.0476). Pair prices are held constant (their own risk is the per-position trigger
    price); the trade balance is held in the account currency (TradeBalance reports it there).
    `margin_call_move_pct` / `liquidation_move_pct`: the move at which the level reaches the margin
    call / liquidation level; None when no move reaches it (or the level does not depend on FX).
    A move already past (the level is below it now) is the move back needed, sign shows direction.
    """

    account_currency: str
    currencies: tuple[str, ...]  # the position currencies that move (common codes, sorted)
    margin_call_move_pct: Decimal | None
    liquidation_move_pct: Decimal | None
    levels: tuple[tuple[Decimal, Decimal | None], ...]  # (move %, margin level %) at -10, -5, +5, +10


@dataclass(frozen=True)
class AccountFigures:
    """Account-wide cross-margin figures; `margin_level` is None when no margin is used."""

    currency: str
    trade_balance: Decimal
    equity: Decimal | None  # None only when unknown_reason says why
    used_margin: Decimal | None
    free_margin: Decimal | None
    margin_level: Decimal | None  # ours, %; None when no margin is used or unknown
    margin_level_exchange: Decimal | None  # Kraken's ml, % (live only)
    margin_call_level: Decimal  # %
    liquidation_level: Decimal  # %
    risk: Risk = Risk.OK
    # Non-empty = the account's equity / used margin / level cannot be known (a missing FX rate names
    # its pair): equity, used_margin, free_margin and margin_level are then None and risk is UNKNOWN.
    unknown_reason: str = ""
    fx_sensitivity: FxSensitivity | None = None  # None: no position outside the account currency
    orders: tuple[OpenOrder, ...] = ()  # resting orders attached to no position (issue 16)

    @property
    def unknown(self) -> bool:
        return bool(self.unknown_reason)


Fact = tuple[str, "Decimal | str | int | None"]


@dataclass(frozen=True)
class Alert:
    """One alert (or position event) through its whole life: the ONE record the engine, journal, UI and
    CLI share. Numbers and a reason code only; every sentence about it is made in `kraken_monitor.text`.

    `position_id` None means the whole account (or stale data). `id` is the journal row id (> 0), a
    local negative id when there is no journal, 0 before the engine recorded it. The lifecycle fields (`acknowledged_at`, `snoozed_until`) are set by
    the alert engine alone; a changed record is a new record (records are immutable).
    """

    key: str  # stable identity used for hysteresis, snooze and dedup, e.g. "account" or "pos:TXID"
    level: Risk
    position_id: str | None
    pair: str | None
    margin_level: Decimal | None
    distance_to_liquidation_pct: Decimal | None
    reason: str  # reason code, e.g. "margin_level", "position_distance", "stale", "position_liquidated"
    fired_at: datetime
    stale: bool = False
    facts: tuple[Fact, ...] = ()  # the other numbers the text needs: (("liquidation_price", D), ...)
    id: int = 0
    acknowledged_at: datetime | None = None
    snoozed_until: datetime | None = None

    def fact(self, name: str, default: Decimal | str | int | None = None) -> Decimal | str | int | None:
        for key, value in self.facts:
            if key == name:
                return value
        return default

    @property
    def is_event(self) -> bool:
        """A position event (opened, closed, liquidated, ...) rather than a risk level reached."""
        return self.reason.startswith(EVENT_REASON_PREFIX)

    @property
    def is_futures(self) -> bool:
        """About the Kraken Futures account or one of its positions (domain/futures_alerts.py)."""
        return self.key.startswith(FUTURES_KEY_PREFIX)

    def snoozed_at(self, now: datetime) -> bool:
        return self.snoozed_until is not None and now < self.snoozed_until


EVENT_REASON_PREFIX = "position_"
FUTURES_KEY_PREFIX = "futures:"


@dataclass(frozen=True)
class Snapshot:
    """One immutable poll result the worker emits to the UI and the headless commands.

    When `stale` is true the account risk is UNKNOWN and `stale_reason` says why; `account` is None
    if no account read has ever succeeded (never shown as "no positions").
    """

    mode: AccountKind  # demo | paper | live; a string is parsed on construction
    as_of: datetime
    stale: bool
    account: AccountFigures | None
    positions: tuple[PositionFigures, ...]
    tickers: dict[str, Ticker] = field(default_factory=dict)
    pair_rules: dict[str, PairRules] = field(default_factory=dict)
    alerts: tuple[Alert, ...] = ()  # alerts fired by this cycle
    stale_reason: str = ""
    prices_as_of: datetime | None = None
    account_as_of: datetime | None = None
    connection: str = "ok"  # "ok" | "retrying" | "auth failed" | "starting"

    def __post_init__(self) -> None:
        if not isinstance(self.mode, AccountKind):
            object.__setattr__(self, "mode", AccountKind.parse(self.mode))

    def account_state(self) -> AccountState | None:
        """The engine input this snapshot was computed from (for what-if previews), or None if unknown."""
        if self.account is None:
            return None
        balance = Balance(
            currency=self.account.currency,
            trade_balance=self.account.trade_balance,
            exchange_margin_level=self.account.margin_level_exchange,
        )
        orders = tuple(o for pf in self.positions for o in pf.orders) + self.account.orders
        return AccountState(balance, tuple(pf.position for pf in self.positions), self.account_as_of or self.as_of,
                            orders)

    def prices(self) -> dict[str, Decimal]:
        """Last price per pair: tickers first, then each position's valuation price."""
        result = {pf.position.pair: pf.price for pf in self.positions}
        result.update({pair: t.last for pair, t in self.tickers.items()})
        return result
