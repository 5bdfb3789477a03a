"""Alert rules: risk levels from margin level and distance to liquidation, with hysteresis (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain.errors import NeedsConfirmation
from kraken_monitor.domain.models import (
    AccountFigures,
    Alert,
    MarginMode,
    PositionFigures,
    Risk,
    Snapshot,
)

ACCOUNT_KEY = "account"
STALE_KEY = "stale"
DANGER_LEVELS = (Risk.WATCH, Risk.WARNING, Risk.CRITICAL, Risk.LIQUIDATION)
_CROSS = MarginMode.CROSS  # enum member access is slow on Python 3.11; read per position per cycle


@dataclass(frozen=True)
class AlertThresholds:
    """Every threshold configurable; defaults chosen to warn well before Kraken acts.

    Account (cross) levels are percentage points relative to the pair's AssetPairs levels, so they
    follow Kraken's `margin_call` / `margin_stop` instead of hard-coding 80/40.
    """

    watch_above_call_pp: Decimal = Decimal("70")  # 80% call -> watch at 150%
    warning_above_call_pp: Decimal = Decimal("20")  # -> warning at 100%
    critical_above_call_pp: Decimal = Decimal("0")  # -> critical at the margin call itself
    liquidation_above_stop_pp: Decimal = Decimal("5")  # 40% stop -> liquidation alert at 45%
    watch_distance_pct: Decimal = Decimal("25")  # position: price within 25% of its liquidation price
    warning_distance_pct: Decimal = Decimal("15")
    critical_distance_pct: Decimal = Decimal("7.5")
    liquidation_distance_pct: Decimal = Decimal("2.5")
    rearm_margin_pp: Decimal = Decimal("5")  # a level re-arms after recovering this far past it
    rearm_distance_pct: Decimal = Decimal("2")

    def margin_level_thresholds(self, figures: AccountFigures) -> dict[Risk, Decimal]:
        """Margin level (%) at or below which each level is reached, for this account's pairs."""
        call = figures.margin_call_level
        return {
            Risk.WATCH: call + self.watch_above_call_pp,
            Risk.WARNING: call + self.warning_above_call_pp,
            Risk.CRITICAL: call + self.critical_above_call_pp,
            Risk.LIQUIDATION: figures.liquidation_level + self.liquidation_above_stop_pp,
        }

    def distance_thresholds(self) -> dict[Risk, Decimal]:
        """Distance to liquidation (% of price) at or below which each level is reached."""
        return {
            Risk.WATCH: self.watch_distance_pct,
            Risk.WARNING: self.warning_distance_pct,
            Risk.CRITICAL: self.critical_distance_pct,
            Risk.LIQUIDATION: self.liquidation_distance_pct,
        }


@dataclass(frozen=True)
class _Measure:
    """One value judged against per-level thresholds; lower values are more dangerous."""

    value: Decimal | None
    thresholds: dict[Risk, Decimal]
    rearm: Decimal

    def level(self) -> Risk:
        if self.value is None:
            return Risk.OK
        reached = [lv for lv in DANGER_LEVELS if self.value <= self.thresholds[lv]]
        return max(reached, default=Risk.OK)

    def recovered(self, level: Risk) -> bool:
        """True once the value is back above the level's threshold by the re-arm margin."""
        return self.value is None or self.value > self.thresholds[level] + self.rearm


def _margin_measure(figures: AccountFigures, t: AlertThresholds) -> _Measure:
    return _Measure(figures.margin_level, t.margin_level_thresholds(figures), t.rearm_margin_pp)


def _distance_measure(pf: PositionFigures, t: AlertThresholds) -> _Measure:
    return _Measure(pf.distance_to_liquidation_pct, t.distance_thresholds(), t.rearm_distance_pct)


def classify_account(figures: AccountFigures, t: AlertThresholds) -> Risk:
    """Risk of the cross account from its margin level alone; no margin used (None) is OK."""
    return _margin_measure(figures, t).level()


def classify_position(pf: PositionFigures, t: AlertThresholds) -> Risk:
    """Risk of one position from its distance to liquidation; no reachable liquidation (None) is OK."""
    return _distance_measure(pf, t).level()


def _ladder(thresholds: dict[Risk, Decimal]) -> tuple[tuple[Risk, Decimal], ...]:
    """(level, threshold), most dangerous first: what `_level` walks for every position of a cycle."""
    return tuple((lv, thresholds[lv]) for lv in reversed(DANGER_LEVELS))


