"""Test builders and fakes: positions, account states, snapshots through the real engine, a paper account.

One place for what tests and benchmarks build, so each figure they assert comes from the real margin
engine (`domain.margin.compute`) and the pair's own rules, never from a second calculation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.domain import margin, protection
from kraken_monitor.domain.models import (
    AccountState,
    Balance,
    MarginMode,
    PairRules,
    Position,
    Risk,
    Side,
    Snapshot,
    Ticker,
)
from kraken_monitor.domain.orders import OpenOrder, OrderSide, OrderType

D = Decimal
BTC, ETH, XRP = "BTC/USD", "ETH/USD", "XRP/USD"
T0 = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)  # the domain, paper and journal tests' clock
NOW = datetime(2026, 2, 10, 12, 0, 0, tzinfo=timezone.utc)  # the UI scenario's clock
ROLLOVER_TERMS = "0.0100% per 4 hours"  # Kraken's usual margin rollover (support 203053156)


def pair_rules(pair: str, price_decimals: int = 2, volume_decimals: int = 8, minimum: str = "0",
               altname: str = "", call: str = "80", stop: str = "40") -> PairRules:
    """AssetPairs rules for a USD pair, margin call 80 % and liquidation 40 % unless told."""
    base, quote = pair.split("/")
    return PairRules(pair, base, quote, D(call), D(stop), (2, 3, 4, 5), (2, 3, 4, 5), price_decimals,
                     volume_decimals, D(minimum), altname)


# AssetPairs as Kraken states them: XBTUSD pair_decimals 1, ETHUSD 2, XRPUSD 5; ordermin 0.0001/0.002/10.
RULES = {
    BTC: pair_rules(BTC, 1, 8, "0.0001", "XXBTZUSD"),
    ETH: pair_rules(ETH, 2, 8, "0.002", "XETHZUSD"),
    XRP: pair_rules(XRP, 5, 8, "10", "XXRPZUSD"),
}
PRICES = {BTC: D("64250.3"), ETH: D("3120.45"), XRP: D("0.61234")}


def position(pid: str = "P1", pair: str = BTC, side: Side = Side.LONG, vol: str = "1", entry: str = "20000",
             lev: str | int = "5", opened: datetime = T0, **fields) -> Position:
    """An open position of `vol` at `entry` with `lev` leverage: cost = vol x entry, margin = cost / lev."""
    cost = D(vol) * D(entry)
    return Position(id=pid, pair=pair, side=side, volume=D(vol), volume_closed=D(0), cost=cost,
                    margin=cost / D(lev), opened_at=opened, **fields)


def account_state(trade_balance: str, *positions: Position, as_of: datetime = T0,
                  exchange_margin_level: Decimal | None = None, orders: tuple[OpenOrder, ...] = ()) -> AccountState:
    return AccountState(Balance("USD", D(trade_balance), exchange_margin_level=exchange_margin_level),
                        tuple(positions), as_of, orders)


def open_order(oid: str = "O1", pair: str = BTC, kind: OrderType | str = OrderType.STOP_LOSS, side: str = "sell",
               vol: str = "1", trigger: str | None = "19000", limit: str | None = None, trigger_signal: str = "last",
               **fields) -> OpenOrder:
    """A resting margin order as Kraken's OpenOrders lists it (reduce_only not reported unless given);
    `trigger` is its trigger price, `trigger_signal` the price that fires it."""
    fields.setdefault("margin", True)
    fields["trigger"] = trigger_signal
    fields.setdefault("reduce_only_known", "reduce_only" in fields)
    return OpenOrder(id=oid, pair=pair, type=OrderType(kind), side=OrderSide(side), volume=D(vol),
                     trigger_price=None if trigger is None else D(trigger),
                     limit_price=None if limit is None else D(limit), **fields)


def engine_snapshot(state: AccountState, prices: Mapping[str, Decimal], rules: Mapping[str, PairRules],
                    now: datetime, *, mode: str = "demo", **fields) -> Snapshot:
    """The Snapshot the worker builds: figures from the real engine, orders attached, a ticker per priced pair."""
    account, figures = margin.compute(state, prices, rules, now)
    figures, loose = protection.attach(state.orders, figures, now)
    account = replace(account, orders=loose) if loose else account
    tickers = fields.pop("tickers", None) or {pair: Ticker(pair, px, px, px, now) for pair, px in prices.items()}
    fields.setdefault("account_as_of", state.as_of)
    return Snapshot(mode=mode, as_of=now, stale=False, account=account, positions=figures, tickers=tickers,
                    pair_rules=dict(rules), **fields)


# -- the UI scenario: three cross positions on three pairs ------------------------------------------


def scenario_position(pid: str, pair: str, side: Side, volume: str, entry: str, leverage: int = 5,
                      hours_ago: float = 10.0) -> Position:
    """A position opened `hours_ago` before NOW with Kraken's 0.26 % taker fee and its next rollover in 65 min."""
    cost = D(volume) * D(entry)
    return position(pid, pair, side, volume, entry, leverage, NOW - timedelta(hours=hours_ago),
                    trading_fee=(cost * D("0.0026")).quantize(D("0.0001")), rollover_terms=ROLLOVER_TERMS,
                    next_rollover=NOW + timedelta(hours=1, minutes=5))


