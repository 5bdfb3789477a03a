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


def pair_names(n_pairs: int) -> list[str]:
    return [f"P{i:03d}/USD" for i in range(n_pairs)]


def rules(n_pairs: int) -> dict[str, PairRules]:
    return {
        pair: PairRules(pair, pair.split("/")[0], "USD", D("80"), D("40"), (2, 3, 4, 5), (2, 3, 4, 5), 2, 8,
                        D("0.01"), pair.replace("/", ""))
        for pair in pair_names(n_pairs)
    }


def prices(n_pairs: int, seed: int = 1) -> dict[str, Decimal]:
    rng = random.Random(seed)
    return {pair: D(str(round(rng.uniform(1, 60000), 2))) for pair in pair_names(n_pairs)}


def state(n_positions: int, n_pairs: int, seed: int = 1, isolated_every: int = 10) -> AccountState:
    """Mostly cross positions (every `isolated_every`-th isolated), entries near the price, 1-5x leverage."""
    rng = random.Random(seed)
    pairs = pair_names(n_pairs)
    px = prices(n_pairs, seed)
    positions = []
    for i in range(n_positions):
        pair = pairs[i % n_pairs]
        entry = px[pair] * D(str(round(rng.uniform(0.97, 1.03), 4)))
        volume = D(str(round(rng.uniform(50, 400) / float(entry), 8))) or D("0.00000001")
        cost = (volume * entry).quantize(D("0.0001"))
        lev = rng.choice((2, 3, 4, 5))
        isolated = isolated_every and i % isolated_every == isolated_every - 1
        margin_ = (cost / lev).quantize(D("0.0001"))
        positions.append(Position(
            id=f"T{i:05d}-BENCH", pair=pair, side=Side.LONG if i % 3 else Side.SHORT, volume=volume,
            volume_closed=D(0), cost=cost, margin=margin_, opened_at=NOW - timedelta(hours=1 + i % 90, minutes=i % 60),
            trading_fee=(cost * D("0.0026")).quantize(D("0.0001")), rollover_terms="0.0100% per 4 hours",
            next_rollover=NOW + timedelta(minutes=30 + i % 200),
            margin_mode=MarginMode.ISOLATED if isolated else MarginMode.CROSS,
            allocated_margin=margin_ if isolated else None,
        ))
    # Collateral sized so the account sits comfortably above the margin-call level.
    collateral = sum((p.margin for p in positions), D(0)) * 3
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
