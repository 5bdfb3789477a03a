"""Seeded simulated market for demo mode: GARCH-like volatility, jumps, BTC-led correlation, Decimal prices."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from importlib import resources

from kraken_monitor.domain.models import PairRules, Ticker

_SECONDS_PER_YEAR = 365 * 86400
# A laptop woken from sleep must not spend minutes replaying hours of seconds: beyond this many
# simulated seconds in one call the market jumps (the skipped time simply did not happen).
MAX_CATCH_UP_S = 900


@dataclass(frozen=True)
class _PairSpec:
    """Static facts per demo pair, shaped like Kraken's AssetPairs (pair_decimals, lot_decimals, ordermin)."""

    exchange_id: str
    price_decimals: int
    leverage_buy: tuple[int, ...]
    leverage_sell: tuple[int, ...]
    min_order: str
    annual_vol: float  # realised volatility the random walk is calibrated to
    beta: float  # sensitivity to BTC's move (BTC itself: 1)
    spread_bps: float  # typical quoted spread in calm markets
    jumps: bool = True  # crypto: sudden drops and squeezes; a fiat FX pair: none


# Values modelled on Kraken's public AssetPairs (2025/26): BTC/USD offers up to 10x, alts 2-5x
# (shared reference section 1: "read the list"); decimals follow each pair's pair_decimals.
_SPECS: dict[str, _PairSpec] = {
    "BTC/USD": _PairSpec("XXBTZUSD", 1, (2, 3, 4, 5, 10), (2, 3, 4, 5, 10), "0.00005", 0.55, 1.0, 0.2),
    "ETH/USD": _PairSpec("XETHZUSD", 2, (2, 3, 4, 5, 10), (2, 3, 4, 5, 10), "0.002", 0.70, 1.25, 0.5),
    "SOL/USD": _PairSpec("SOLUSD", 2, (2, 3, 4, 5), (2, 3, 4, 5), "0.02", 0.90, 1.45, 1.5),
    "XRP/USD": _PairSpec("XXRPZUSD", 5, (2, 3, 4, 5), (2, 3, 4, 5), "2", 0.95, 1.35, 1.5),
    "DOGE/USD": _PairSpec("XDGUSD", 7, (2, 3), (2, 3), "20", 1.00, 1.5, 2.0),
    "ADA/USD": _PairSpec("ADAUSD", 6, (2, 3), (2, 3), "5", 0.90, 1.35, 2.0),
    "LINK/USD": _PairSpec("LINKUSD", 5, (2, 3), (2, 3), "0.2", 0.90, 1.3, 2.0),
    "BCH/USD": _PairSpec("BCHUSD", 2, (2, 3), (2, 3), "0.01", 0.75, 1.1, 2.0),
    # Other quote currencies (issue 11): EUR/USD walks on its own (own random stream, no jumps, not
    # led by BTC); the crosses are quoted from their USD legs, so the market has no arbitrage.
    "EUR/USD": _PairSpec("ZEURZUSD", 5, (2, 3, 4, 5), (2, 3, 4, 5), "5", 0.07, 0.0, 0.2, jumps=False),
    "ETH/BTC": _PairSpec("XETHXXBT", 5, (2, 3, 4, 5), (2, 3, 4, 5), "0.002", 0.0, 0.0, 1.0),
    "ETH/EUR": _PairSpec("XETHZEUR", 2, (2, 3, 4, 5), (2, 3, 4, 5), "0.002", 0.0, 0.0, 0.6),
    "BTC/EUR": _PairSpec("XXBTZEUR", 1, (2, 3, 4, 5), (2, 3, 4, 5), "0.00005", 0.0, 0.0, 0.3),
}
# Cross pair -> (numerator, denominator) USD pairs it is quoted from: ETH/BTC = ETH/USD / BTC/USD.
_DERIVED: dict[str, tuple[str, str]] = {
    "ETH/BTC": ("ETH/USD", "BTC/USD"),
    "ETH/EUR": ("ETH/USD", "EUR/USD"),
    "BTC/EUR": ("BTC/USD", "EUR/USD"),
}
# Starting prices the crypto snapshot does not hold (EUR/USD about where it traded in early 2026).
_START_PRICES = {"EUR/USD": Decimal("1.17")}
_OWN_STREAM = 1_000_003  # EUR/USD's random stream: seed + this, so adding it leaves the others' paths
DEMO_SUPPORTED_PAIRS: tuple[str, ...] = tuple(_SPECS)
DEFAULT_PAIRS: tuple[str, ...] = ("BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD", "DOGE/USD", "ADA/USD",
                                  "EUR/USD", "ETH/BTC", "ETH/EUR")
