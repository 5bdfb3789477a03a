"""Alert levels: configurable thresholds and how a margin level or a distance to liquidation reaches them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kraken_monitor.domain.models import AccountFigures, PositionFigures, Risk

DANGER_LEVELS = (Risk.WATCH, Risk.WARNING, Risk.CRITICAL, Risk.LIQUIDATION)


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
