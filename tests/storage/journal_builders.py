"""Builders for journal tests: snapshots with N positions and M tickers at a given time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

from kraken_monitor.domain.models import (
    AccountFigures,
    Alert,
    MarginMode,
    Position,
    PositionFigures,
    Risk,
    Side,
    Snapshot,
    Ticker,
)

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


def position_figures(pid: str, pair: str = "BTC/USD", price: str = "70000.1", distance: str | None = "12.5",
                     opened_at: datetime = T0) -> PositionFigures:
    pos = Position(id=pid, pair=pair, side=Side.SHORT, volume=D("0.5"), volume_closed=D("0.1"),
                   cost=D("28000.04"), margin=D("5600.008"), opened_at=opened_at, margin_mode=MarginMode.CROSS)
    return PositionFigures(
        position=pos, price=D(price), entry_price=D("70000.1"), remaining_volume=D("0.4"), leverage=D("5"),
        valuation=D("28000.04"), unrealized_pnl=D("-12.3456789"), pnl_pct=D("-0.22"), used_margin=D("5600.008"),
        fees=D("1.25"), net_pnl=D("-13.5956789"), break_even_price=D("69990"), margin_call_price=D("75000.5"),
        liquidation_price=D("80123.45678"), distance_to_margin_call_pct=D("7.1"),
        distance_to_liquidation_pct=None if distance is None else D(distance), margin_level=None,
        next_rollover=None, projected_cost_24h=D("3.36"), risk=Risk.WARNING,
    )


def snapshot(at: datetime = T0, positions: int = 2, pairs: tuple[str, ...] = ("BTC/USD", "ETH/USD"),
             margin_level: str | None = "212.34", mode: str = "demo", price: str = "70000.1") -> Snapshot:
    account = AccountFigures(currency="USD", trade_balance=D("10000.01"), equity=D("9987.66"),
                             used_margin=D("4703.5"), free_margin=D("5284.16"),
                             margin_level=None if margin_level is None else D(margin_level),
                             margin_level_exchange=D("212.3"), margin_call_level=D("80"),
                             liquidation_level=D("40"), risk=Risk.WATCH)
    tickers = {p: Ticker(p, D(price) - 1, D(price) + 1, D(price), at) for p in pairs}
    pfs = tuple(position_figures(f"TX{i:04d}", pairs[i % len(pairs)] if pairs else "BTC/USD", price)
                for i in range(positions))
    return Snapshot(mode=mode, as_of=at, stale=False, account=account, positions=pfs, tickers=tickers)


def alert(key: str = "account", level: Risk = Risk.CRITICAL, at: datetime = T0) -> Alert:
    return Alert(key=key, level=level, position_id="TX0001", pair="BTC/USD", margin_level=D("78.25"),
                 distance_to_liquidation_pct=D("12.3"), reason="margin_level", fired_at=at,
                 facts=(("margin_call_level", D("80")), ("closest_pair", "BTC/USD"), ("closest_price_places", 1),
                        ("margin_risk", int(level))))


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