LEADER = "BTC/USD"

# GARCH(1,1) per second: alpha + beta close to 1 gives calm and stormy stretches lasting minutes.
_GARCH_ALPHA = 0.06
_GARCH_BETA = 0.93
_LEAD_SHARE = 0.6  # part of BTC's move an alt follows in the same second; the rest one second later
_MARKET_JUMP_PER_S = 1 / 3600  # about one market-wide drop or squeeze an hour
_OWN_JUMP_PER_S = 1 / 7200


def snapshot_prices() -> dict[str, Decimal]:
    """Real early-February-2026 USD prices per base asset (the demo's starting points)."""
    text = resources.files("kraken_monitor.exchange").joinpath("market-snapshot-2026-02.json").read_text("utf-8")
    data = json.loads(text)
    return {base: Decimal(row["price"]) for base, row in data["prices_usd"].items()}


def demo_pair_rules(pairs: Iterable[str] = DEFAULT_PAIRS) -> dict[str, PairRules]:
    """PairRules for the demo pairs: Kraken's 80% margin call / 40% margin stop, Kraken-like decimals."""
    rules = {}
    for pair in pairs:
        spec = _spec(pair)
        base, quote = pair.split("/")
        rules[pair] = PairRules(
            symbol=pair,
            base=base,
            quote=quote,
            margin_call_level=Decimal("80"),
            margin_stop_level=Decimal("40"),
            leverage_buy=spec.leverage_buy,
            leverage_sell=spec.leverage_sell,
            price_decimals=spec.price_decimals,
            volume_decimals=8,
            min_order=Decimal(spec.min_order),
            exchange_id=spec.exchange_id,
        )
    return rules


def _spec(pair: str) -> _PairSpec:
    try:
        return _SPECS[pair]
    except KeyError:
        raise ValueError(f"Demo market has no pair {pair!r}; available: {', '.join(_SPECS)}") from None


class _Walk:
    """Mutable simulation state of one pair. Floats on purpose: this is noise generation, not money;
    prices become Decimal (rounded to the pair's decimals) at the boundary."""

    def __init__(self, spec: _PairSpec, price: float):
        self.spec = spec
        self.price = price
        self.base_var = (spec.annual_vol**2) / _SECONDS_PER_YEAR
        self.var = self.base_var
        self.jump_steps = 0
        self.jump_drift = 0.0
        self.scripted: tuple[float, int] | None = None  # (per-step log move, steps left)
        self.scripted_target = 0.0
        self.last_shock = 0.0  # the random (unscripted) part of the last move
        self.rng: random.Random | None = None  # its own stream (EUR/USD), else the market's

    @property
    def vol_ratio(self) -> float:
        return math.sqrt(self.var / self.base_var)


