"""Synthetic but realistic benchmark inputs: N positions over M pairs, priced through the real engine."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.domain.alerts import AlertEngine, AlertThresholds
from kraken_monitor.domain.models import (
    AccountState,
    Balance,
    MarginMode,
    PairRules,
    Position,
    Side,
    Snapshot,
)
from kraken_monitor.testing.builders import engine_snapshot

D = Decimal
NOW = datetime(2026, 2, 10, 12, 0, 0, tzinfo=timezone.utc)


# Mixed book (issue 11): pairs quoted in USD, EUR and BTC in turn, converted at these FX pairs.
MIXED_QUOTES = ("USD", "EUR", "BTC")
FX_PRICES = {"BTC/USD": D("60000.0"), "EUR/USD": D("1.08000")}
_USD_PER = {"USD": D(1), "EUR": FX_PRICES["EUR/USD"], "BTC": FX_PRICES["BTC/USD"]}


def pair_names(n_pairs: int, quotes: tuple[str, ...] = ("USD",)) -> list[str]:
    return [f"P{i:03d}/{quotes[i % len(quotes)]}" for i in range(n_pairs)]


def _rule(pair: str) -> PairRules:
    base, quote = pair.split("/")
    return PairRules(pair, base, quote, D("80"), D("40"), (2, 3, 4, 5), (2, 3, 4, 5), 2, 8, D("0.01"),
                     pair.replace("/", ""))


def rules(n_pairs: int, quotes: tuple[str, ...] = ("USD",)) -> dict[str, PairRules]:
    result = {pair: _rule(pair) for pair in pair_names(n_pairs, quotes)}
    if quotes != ("USD",):
        result.update({pair: _rule(pair) for pair in FX_PRICES})
    return result


def prices(n_pairs: int, seed: int = 1, quotes: tuple[str, ...] = ("USD",)) -> dict[str, Decimal]:
    """USD prices 1-60,000, expressed in each pair's quote currency (same draws for every quote mix)."""
    rng = random.Random(seed)
    result = {}
    for pair in pair_names(n_pairs, quotes):
        usd = D(str(round(rng.uniform(1, 60000), 2)))
        quote = pair.split("/")[1]
        result[pair] = usd if quote == "USD" else (usd / _USD_PER[quote]).quantize(D("1e-8"))
    if quotes != ("USD",):
        result.update(FX_PRICES)
    return result


def state(n_positions: int, n_pairs: int, seed: int = 1, isolated_every: int = 10,
          quotes: tuple[str, ...] = ("USD",)) -> AccountState:
    """Mostly cross positions (every `isolated_every`-th isolated), entries near the price, 1-5x leverage.

    `quotes`: the quote currencies the pairs take in turn (USD account): ("USD", "EUR", "BTC") is the
    mixed book of `recompute_1000_mixed_ms`; positions are sized in USD whatever their quote.
    """
    rng = random.Random(seed)
    pairs = pair_names(n_pairs, quotes)
    px = prices(n_pairs, seed, quotes)
    positions = []
    for i in range(n_positions):
        pair = pairs[i % n_pairs]
        entry = px[pair] * D(str(round(rng.uniform(0.97, 1.03), 4)))
        usd_per = _USD_PER[pair.split("/")[1]]
        volume = D(str(round(rng.uniform(50, 400) / float(entry * usd_per), 8))) or D("0.00000001")
        cost = (volume * entry).quantize(D("0.0001") if usd_per == 1 else D("1e-10"))
        lev = rng.choice((2, 3, 4, 5))
        isolated = isolated_every and i % isolated_every == isolated_every - 1
        margin_ = (cost / lev).quantize(D("0.0001") if usd_per == 1 else D("1e-10"))
        positions.append(Position(
            id=f"T{i:05d}-BENCH", pair=pair, side=Side.LONG if i % 3 else Side.SHORT, volume=volume,
            volume_closed=D(0), cost=cost, margin=margin_, opened_at=NOW - timedelta(hours=1 + i % 90, minutes=i % 60),
            trading_fee=(cost * D("0.0026")).quantize(D("0.0001")), rollover_terms="0.0100% per 4 hours",
            next_rollover=NOW + timedelta(minutes=30 + i % 200),
            margin_mode=MarginMode.ISOLATED if isolated else MarginMode.CROSS,
            allocated_margin=margin_ if isolated else None,
        ))
    # Collateral sized so the account sits comfortably above the margin-call level.
    collateral = sum((p.margin * _USD_PER[p.pair.split("/")[1]] for p in positions), D(0)) * 3
    return AccountState(Balance("USD", collateral), tuple(positions), NOW)


def snapshot(st: AccountState, px: dict[str, Decimal], rl: dict[str, PairRules], now: datetime = NOW,
             engine: AlertEngine | None = None, mode: str = "demo") -> Snapshot:
    """What the worker emits: engine figures, alert engine risks, tickers for every priced pair."""
    snap = engine_snapshot(st, px, rl, now, mode=mode, prices_as_of=now, account_as_of=now)
    return (engine or AlertEngine(AlertThresholds())).apply(snap, now)


def bump(px: dict[str, Decimal], pair: str, step: str = "0.01") -> dict[str, Decimal]:
    out = dict(px)
    out[pair] = out[pair] + D(step)
    return out
