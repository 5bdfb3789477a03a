"""Alert engine: the one owner of fired / acknowledged / snoozed state, with hysteresis (pure)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from kraken_monitor.domain.alert_levels import (  # re-exported: callers import them from here
    DANGER_LEVELS,
    AlertThresholds,
    _ladder,
    _level,
    _margin_measure,
    _Measure,
    classify_account,
    classify_position,
)
from kraken_monitor.domain.errors import NeedsConfirmation
from kraken_monitor.domain.models import (
    AccountFigures,
    Alert,
    MarginMode,
    PositionFigures,
    Risk,
    Snapshot,
)
from kraken_monitor.domain.protection import OrderWarning

__all__ = [
    "ACCOUNT_KEY", "DANGER_LEVELS", "STALE_KEY", "AlertEngine", "AlertThresholds", "classify_account",
    "classify_position",
]

ACCOUNT_KEY = "account"
STALE_KEY = "stale"
# Reason codes: why an alert fired (the text layer turns each into a sentence).
REASON_MARGIN_LEVEL = "margin_level"  # the cross account's margin level reached the level's threshold
REASON_POSITION_DISTANCE = "position_distance"  # a cross position's distance to liquidation reached it
REASON_BELOW_STOP = "below_liquidation_level"  # at Kraken's liquidation level: it closes the oldest first
REASON_ISOLATED = "isolated_distance"  # an isolated position's distance to its own liquidation price
REASON_STALE = "stale"  # data too old or contradictory: risk unknown
RECORDS_KEPT = 1000  # alerts the engine remembers by id (what the log can acknowledge / snooze)
_CROSS = MarginMode.CROSS  # enum member access is slow on Python 3.11; read per position per cycle


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
    """The one owner of the alert lifecycle: turns snapshots into risk colours and alerts, remembers what
    fired, what was acknowledged and what is snoozed (the journal persists it; `restore` seeds it back).

    Not thread-safe: owned by the poll worker's thread like the rest of the cycle.
    """

    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    _states: dict[str, _KeyState] = field(default_factory=dict, init=False, repr=False)
    _stale_fired: bool = field(default=False, init=False, repr=False)
    _records: OrderedDict[int, Alert] = field(default_factory=OrderedDict, init=False, repr=False)
    _next_local_id: int = field(default=-1, init=False, repr=False)

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

    # -- lifecycle by alert id (what the UI and CLI act on) --------------------------------

    def recorded(self, alerts: Iterable[Alert], ids: Iterable[int] | None = None) -> tuple[Alert, ...]:
        """The cycle's alerts with their ids (journal row ids, else local negative ones), remembered by id."""
        alerts = tuple(alerts)
        if ids is None:
            ids = range(self._next_local_id, self._next_local_id - len(alerts), -1)
            self._next_local_id -= len(alerts)
        result = tuple(replace(a, id=int(i)) for a, i in zip(alerts, ids, strict=True))
        for alert in result:
            self._remember(alert)
        return result

    def record(self, alert_id: int) -> Alert | None:
        return self._records.get(alert_id)

    def acknowledge_alert(self, alert_id: int, now: datetime) -> Alert | None:
        """The trader saw this alert: the updated record (None for an id the engine does not know)."""
        alert = self._records.get(alert_id)
        if alert is None:
            return None
        if not alert.stale and not alert.is_event:
            state = self._states.setdefault(alert.key, _KeyState())
            state.acknowledged_level = max(alert.level, state.acknowledged_level or Risk.OK)
        return self._remember(replace(alert, acknowledged_at=now))

    def snooze_alert(self, alert_id: int, until: datetime, *, confirmed: bool = False) -> Alert | None:
        """Snooze the alert's key at THIS alert's level (and below) until `until`: the updated record.

        Raises NeedsConfirmation for an unconfirmed LIQUIDATION snooze (nothing changes then).
        """
        alert = self._records.get(alert_id)
        if alert is None:
            return None
        self.snooze(alert.key, alert.level, until, confirmed=confirmed)
        return self._remember(replace(alert, snoozed_until=until))

    def restore(self, alerts: Iterable[Alert], now: datetime, latch_since: datetime | None = None) -> None:
        """Seed from the journal (any order): records by id, snoozes still running, and, for alerts fired
        at or after `latch_since` (this app session: a settings restart), the level each key reached, so
        what already fired does not fire again. Before it (a fresh start) a danger still there fires."""
        newest_first = sorted(alerts, key=lambda a: (a.fired_at, a.id), reverse=True)
        for alert in reversed(newest_first):
            self._remember(alert)
        seen: set[str] = set()
        for alert in newest_first:
            if alert.is_event or alert.key in seen:
                continue
            seen.add(alert.key)
            state = self._states.setdefault(alert.key, _KeyState())
            if latch_since is not None and alert.fired_at >= latch_since:
                if alert.stale:
                    self._stale_fired = True
                else:
                    state.latched = state.last_fired = alert.level
            if alert.acknowledged_at is not None:
                state.acknowledged_level = alert.level
        for alert in newest_first:  # the newest running snooze of each key holds
            state = self._states.setdefault(alert.key, _KeyState())
            if alert.snoozed_at(now) and state.snoozed_until is None and not alert.is_event:
                state.snoozed_until = alert.snoozed_until
                state.snoozed_level = alert.level

    # -- internals -------------------------------------------------------------------------

    def _remember(self, alert: Alert) -> Alert:
        self._records[alert.id] = alert
        self._records.move_to_end(alert.id)
        while len(self._records) > RECORDS_KEPT:
            self._records.popitem(last=False)
        return alert

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
            alerts = (
                Alert(
                    key=STALE_KEY,
                    level=Risk.UNKNOWN,
                    position_id=None,
                    pair=None,
                    margin_level=None,
                    distance_to_liquidation_pct=None,
                    reason=REASON_STALE,
                    fired_at=now,
                    stale=True,
                    # `figures_unknown`: fresh data, but the account cannot be computed (e.g. an FX rate).
                    facts=(("stale_reason", unknown or snapshot.stale_reason), ("figures_unknown", int(bool(unknown)))),
                ),
            )
        return replace(snapshot, account=account, positions=positions, alerts=alerts)