class DemoMarket:
    """Simulated prices at a 1-second cadence, reproducible for a seed.

    Thread contract: used by one thread (the poll worker's) only.
    """

    def __init__(
        self,
        pairs: Iterable[str] = DEFAULT_PAIRS,
        seed: int = 7,
        clock: Callable[[], float] = time.monotonic,
        speed: float = 1.0,
        start_prices: Mapping[str, Decimal] | None = None,
        max_catch_up_s: int = MAX_CATCH_UP_S,
    ):
        self.pairs = tuple(dict.fromkeys(pairs))
        self._rng = random.Random(seed)
        self._clock = clock
        self._speed = float(speed)
        self._max_catch_up = max_catch_up_s
        self._last_clock = clock()
        self._carry = 0.0
        self.simulated_seconds = 0
        # When the next whole simulated second is due on the clock: one float, written only by tickers(), so
        # the price-stream thread may read it without the lock (exchange/demo_stream.py sleeps until then).
        self._next_step_at = self._last_clock + (1.0 / self._speed if self._speed > 0 else math.inf)
        snapshot = snapshot_prices()
        self._walks: dict[str, _Walk] = {}
        walked = [pair for pair in self.pairs if _spec(pair) and pair not in _DERIVED]
        legs = [leg for pair in self.pairs if pair in _DERIVED for leg in _DERIVED[pair]]
        for pair in dict.fromkeys((*walked, *legs)):
            spec = _spec(pair)
            start = (start_prices or {}).get(pair) or _START_PRICES.get(pair) or snapshot[pair.split("/")[0]]
            walk = self._walks[pair] = _Walk(spec, float(start))
            if not spec.jumps:
                walk.rng = random.Random(seed + _OWN_STREAM)
        self._derived = {pair: _DERIVED[pair] for pair in self.pairs if pair in _DERIVED}
        self._rules = demo_pair_rules(tuple(dict.fromkeys((*self._walks, *self._derived))))

    # -- public API ---------------------------------------------------------------------------
    def pair_rules(self) -> dict[str, PairRules]:
        return dict(self._rules)

    def tickers(self, now: datetime | None = None) -> dict[str, Ticker]:
        """Advance by the clock's elapsed time x speed (whole seconds) and quote every pair."""
        current = self._clock()
        elapsed = max(0.0, current - self._last_clock) * self._speed + self._carry
        self._last_clock = current
        steps = int(elapsed)
        self._carry = elapsed - steps
        self._next_step_at = current + ((1.0 - self._carry) / self._speed if self._speed > 0 else math.inf)
        self._run(steps)
        return self.quotes(now)

    def seconds_to_next_step(self) -> float:
        """Clock seconds until tickers() would step the simulation again (<= 0: it would now; inf: speed 0).

        Safe to call from another thread than the market's: it reads one float the market writes whole.
        """
        return self._next_step_at - self._clock()

    def advance(self, seconds: float) -> None:
        """Simulate `seconds` more market time now (demo acceleration, tests)."""
        self._run(int(seconds))

    def quotes(self, now: datetime | None = None) -> dict[str, Ticker]:
        """Current quotes without advancing the simulation."""
        as_of = now or datetime.now(timezone.utc)
        quotes = {pair: self._ticker(pair, walk.price, walk, as_of) for pair, walk in self._walks.items()}
        for pair, (num, _den) in self._derived.items():
            quotes[pair] = self._ticker(pair, self._cross(pair), self._walks[num], as_of)
        return quotes

    def volatility(self) -> dict[str, float]:
        """Annual volatility per quoted pair (a cross: its legs' combined, roughly), for the seeded past."""
        vols = {pair: walk.spec.annual_vol for pair, walk in self._walks.items()}
        for pair, (num, den) in self._derived.items():
            vols[pair] = math.hypot(vols[num], vols[den]) * 0.6  # legs are correlated through BTC
        return vols

    def last_prices(self) -> dict[str, Decimal]:
        prices = {pair: self._decimal(pair, walk.price) for pair, walk in self._walks.items()}
        prices.update({pair: self._decimal(pair, self._cross(pair)) for pair in self._derived})
        return prices

    def _cross(self, pair: str) -> float:
        num, den = self._derived[pair]
        return self._walks[num].price / self._walks[den].price

    def schedule_move(self, pair: str, target_price: Decimal, seconds: int) -> None:
        """Script `pair` to reach exactly `target_price` after `seconds` simulated seconds.

        The scripted pair ignores the random walk meanwhile and its path does not spill over to other
        pairs, so a test can crash one market and know exactly what everything else does.
        """
        if pair in self._derived:
            raise ValueError(f"{pair} is quoted from {' and '.join(self._derived[pair])}: script those instead")
        if pair not in self._walks:
            raise ValueError(f"Demo market has no pair {pair!r}")
        target = float(target_price)
        if not (target > 0 and math.isfinite(target)):
            raise ValueError("target_price must be a positive number")
        steps = max(1, int(seconds))
        walk = self._walks[pair]
        walk.scripted = (math.log(target / walk.price) / steps, steps)
        walk.scripted_target = target

    # -- simulation ---------------------------------------------------------------------------
    def _run(self, steps: int) -> None:
        if steps <= 0:
            return
        if steps > self._max_catch_up:
            # Jump over the gap instead of replaying it; keep the tail so prices stay continuous.
            steps = self._max_catch_up
        for _ in range(steps):
            self._step()
        self.simulated_seconds += steps

    def _step(self) -> None:
        rng = self._rng
        leader = self._walks.get(LEADER)
        lead_now = self._shock(leader, rng, market_jumps=True) if leader else 0.0
        lead_prev = leader.last_shock if leader else 0.0
        if leader:
            # Alts follow BTC's simulated move, never a scripted one (schedule_move stays local).
            leader.last_shock = lead_now
            self._apply(leader, lead_now)
        for walk in self._walks.values():
            if walk is leader:
                continue
            follow = walk.spec.beta * (_LEAD_SHARE * lead_now + (1 - _LEAD_SHARE) * lead_prev)
            own = self._shock(walk, walk.rng or rng, market_jumps=leader is None)
            self._apply(walk, follow + own)

    def _shock(self, walk: _Walk, rng: random.Random, market_jumps: bool) -> float:
        """One second's log return of the walk's own (idiosyncratic) component, jumps included."""
        if walk.jump_steps == 0 and walk.spec.jumps:
            rate = _MARKET_JUMP_PER_S if market_jumps else _OWN_JUMP_PER_S
            if rng.random() < rate:
                # Sharp drops are more common and larger than squeezes, as in crypto sell-offs.
                size = -rng.uniform(0.02, 0.06) if rng.random() < 0.65 else rng.uniform(0.02, 0.05)
                walk.jump_steps = rng.randint(5, 40)
                walk.jump_drift = math.log1p(size) / walk.jump_steps
        # Idiosyncratic part of an alt is smaller: most of its variance comes through BTC.
        scale = 1.0 if market_jumps else 0.6
        shock = rng.gauss(0.0, math.sqrt(walk.var)) * scale
        if walk.jump_steps:
            walk.jump_steps -= 1
            shock += walk.jump_drift
        return shock

    def _apply(self, walk: _Walk, log_return: float) -> None:
        finished = False
        if walk.scripted is not None:
            per_step, left = walk.scripted
            if left <= 1:
                log_return = math.log(walk.scripted_target / walk.price)
                walk.scripted = None
                finished = True
            else:
                log_return = per_step
                walk.scripted = (per_step, left - 1)
        # GARCH(1,1): this second's squared move feeds the next second's variance -> volatility clustering.
        omega = walk.base_var * (1 - _GARCH_ALPHA - _GARCH_BETA)
        walk.var = omega + _GARCH_ALPHA * log_return * log_return + _GARCH_BETA * walk.var
        walk.var = min(walk.var, walk.base_var * 400)  # one absurd tick must not explode the walk
        # Land exactly on a scripted target (no float drift), otherwise move geometrically.
        walk.price = walk.scripted_target if finished else walk.price * math.exp(log_return)

    # -- quoting ------------------------------------------------------------------------------
    def _decimal(self, pair: str, value: float) -> Decimal:
        decimals = self._rules[pair].price_decimals
        return Decimal(f"{value:.{decimals}f}")

    def _ticker(self, pair: str, price: float, walk: _Walk, as_of: datetime) -> Ticker:
        last = self._decimal(pair, price)
        tick = Decimal(1).scaleb(-self._rules[pair].price_decimals)
        # Spreads widen when volatility rises, as market makers pull back (a cross: its first leg's).
        half = last * Decimal(str(round(_spec(pair).spread_bps * min(walk.vol_ratio, 10.0) / 20000, 8)))
        bid = min((last - half).quantize(tick, rounding=ROUND_FLOOR), last)
        ask = max((last + half).quantize(tick, rounding=ROUND_CEILING), last)
        if ask <= bid:
            ask = bid + tick
        return Ticker(pair=pair, bid=bid, ask=ask, last=last, as_of=as_of)