def _level(value: Decimal | None, ladder: tuple[tuple[Risk, Decimal], ...]) -> Risk:
    """`_Measure.level` without building a measure: the highest level whose threshold `value` reached."""
    if value is None:
        return Risk.OK
    for lv, threshold in ladder:
        if value <= threshold:
            return lv
    return Risk.OK


def _with_risk(pf: PositionFigures, risk: Risk) -> PositionFigures:
    """`replace(pf, risk=risk)` for the per-cycle loop: the same record, without the frozen __init__.

    PositionFigures has no __post_init__, so copying its fields is all `replace` does; a record that
    already has the risk is returned as is (records are immutable).
    """
    if pf.risk is risk:
        return pf
    new = object.__new__(type(pf))
    fields = pf.__dict__.copy()
    fields["risk"] = risk
    object.__setattr__(new, "__dict__", fields)
    return new


@dataclass
class _KeyState:
    latched: Risk = Risk.OK  # highest level fired and not yet re-armed
    last_fired: Risk = Risk.OK
    snoozed_until: datetime | None = None
    snoozed_level: Risk = Risk.OK
    acknowledged_level: Risk | None = None


@dataclass
class AlertEngine:
    """Turns snapshots into risk colours and alerts, remembering what already fired (in memory only).

    Not thread-safe: owned by the poll worker's thread like the rest of the cycle.
    """

    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    _states: dict[str, _KeyState] = field(default_factory=dict, init=False, repr=False)
    _stale_fired: bool = field(default=False, init=False, repr=False)

    # -- public API ------------------------------------------------------------------------

    def apply(self, snapshot: Snapshot, now: datetime) -> Snapshot:
        """A new snapshot with every risk set and `alerts` = what this cycle fired."""
        if snapshot.stale:
            return self._apply_stale(snapshot, now)
        if snapshot.account is not None and snapshot.account.unknown_reason:
            # Fresh data, but a figure the account needs is missing (e.g. an FX rate): not safe either.
            return self._apply_stale(snapshot, now, unknown=snapshot.account.unknown_reason)
        self._stale_fired = False  # data recovered: a later stale period must fire again
        t = self.thresholds
        distances = t.distance_thresholds()
        ladder = _ladder(distances)
        alerts: list[Alert] = []
        seen: set[str] = set()
        cross = [pf for pf in snapshot.positions if pf.position.margin_mode is _CROSS]
        account = snapshot.account
        account_risk = Risk.OK
        if account is not None:
            # Every cross position is judged with the same thresholds and a level only rises as the
            # distance falls, so the closest one decides both the level and the re-arm: one measure
            # for all of them gives the same result as one per position.
            closest = _closest(cross)
            nearest = closest.distance_to_liquidation_pct if closest is not None else None
            measures = [_margin_measure(account, t), _Measure(nearest, distances, t.rearm_distance_pct)]
            seen.add(ACCOUNT_KEY)
            account_risk = max(m.level() for m in measures)
            level = self._judge(ACCOUNT_KEY, measures, now)
            if level is not None:
                alerts.append(_account_alert(account, cross, level, now, snapshot, t))
            account = replace(account, risk=account_risk)
        positions = []
        append = positions.append
        for pf in snapshot.positions:
            if pf.unknown_reason:  # its money cannot be converted: nothing about it is known to be safe
                append(_with_risk(pf, Risk.UNKNOWN))
                continue
            own = _level(pf.distance_to_liquidation_pct, ladder)
            if pf.position.margin_mode is _CROSS:
                append(_with_risk(pf, own if own > account_risk else account_risk))
                continue
            key = f"pos:{pf.position.id}"
            seen.add(key)
            level = self._judge(key, [_Measure(pf.distance_to_liquidation_pct, distances, t.rearm_distance_pct)], now)
            if level is not None:
                alerts.append(_position_alert(key, pf, level, now, snapshot))
            append(_with_risk(pf, own))
        self._forget_missing(seen)
        return replace(snapshot, account=account, positions=tuple(positions), alerts=tuple(alerts))

    def snooze(self, key: str, level: Risk, until: datetime, *, confirmed: bool = False) -> None:
        """Silence `key` at `level` and below until `until`; a higher level always fires through.

        `level` is the level of the alert the trader snoozed (an old "watch" row snoozes watch only,
        whatever fired on the key since). LIQUIDATION is snoozed only with `confirmed=True`.
        """
        if level >= Risk.LIQUIDATION and not confirmed:
            raise NeedsConfirmation("Snoozing a LIQUIDATION alert needs an explicit confirmation.")
        state = self._states.setdefault(key, _KeyState())
        state.snoozed_until = until
        state.snoozed_level = level

    def acknowledge(self, key: str) -> None:
        """Record that the trader saw the alert at its current level (display only; nothing is silenced)."""
        state = self._states.setdefault(key, _KeyState())
        state.acknowledged_level = max(state.last_fired, state.latched)

    def is_acknowledged(self, key: str) -> bool:
        """True while the key has not fired above the level it was acknowledged at."""
        state = self._states.get(key)
        if state is None or state.acknowledged_level is None:
            return False
        return state.last_fired <= state.acknowledged_level

    def latched_level(self, key: str) -> Risk:
        """The highest level that fired on `key` and has not re-armed yet (OK if none)."""
        state = self._states.get(key)
        return state.latched if state is not None else Risk.OK

    # -- internals -------------------------------------------------------------------------

    def _judge(self, key: str, measures: list[_Measure], now: datetime) -> Risk | None:
        """Hysteresis for one key: re-arm recovered levels, then fire if a higher level is reached."""
        state = self._states.setdefault(key, _KeyState())
        current = max(m.level() for m in measures)
        # A latched level stays latched until EVERY measure recovered past it by the re-arm margin.
        still = [lv for lv in DANGER_LEVELS if lv <= state.latched and not all(m.recovered(lv) for m in measures)]
        state.latched = max(still, default=Risk.OK)
        if current <= state.latched or current is Risk.OK:
            return None
        if self._snoozed(state, current, now):
            # Not latched: if the danger is still there when the snooze ends, it fires then.
            return None
        state.latched = current
        state.last_fired = current
        return current

    def _snoozed(self, state: _KeyState, level: Risk, now: datetime) -> bool:
        if state.snoozed_until is None:
            return False
        if now >= state.snoozed_until:
            state.snoozed_until = None
            return False
        return level <= state.snoozed_level

    def _forget_missing(self, seen: set[str]) -> None:
        """A closed position's state goes with it, so a new position with a reused id starts fresh."""
        for key in [k for k in self._states if k not in seen and k != STALE_KEY]:
            del self._states[key]

    def _apply_stale(self, snapshot: Snapshot, now: datetime, unknown: str = "") -> Snapshot:
        """Stale data says nothing about safety: risk UNKNOWN everywhere, one 'stale' alert per period.

        `unknown`: the data is fresh but the account cannot be computed (its reason, e.g. a missing FX
        pair); same treatment, the alert names that reason instead of staleness.
        """
        account = replace(snapshot.account, risk=Risk.UNKNOWN) if snapshot.account is not None else None
        positions = tuple(_with_risk(pf, Risk.UNKNOWN) for pf in snapshot.positions)
        alerts: tuple[Alert, ...] = ()
        state = self._states.setdefault(STALE_KEY, _KeyState(last_fired=Risk.UNKNOWN))
        if not self._stale_fired and not self._snoozed(state, Risk.UNKNOWN, now):
            self._stale_fired = True
            reason = unknown or snapshot.stale_reason or "no reason given"
            alerts = (
                Alert(
                    key=STALE_KEY,
                    level=Risk.UNKNOWN,
                    position_id=None,
                    pair=None,
                    margin_level=None,
                    distance_to_liquidation_pct=None,
                    message=f"risk unknown ({reason})" if unknown else f"data stale: risk unknown ({reason})",
                    fired_at=now,
                    stale=True,
                ),
            )
        return replace(snapshot, account=account, positions=positions, alerts=alerts)


