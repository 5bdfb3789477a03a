"""Kraken Futures account and position figures from Kraken's own flex account, marks and positions (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures_liquidation import (
    ZERO,
    CrossLeg,
    FuturesContract,
    cross_liquidation_price,
    distance_pct,
    isolated_liquidation_price,
    pnl_at,
)
from kraken_monitor.domain.models import MarginMode, Risk, Side
from kraken_monitor.domain.orders import OpenOrder

LIQUIDATION_LEVEL = Decimal(100)  # Kraken Futures liquidates when margin equity falls to the maintenance margin
# Kraken spot's margin call sits 40 pp above its stop (80 % / 40 %); futures has no call, so the alert
# ladder keeps the spot thresholds' distances to liquidation: watch 210 %, warning 160 %, critical 140 %, 105 %.
CALL_EQUIVALENT_PP = Decimal(40)


@dataclass(frozen=True)
class FlexAccount:
    """accounts.flex as Kraken reports it (never recomputed here); money in USD."""

    margin_equity: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    available_margin: Decimal
    portfolio_value: Decimal
    collateral_value: Decimal
    unrealized_funding: Decimal = ZERO
    initial_margin_with_orders: Decimal | None = None
    currency: str = "USD"


@dataclass(frozen=True)
class FuturesPosition:
    """One open futures position. `leverage` is maxFixedLeverage (isolated only); `unrealized_pnl` None when
    Kraken left it out; `liquidation_threshold` is the WS feed's (None or 0 = not available)."""

    id: str
    pair: str  # unified, BTC/USD:USD
    side: Side
    volume: Decimal
    entry_price: Decimal
    margin_mode: MarginMode
    leverage: Decimal | None = None
    unrealized_funding: Decimal = ZERO
    unrealized_pnl: Decimal | None = None
    allocated_margin: Decimal | None = None  # Kraken's, when a feed reports it
    liquidation_threshold: Decimal | None = None


@dataclass(frozen=True)
class FuturesAccountFigures:
    flex: FlexAccount
    margin_level: Decimal | None  # margin equity / maintenance margin x 100; None without positions
    risk: Risk


@dataclass(frozen=True)
class FuturesPositionFigures:
    position: FuturesPosition
    mark_price: Decimal
    unrealized_pnl: Decimal
    net_pnl: Decimal  # unrealized P&L + unrealized funding
    allocated_margin: Decimal | None  # isolated only
    liquidation_price: Decimal | None
    liquidation_price_source: str  # "exchange" | "estimate"
    distance_to_liquidation_pct: Decimal | None
    risk: Risk
    # Protective orders (issue 16), attached by domain/futures_protection.py: None = not read (never "unprotected").
    orders: tuple[OpenOrder, ...] | None = None
    stop_loss_price: Decimal | None = None
    stop_loss_distance_pct: Decimal | None = None
    stop_loss_pnl: Decimal | None = None
    take_profit_price: Decimal | None = None
    take_profit_distance_pct: Decimal | None = None
    take_profit_pnl: Decimal | None = None
    warnings: tuple[str, ...] = ()

    # The names domain/protection.py reads of a spot PositionFigures: Kraken Futures triggers and liquidates
    # on the mark, has no margin call, and its flex account counts in USD.
    @property
    def price(self) -> Decimal:
        return self.mark_price

    @property
    def remaining_volume(self) -> Decimal:
        return self.position.volume

    @property
    def margin_call_price(self) -> None:
        return None

    @property
    def account_currency(self) -> str:
        return "USD"

    @property
    def quote_currency(self) -> str:
        return self.position.pair.split("/")[1].split(":")[0] if "/" in self.position.pair else "USD"


