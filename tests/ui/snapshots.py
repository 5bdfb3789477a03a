"""Builders of realistic domain Snapshots for UI tests (real margin engine when present, else a plain calc)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.domain.models import (
    AccountFigures,
    AccountState,
    Balance,
    PairRules,
    Position,
    PositionFigures,
    Risk,
    Side,
    Snapshot,
    Ticker,
)

D = Decimal
NOW = datetime(2026, 2, 10, 12, 0, 0, tzinfo=timezone.utc)

RULES = {
    "BTC/USD": PairRules("BTC/USD", "BTC", "USD", D("80"), D("40"), (2, 3, 4, 5), (2, 3, 4, 5), 1, 8, D("0.0001"), "XXBTZUSD"),
    "ETH/USD": PairRules("ETH/USD", "ETH", "USD", D("80"), D("40"), (2, 3, 4, 5), (2, 3, 4, 5), 2, 8, D("0.002"), "XETHZUSD"),
    "XRP/USD": PairRules("XRP/USD", "XRP", "USD", D("80"), D("40"), (2, 3, 4, 5), (2, 3, 4, 5), 5, 8, D("10"), "XXRPZUSD"),
}

PRICES = {"BTC/USD": D("64250.3"), "ETH/USD": D("3120.45"), "XRP/USD": D("0.61234")}


def position(
    pid: str,
    pair: str,
    side: Side,
    volume: str,
    entry: str,
    leverage: int = 5,
    hours_ago: float = 10.0,
) -> Position:
    vol = D(volume)
    cost = vol * D(entry)
    opened = NOW - timedelta(hours=hours_ago)
    return Position(
        id=pid,
        pair=pair,
        side=side,
        volume=vol,
        volume_closed=D("0"),
        cost=cost,
        margin=cost / leverage,
        opened_at=opened,
        trading_fee=(cost * D("0.0026")).quantize(D("0.0001")),
        rollover_terms="0.0100% per 4 hours",
        next_rollover=NOW + timedelta(hours=1, minutes=5),
    )


def default_positions() -> tuple[Position, ...]:
    return (
        position("TXA-1", "BTC/USD", Side.LONG, "0.5", "60000.0", 5, hours_ago=30),
        position("TXB-2", "ETH/USD", Side.SHORT, "4", "3000.00", 3, hours_ago=12),
        position("TXC-3", "XRP/USD", Side.LONG, "12000", "0.58000", 2, hours_ago=2),
    )


def _fallback_compute(state: AccountState, prices: dict[str, Decimal], now: datetime):
    """Plain cross-margin figures (support 203325693) for when the real engine has not landed."""
    figures = []
    upnl_total = D(0)
    used_total = D(0)
    order = {p.id: i + 1 for i, p in enumerate(sorted(state.positions, key=lambda p: p.opened_at))}
    for p in state.positions:
        price = prices[p.pair]
        vol = p.remaining_volume
        entry = p.cost / vol
        value = price * vol
        upnl = value - p.cost if p.side is Side.LONG else p.cost - value
        used = p.margin if p.side is Side.LONG else p.margin * price / entry
        upnl_total += upnl
        used_total += used
        figures.append((p, price, entry, vol, value, upnl, used))
    equity = state.balance.trade_balance + upnl_total
    level = equity / used_total * 100 if used_total else None
    account = AccountFigures("USD", state.balance.trade_balance, equity, used_total, equity - used_total, level,
                             state.balance.exchange_margin_level, D("80"), D("40"))
    out = []
    for p, price, entry, vol, value, upnl, used in figures:
        fees = p.trading_fee + p.cost * D("0.0002")
        sign = 1 if p.side is Side.LONG else -1
        liq = price - sign * (equity - D("0.4") * used_total) / vol
        call = price - sign * (equity - D("0.8") * used_total) / vol
        out.append(PositionFigures(
            position=p, price=price, entry_price=entry, remaining_volume=vol, leverage=p.cost / p.margin,
            valuation=value, unrealized_pnl=upnl, pnl_pct=upnl / p.margin * 100, used_margin=used, fees=fees,
            net_pnl=upnl - fees, break_even_price=entry + sign * fees / vol,
            margin_call_price=call if call > 0 else None, liquidation_price=liq if liq > 0 else None,
            distance_to_margin_call_pct=(price - call) / price * 100 * sign if call > 0 else None,
            distance_to_liquidation_pct=(price - liq) / price * 100 * sign if liq > 0 else None,
            margin_level=None, next_rollover=p.next_rollover, projected_cost_24h=p.cost * D("0.0006"),
            liquidation_order=order[p.id],
        ))
    return account, tuple(out)


def compute(state: AccountState, prices: dict[str, Decimal], now: datetime):
    try:
        from kraken_monitor.domain import margin
    except ImportError:
        return _fallback_compute(state, prices, now)
    return margin.compute(state, prices, RULES, now)


def snapshot(
    *,
    prices: dict[str, Decimal] | None = None,
    positions: tuple[Position, ...] | None = None,
    trade_balance: str = "20000",
    stale: bool = False,
    mode: str = "demo",
    now: datetime = NOW,
    risks: dict[str, Risk] | None = None,
    account_risk: Risk = Risk.OK,
    exchange_level: Decimal | None = None,
    no_account: bool = False,
) -> Snapshot:
    """A consistent Snapshot: positions valued at `prices` through the margin engine."""
    prices = dict(PRICES if prices is None else prices)
    positions = default_positions() if positions is None else positions
    state = AccountState(Balance("USD", D(trade_balance), exchange_margin_level=exchange_level), positions, now)
    account, figures = compute(state, prices, now)
    risks = risks or {}
    figures = tuple(replace(pf, risk=risks.get(pf.position.id, Risk.OK)) for pf in figures)
    account = replace(account, risk=Risk.UNKNOWN if stale else account_risk)
    tickers = {pair: Ticker(pair, px, px, px, now) for pair, px in prices.items()}
    return Snapshot(
        mode=mode,
        as_of=now,
        stale=stale,
        account=None if no_account else account,
        positions=figures,
        tickers=tickers,
        pair_rules=dict(RULES),
        stale_reason="price feed: connection refused" if stale else "",
        prices_as_of=now,
        account_as_of=now,
        connection="retrying" if stale else "ok",
    )


def ticked(prices: dict[str, Decimal] | None = None, step: str = "1.5", **kwargs) -> Snapshot:
    """A price tick: same positions, BTC moved by `step`."""
    prices = dict(PRICES if prices is None else prices)
    prices["BTC/USD"] += D(step)
    return snapshot(prices=prices, **kwargs)