# -- messages (plain text for a trader; numbers rounded for reading, not for calculation) ---------


def fmt_number(value: Decimal, places: int) -> str:
    """Thousands separators and a fixed number of decimals: 61200 -> '61,200', 78.24 -> '78.2'."""
    return f"{value:,.{places}f}"


def fmt_level(value: Decimal) -> str:
    """Thresholds read best without noise: 80 -> '80', 82.5 -> '82.5'."""
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def fmt_price(value: Decimal, places: int | None = None) -> str:
    """The pair's own decimals when known, else by magnitude (BTC in whole dollars, small coins finer)."""
    if places is None:
        size = abs(value)
        places = 0 if size >= 1000 else 2 if size >= 1 else 6
    return fmt_number(value, places)


def _price_places(snapshot: Snapshot, pair: str, price: Decimal) -> int | None:
    rules = snapshot.pair_rules.get(pair)
    if rules is None or abs(price) >= 1000:
        return None  # whole units read best for large prices, e.g. "61,200"
    return rules.price_decimals


def _position_phrase(pf: PositionFigures, snapshot: Snapshot) -> str:
    p = pf.position
    text = f"{p.pair} {p.side.value}"
    if pf.distance_to_liquidation_pct is None or pf.liquidation_price is None:
        return text + " has no reachable liquidation price"
    price = pf.liquidation_price
    places = _price_places(snapshot, p.pair, price)
    distance = pf.distance_to_liquidation_pct
    if distance <= 0:
        return f"{text} is past its liquidation price {fmt_price(price, places)}"
    return f"{text} is {fmt_number(distance, 1)}% from liquidation at {fmt_price(price, places)}"