@dataclass(frozen=True)
class FuturesBook:
    """One futures read: account and positions, or stale with a reason (never "flat" on failure)."""

    mode: str
    as_of: datetime
    account: FuturesAccountFigures | None
    positions: tuple[FuturesPositionFigures, ...]
    stale: bool = False
    stale_reason: str = ""
    contracts: dict[str, FuturesContract] = field(default_factory=dict, compare=False)  # margin schedules read
    feed: str = ""  # which futures feed the figures came from ("" = REST by choice; see worker/futures_live.py)
    orders: tuple[OpenOrder, ...] = ()  # resting orders attached to no position (issue 16)


def margin_level(flex: FlexAccount) -> Decimal | None:
    if flex.maintenance_margin <= 0:
        return None
    return flex.margin_equity / flex.maintenance_margin * 100


def margin_thresholds(t: AlertThresholds) -> dict[Risk, Decimal]:
    """Margin level (%) at or below which each risk level is reached, relative to Kraken's 100 %."""
    call = LIQUIDATION_LEVEL + CALL_EQUIVALENT_PP
    return {Risk.WATCH: call + t.watch_above_call_pp, Risk.WARNING: call + t.warning_above_call_pp,
            Risk.CRITICAL: call + t.critical_above_call_pp,
            Risk.LIQUIDATION: LIQUIDATION_LEVEL + t.liquidation_above_stop_pp}


def _ladder_risk(value: Decimal | None, thresholds: dict[Risk, Decimal]) -> Risk:
    if value is None:
        return Risk.OK
    reached = [lv for lv, th in thresholds.items() if value <= th]
    return max(reached, default=Risk.OK)


def account_figures(flex: FlexAccount, t: AlertThresholds) -> FuturesAccountFigures:
    level = margin_level(flex)
    return FuturesAccountFigures(flex, level, _ladder_risk(level, margin_thresholds(t)))


def allocated_margin(p: FuturesPosition) -> Decimal | None:
    """Kraken's allocation when reported, else size x entry / leverage; None for cross."""
    if p.margin_mode is not MarginMode.ISOLATED:
        return None
    if p.allocated_margin is not None:
        return p.allocated_margin
    return p.volume * p.entry_price / p.leverage if p.leverage else None


def position_pnl(p: FuturesPosition, mark: Decimal) -> Decimal:
    return p.unrealized_pnl if p.unrealized_pnl is not None else pnl_at(p.side, p.volume, p.entry_price, mark)


def book_figures(flex: FlexAccount, positions: list[FuturesPosition], marks: dict[str, Decimal],
                 contracts: dict[str, FuturesContract], t: AlertThresholds) -> tuple[
                     FuturesAccountFigures, tuple[FuturesPositionFigures, ...]]:
    """Figures of every position; KeyError when a mark or a contract is missing (the caller goes stale)."""
    isolated_total = sum((allocated_margin(p) or ZERO for p in positions), ZERO)
    legs = {p.id: CrossLeg(p.side, p.volume, p.entry_price, marks[p.pair], p.unrealized_funding,
                           contracts[p.pair]) for p in positions if p.margin_mode is MarginMode.CROSS}
    distances = t.distance_thresholds()
    rows = []
    for p in positions:
        mark, contract = marks[p.pair], contracts[p.pair]
        allocated = allocated_margin(p)
        if p.liquidation_threshold is not None and p.liquidation_threshold > 0:
            liquidation, source = p.liquidation_threshold, "exchange"
        elif p.margin_mode is MarginMode.ISOLATED:
            liquidation = (isolated_liquidation_price(p.side, p.volume, p.entry_price, allocated, mark, contract)
                           if allocated is not None else None)
            source = "estimate"
        else:
            others = [leg for pid, leg in legs.items() if pid != p.id]
            liquidation = cross_liquidation_price(legs[p.id], others, flex.collateral_value, isolated_total)
            source = "estimate"
        distance = distance_pct(mark, liquidation, p.side)
        pnl = position_pnl(p, mark)
        rows.append(FuturesPositionFigures(p, mark, pnl, pnl + p.unrealized_funding, allocated, liquidation,
                                           source, distance, _ladder_risk(distance, distances)))
    return account_figures(flex, t), tuple(rows)
