"""Figure records with hand-set values, for tests of what is done WITH figures (storage, JSON, alert rules).

Not computed: each test asserts how its input is stored, shaped or judged, never the margin engine's
arithmetic (that is builders.py, through the real engine). Three families, one per kind of test:
`position_figures` / `snapshot` / `alert` (journal round-trips), `rule_*` (the alert engine's
thresholds), `shape_*` (the JSON serializer's exact strings).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

from kraken_monitor.domain.models import (
    AccountFigures,
    Alert,
    MarginMode,
    PairRules,
    Position,
    PositionFigures,
    Risk,
    Side,
    Snapshot,
    Ticker,
)

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


# -- journal round-trips -------------------------------------------------------------------------

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


# -- alert rules: a 5x 1 BTC position at 70,000 and an account whose margin level is given ----------

def rule_account(level: str | None, call: str = "80", stop: str = "40") -> AccountFigures:
    return AccountFigures(
        currency="USD",
        trade_balance=D("10000"),
        equity=D("10000"),
        used_margin=D("4000"),
        free_margin=D("6000"),
        margin_level=None if level is None else D(level),
        margin_level_exchange=None,
        margin_call_level=D(call),
        liquidation_level=D(stop),
    )


def rule_figures(
    pid: str = "P1",
    distance: str | None = "50",
    mode: MarginMode = MarginMode.CROSS,
    pair: str = "BTC/USD",
    side: Side = Side.LONG,
    liq: str = "61200",
    margin_level: str | None = None,
) -> PositionFigures:
    pos = Position(
        id=pid, pair=pair, side=side, volume=D("1"), volume_closed=D("0"), cost=D("70000"),
        margin=D("14000"), opened_at=T0, margin_mode=mode,
        allocated_margin=D("14000") if mode is MarginMode.ISOLATED else None,
    )
    return PositionFigures(
        position=pos, price=D("70000"), entry_price=D("70000"), remaining_volume=D("1"), leverage=D("5"),
        valuation=D("70000"), unrealized_pnl=D("0"), pnl_pct=D("0"), used_margin=D("14000"), fees=D("0"),
        net_pnl=D("0"), break_even_price=D("70000"), margin_call_price=None,
        liquidation_price=D(liq), distance_to_margin_call_pct=None,
        distance_to_liquidation_pct=None if distance is None else D(distance),
        margin_level=None if margin_level is None else D(margin_level),
        next_rollover=None, projected_cost_24h=D("0"),
    )


def rule_snapshot(acct: AccountFigures | None, *positions: PositionFigures, stale: bool = False, reason: str = "") -> Snapshot:
    rules = {"BTC/USD": PairRules("BTC/USD", "BTC", "USD", D("80"), D("40"), price_decimals=1)}
    return Snapshot(mode="demo", as_of=T0, stale=stale, account=acct, positions=tuple(positions),
                    pair_rules=rules, stale_reason=reason)


# -- JSON shapes: a partly closed short with every figure set, an account in WARNING --------------

def shape_figures(risk=Risk.WARNING, liq=D("11000.5")):
    pos = Position(id="TXID-1", pair="BTC/USD", side=Side.SHORT, volume=D("1"), volume_closed=D("0.25"),
                   cost=D("15000"), margin=D("3000"), opened_at=T0, next_rollover=T0)
    return PositionFigures(
        position=pos, price=D("21000"), entry_price=D("20000"), remaining_volume=D("0.75"),
        leverage=D("5"), valuation=D("15750"), unrealized_pnl=D("-750"), pnl_pct=D("-25"),
        used_margin=D("3150"), fees=D("1E+1"), net_pnl=D("-760"), break_even_price=D("19986.7"),
        margin_call_price=D("24000"), liquidation_price=liq, distance_to_margin_call_pct=D("14.2"),
        distance_to_liquidation_pct=None if liq is None else D("-47.6"), margin_level=None,
        next_rollover=T0, projected_cost_24h=D("9"), risk=risk,
    )


def shape_account(level=D("95.5")):
    return AccountFigures(currency="USD", trade_balance=D("5000"), equity=D("4250"),
                          used_margin=D("3150"), free_margin=D("1100"), margin_level=level,
                          margin_level_exchange=None, margin_call_level=D("80"),
                          liquidation_level=D("40"), risk=Risk.WARNING)