def _margin_phrase(figures: AccountFigures, t: AlertThresholds) -> str:
    level = figures.margin_level
    call = fmt_level(figures.margin_call_level)
    stop = fmt_level(figures.liquidation_level)
    if level is None:
        return "No margin in use"
    shown = fmt_number(level, 1)
    reached = classify_account(figures, t)
    if reached is Risk.LIQUIDATION:
        return f"Margin level {shown}% is close to liquidation ({stop}%)"
    if reached is Risk.CRITICAL:
        return f"Margin level {shown}% is below the margin call ({call}%)"
    if reached is Risk.WARNING:
        return f"Margin level {shown}% is approaching the margin call ({call}%)"
    if reached is Risk.WATCH:
        watch = fmt_level(t.margin_level_thresholds(figures)[Risk.WATCH])
        return f"Margin level {shown}% is below the watch level {watch}% (margin call {call}%)"
    return f"Margin level {shown}% (margin call {call}%)"


def _closest(cross: list[PositionFigures]) -> PositionFigures | None:
    with_distance = [pf for pf in cross if pf.distance_to_liquidation_pct is not None]
    if not with_distance:
        return None
    return min(with_distance, key=lambda pf: pf.distance_to_liquidation_pct)


def _first_liquidated(cross: list[PositionFigures]) -> PositionFigures | None:
    return next((pf for pf in cross if pf.liquidation_order == 1), None)


def _account_alert(
    figures: AccountFigures,
    cross: list[PositionFigures],
    level: Risk,
    now: datetime,
    snapshot: Snapshot,
    t: AlertThresholds,
) -> Alert:
    """Names the position to act on: the one closest to liquidation, or, once the account is at
    Kraken's liquidation level, the one Kraken closes first (oldest, FIFO: support 203325763)."""
    closest = _closest(cross)
    first = _first_liquidated(cross)
    message = _margin_phrase(figures, t)
    named = closest
    below_stop = figures.margin_level is not None and figures.margin_level <= figures.liquidation_level
    if below_stop and first is not None:
        # Every cross trigger price is already passed here; what matters is what Kraken closes next.
        named = first
        message += f"; Kraken liquidates the oldest position first: {first.position.pair} {first.position.side.value}"
    elif closest is not None:
        message += "; " + _position_phrase(closest, snapshot)
        if level is Risk.LIQUIDATION and first is not None and first is not closest:
            message += f" (Kraken liquidates {first.position.pair} {first.position.side.value} first: oldest)"
    return Alert(
        key=ACCOUNT_KEY,
        level=level,
        position_id=named.position.id if named is not None else None,
        pair=named.position.pair if named is not None else None,
        margin_level=figures.margin_level,
        distance_to_liquidation_pct=named.distance_to_liquidation_pct if named is not None else None,
        message=message,
        fired_at=now,
    )


def _position_alert(key: str, pf: PositionFigures, level: Risk, now: datetime, snapshot: Snapshot) -> Alert:
    message = "Isolated " + _position_phrase(pf, snapshot)
    if pf.margin_level is not None:
        message += f" (margin level {fmt_number(pf.margin_level, 1)}%)"
    return Alert(
        key=key,
        level=level,
        position_id=pf.position.id,
        pair=pf.position.pair,
        margin_level=pf.margin_level,
        distance_to_liquidation_pct=pf.distance_to_liquidation_pct,
        message=message,
        fired_at=now,
    )