# -- facts (the numbers an alert's text is made from, in kraken_monitor.text.alerts) ------------


def _price_places(snapshot: Snapshot, pair: str) -> int | None:
    rules = snapshot.pair_rules.get(pair)
    return None if rules is None else rules.price_decimals


def _position_facts(prefix: str, pf: PositionFigures, snapshot: Snapshot) -> tuple[tuple[str, object], ...]:
    p = pf.position
    return (
        (prefix + "pair", p.pair),
        (prefix + "side", p.side.value),
        (prefix + "distance", pf.distance_to_liquidation_pct),
        (prefix + "liquidation_price", pf.liquidation_price),
        (prefix + "price_places", _price_places(snapshot, p.pair)),
    )


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
    margin_risk = classify_account(figures, t)
    named = closest
    below_stop = figures.margin_level is not None and figures.margin_level <= figures.liquidation_level
    reason = REASON_MARGIN_LEVEL if margin_risk >= level else REASON_POSITION_DISTANCE
    if below_stop and first is not None:
        # Every cross trigger price is already passed here; what matters is what Kraken closes next.
        named = first
        reason = REASON_BELOW_STOP
    facts: list[tuple[str, object]] = [
        ("margin_call_level", figures.margin_call_level),
        ("liquidation_level", figures.liquidation_level),
        ("watch_level", t.margin_level_thresholds(figures)[Risk.WATCH]),
        ("margin_risk", int(margin_risk)),
    ]
    if closest is not None:
        facts += _position_facts("closest_", closest, snapshot)
    if first is not None:
        facts += [("first_pair", first.position.pair), ("first_side", first.position.side.value),
                  ("first_is_closest", int(first is closest))]
    return Alert(
        key=ACCOUNT_KEY,
        level=level,
        position_id=named.position.id if named is not None else None,
        pair=named.position.pair if named is not None else None,
        margin_level=figures.margin_level,
        distance_to_liquidation_pct=named.distance_to_liquidation_pct if named is not None else None,
        reason=reason,
        fired_at=now,
        facts=tuple(facts),
    )


def _position_alert(key: str, pf: PositionFigures, level: Risk, now: datetime, snapshot: Snapshot) -> Alert:
    return Alert(
        key=key,
        level=level,
        position_id=pf.position.id,
        pair=pf.position.pair,
        margin_level=pf.margin_level,
        distance_to_liquidation_pct=pf.distance_to_liquidation_pct,
        reason=REASON_ISOLATED,
        fired_at=now,
        # The protection warning as a code (issue 16 item 2): text/ words it "no stop-loss".
        facts=(*_position_facts("", pf, snapshot), ("unprotected", int(OrderWarning.UNPROTECTED.value in pf.warnings))),
    )
