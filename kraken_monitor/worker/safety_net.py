"""Kraken's own figures and rules as a safety net around the alert engine (issue 11, items 5 and 6).

- Risk is judged on the lower of our margin level and Kraken's fresh `ml`; a gap beyond the tolerance
  for 3 account reads fires one "figures disagree" alert per episode (re-armed after 3 reads agreeing).
- AssetPairs is due again every 30 minutes (monotonic clock) and after any order rejection; a changed
  level of a held pair fires a "rules changed" alert; a held pair without valid levels fires "levels
  unknown, using 80/40" once (re-armed when its levels are known again).

Owned by the poller's thread, like the rest of the cycle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from kraken_monitor.domain import crosscheck, rule_changes
from kraken_monitor.domain.exposure import pair_currency
from kraken_monitor.domain.models import AccountState, Alert, Balance, PairRules, Risk, Snapshot

RULES_REFRESH_S = 30 * 60.0
RULES_RETRY_S = 60.0
DISAGREE_READS = 3  # consecutive account reads a gap (or agreement) must last before it counts  # a failed refresh keeps the last rules and tries again this much later


class SafetyNet:
    """State of the cross-checks between cycles; `clock` is monotonic seconds (tests pass a fake one)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, refresh_s: float = RULES_REFRESH_S):
        self.clock = clock
        self.refresh_s = refresh_s
        self._rules_next: float | None = None  # monotonic time the next AssetPairs read is due
        self._pending: list[Alert] = []  # rules alerts waiting for the next snapshot
        self._disagree_fired = False
        self._last_read: datetime | None = None  # account_as_of of the last account read counted
        self._streak, self._streak_gap = 0, False  # consecutive reads with the same verdict (gap or not)
        self._unknown_fired: set[str] = set()

    # -- margin rules ------------------------------------------------------------------------

    def rules_due(self) -> bool:
        return self._rules_next is None or self.clock() >= self._rules_next

    def rules_loaded(self, old: Mapping[str, PairRules], new: Mapping[str, PairRules], held: Iterable[str],
                     now: datetime) -> None:
        """Note a successful AssetPairs read: schedule the next, queue alerts for changed held pairs."""
        self._rules_next = self.clock() + self.refresh_s
        for change in rule_changes.rule_changes(old, new, held):
            facts = (("old_call", change.old_call), ("old_stop", change.old_stop), ("new_call", change.new_call),
                     ("new_stop", change.new_stop))
            self._pending.append(_alert(f"{rule_changes.RULES_CHANGED}:{change.pair}", Risk.WARNING,
                                        rule_changes.RULES_CHANGED, now, pair=change.pair, facts=facts))

    def rules_failed(self) -> None:
        self._rules_next = self.clock() + min(RULES_RETRY_S, self.refresh_s)

    def order_rejected(self) -> None:
        """Kraken refused an order: its rules may have changed, read them before the next cycle."""
        self._rules_next = None

    # -- account ------------------------------------------------------------------------------

    @staticmethod
    def contradiction(state: AccountState | None) -> str:
        if state is None:
            return ""
        return crosscheck.contradiction(state.balance, state.positions)

    def judge(self, snapshot: Snapshot, now: datetime, apply: Callable[[Snapshot, datetime], Snapshot],
              balance: Balance | None, prices_older_than_account: bool) -> Snapshot:
        """Run `apply` (the alert engine) on the lower margin level, then restore ours and add our alerts.

        `balance` is Kraken's TradeBalance of the latest account read (for the likely cause).
        """
        account = snapshot.account
        alerts: list[Alert] = []
        judged = snapshot
        if account is not None and not snapshot.stale:
            ours, kraken = account.margin_level, account.margin_level_exchange
            floor = crosscheck.judged_level(ours, kraken)
            if floor is not None and floor != ours:
                judged = replace(snapshot, account=replace(account, margin_level=floor))
            alerts.extend(self._disagreement(snapshot, balance, ours, kraken, now, prices_older_than_account))
            alerts.extend(self._levels_unknown(snapshot, now))
        result = apply(judged, now)
        if result.account is not None and judged is not snapshot:
            result = replace(result, account=replace(result.account, margin_level=account.margin_level))
        extra = tuple(self._pending) + tuple(alerts)
        self._pending.clear()
        return replace(result, alerts=tuple(result.alerts) + extra) if extra else result

    def _disagreement(self, snapshot: Snapshot, balance: Balance | None, ours, kraken, now: datetime,
                      stale_prices: bool) -> list[Alert]:
        # Kraken's ml is as of its own read, ours as of the latest prices: in a fast market they differ for
        # a moment. Only a gap (or an agreement) lasting DISAGREE_READS account reads counts, so a crash
        # does not fire "figures disagree" on every tick; the lower level is judged on at once regardless.
        if snapshot.account_as_of != self._last_read:
            self._last_read = snapshot.account_as_of
            gap = crosscheck.disagree(ours, kraken)
            self._streak = self._streak + 1 if gap == self._streak_gap else 1
            self._streak_gap = gap
        if self._streak < DISAGREE_READS:
            return []
        if not self._streak_gap:
            self._disagree_fired = False
            return []
        if self._disagree_fired or not crosscheck.disagree(ours, kraken):
            return []
        self._disagree_fired = True
        account = snapshot.account
        foreign = any(pair_currency(pf.position.pair, snapshot.pair_rules) not in ("", account.currency)
                      for pf in snapshot.positions)
        if balance is None:
            cause = crosscheck.CAUSE_STALE_PRICE
        else:
            cause = crosscheck.likely_cause(balance, account.used_margin, foreign, stale_prices)
        level = Risk.WARNING if kraken >= ours else Risk.CRITICAL
        facts = (("ours", ours), ("kraken", kraken), ("cause", cause))
        return [_alert(crosscheck.FIGURES_DISAGREE, level, crosscheck.FIGURES_DISAGREE, now,
                       margin_level=min(ours, kraken), facts=facts)]

    def _levels_unknown(self, snapshot: Snapshot, now: datetime) -> list[Alert]:
        held = {pf.position.pair for pf in snapshot.positions}
        unknown = rule_changes.unknown_levels(snapshot.pair_rules, held)
        self._unknown_fired &= set(unknown)  # known again (or no longer held): re-arm
        alerts = []
        for pair, note in unknown.items():
            if pair not in self._unknown_fired:
                self._unknown_fired.add(pair)
                alerts.append(_alert(f"{rule_changes.LEVELS_UNKNOWN}:{pair}", Risk.WATCH, rule_changes.LEVELS_UNKNOWN,
                                     now, pair=pair, facts=(("note", note),)))
        return alerts


def _alert(key: str, level: Risk, reason: str, now: datetime, pair: str | None = None, facts: tuple = (),
           margin_level=None) -> Alert:
    return Alert(key=key, level=level, position_id=None, pair=pair, margin_level=margin_level,
                 distance_to_liquidation_pct=None, reason=reason, fired_at=now, facts=facts)
