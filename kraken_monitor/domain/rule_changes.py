"""Margin rules that move under a running monitor: changed levels of held pairs, and pairs without valid levels.

Issue 11, item 6: Kraken can raise a pair's `margin_call` / `margin_stop` at any time (AssetPairs); a
change of a held pair alerts and applies at once, and a pair without valid levels says "levels unknown,
using 80/40" instead of being judged silently on assumed levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from kraken_monitor.domain.models import PairRules

RULES_CHANGED = "rules_changed"  # reason codes (alert key prefixes)
LEVELS_UNKNOWN = "levels_unknown"


@dataclass(frozen=True)
class RuleChange:
    """One held pair whose margin-call / liquidation levels changed between two AssetPairs reads."""

    pair: str
    old_call: Decimal
    old_stop: Decimal
    new_call: Decimal
    new_stop: Decimal


def rule_changes(old: Mapping[str, PairRules], new: Mapping[str, PairRules], held: Iterable[str]) -> list[RuleChange]:
    """Held pairs whose levels (or whether they are known) differ between `old` and `new`, sorted by pair."""
    changes = []
    for pair in sorted(set(held)):
        before, after = old.get(pair), new.get(pair)
        if before is None or after is None:
            continue
        if (before.margin_call_level, before.margin_stop_level, before.levels_unknown) != (
                after.margin_call_level, after.margin_stop_level, after.levels_unknown):
            changes.append(RuleChange(pair, before.margin_call_level, before.margin_stop_level,
                                      after.margin_call_level, after.margin_stop_level))
    return changes


def unknown_levels(rules: Mapping[str, PairRules], held: Iterable[str]) -> dict[str, str]:
    """Held pair -> why its levels are assumed ("levels unknown, using 80/40"); pairs without rules too."""
    result = {}
    for pair in sorted(set(held)):
        rule = rules.get(pair)
        if rule is None:
            result[pair] = "levels unknown, using 80/40"
        elif rule.levels_unknown:
            result[pair] = rule.levels_unknown
    return result