def default_positions() -> tuple[Position, ...]:
    return (
        scenario_position("TXA-1", BTC, Side.LONG, "0.5", "60000.0", 5, hours_ago=30),
        scenario_position("TXB-2", ETH, Side.SHORT, "4", "3000.00", 3, hours_ago=12),
        scenario_position("TXC-3", XRP, Side.LONG, "12000", "0.58000", 2, hours_ago=2),
    )


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
    """The UI scenario at `prices`, through the margin engine; risks as told (the alert engine is not run)."""
    prices = dict(PRICES if prices is None else prices)
    positions = default_positions() if positions is None else positions
    state = account_state(trade_balance, *positions, as_of=now, exchange_margin_level=exchange_level)
    snap = engine_snapshot(
        state, prices, RULES, now, mode=mode, stale_reason="price feed: connection refused" if stale else "",
        prices_as_of=now, connection="retrying" if stale else "ok",
    )
    risks = risks or {}
    figures = tuple(replace(pf, risk=risks.get(pf.position.id, Risk.OK)) for pf in snap.positions)
    account = replace(snap.account, risk=Risk.UNKNOWN if stale else account_risk)
    return replace(snap, stale=stale, account=None if no_account else account, positions=figures)


def ticked(prices: dict[str, Decimal] | None = None, step: str = "1.5", **kwargs) -> Snapshot:
    """A price tick: same positions, BTC moved by `step`."""
    prices = dict(PRICES if prices is None else prices)
    prices[BTC] += D(step)
    return snapshot(prices=prices, **kwargs)


# -- a real paper account at fixed prices (dialog and action tests) ---------------------------------

PAPER_PRICES = {BTC: D("20000"), ETH: D("2000")}


class FixedPrices:
    """PriceSource with bid = ask = last, so fills equal the what-if preview's price."""

    def __init__(self, prices: Mapping[str, Decimal] | None = None):
        self.prices = dict(prices or PAPER_PRICES)

    def pair_rules(self) -> dict[str, PairRules]:
        return {pair: RULES[pair] for pair in (BTC, ETH)}

    def tickers(self, pairs) -> dict[str, Ticker]:
        return {p: Ticker(p, self.prices[p], self.prices[p], self.prices[p], T0) for p in pairs if p in self.prices}


def paper_exchange(collateral: str = "10000"):
    """A PaperExchange holding a 5x BTC long (cross) and a 5x ETH short (isolated), opened 30 min before T0."""
    from kraken_monitor.domain.paper_account import PaperAccount
    from kraken_monitor.exchange.paper import PaperExchange

    opened = T0 - timedelta(minutes=30)
    account = (
        PaperAccount.funded(D(collateral))
        .open_position(BTC, Side.LONG, D("1"), PAPER_PRICES[BTC], 5, opened)
        .open_position(ETH, Side.SHORT, D("2"), PAPER_PRICES[ETH], 5, opened, margin_mode=MarginMode.ISOLATED)
    )
    return PaperExchange(FixedPrices(), account=account, mode="paper", clock=lambda: T0)


def snapshot_of(exchange, mode: str = "paper") -> Snapshot:
    """What the worker would build from `exchange` at T0."""
    rules = exchange.load_pair_rules()
    state = exchange.fetch_account()
    tickers = exchange.fetch_tickers(sorted({p.pair for p in state.positions}))
    return engine_snapshot(state, {pair: t.last for pair, t in tickers.items()}, rules, T0, mode=mode,
                           tickers=tickers)


def position_id(snapshot: Snapshot, pair: str) -> str:
    return next(pf.position.id for pf in snapshot.positions if pf.position.pair == pair)
