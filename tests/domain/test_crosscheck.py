"""Kraken's figures as a floor: tolerance of a disagreement, likely causes, contradictions, rule changes (pure)."""

from decimal import Decimal

from kraken_monitor.domain import crosscheck, rule_changes
from kraken_monitor.domain.models import Balance, PairRules

D = Decimal


def test_gap_must_exceed_both_2pp_and_2_percent():
    # 100 vs 102.5: 2.5 pp > 2, and 2.5 > 2 % of 102.5 = 2.05 -> disagree.
    assert crosscheck.disagree(D(100), D("102.5"))
    # 100 vs 101.9: 1.9 pp, not beyond 2 pp.
    assert not crosscheck.disagree(D(100), D("101.9"))
    # 5,000 vs 5,090: 90 pp, but 2 % of 5,090 is 101.8 -> rounding noise at a high level, not a disagreement.
    assert not crosscheck.disagree(D(5000), D(5090))
    assert crosscheck.disagree(D(5000), D(5200))  # 200 > 104
    assert not crosscheck.disagree(None, D(50)) and not crosscheck.disagree(D(50), None)


def test_judged_level_is_the_lower():
    assert crosscheck.judged_level(D(225), D(50)) == D(50)
    assert crosscheck.judged_level(D(65), D("65.26")) == D(65)
    assert crosscheck.judged_level(None, D(70)) == D(70) and crosscheck.judged_level(None, None) is None


def test_likely_cause_order():
    kraken = Balance("USD", D(10000), exchange_equity=D(9000), exchange_used_margin=D(6000))
    # Kraken holds 6,000 of margin, we see 4,000 (> 2 % more): a position we do not list.
    assert crosscheck.likely_cause(kraken, D(4000), foreign_currencies=True, prices_older_than_account=True) == \
        "missing position"
    same = Balance("USD", D(10000), exchange_used_margin=D(4000))
    assert crosscheck.likely_cause(same, D(4000), True, True) == "stale price"
    assert crosscheck.likely_cause(same, D(4000), True, False) == "missing FX rate"
    assert crosscheck.likely_cause(same, D(4000), False, False) == "stale price"


def test_contradictions():
    assert crosscheck.contradiction(Balance("USD", D(10000), exchange_used_margin=D(4000)), ()) == (
        "Kraken reports used margin 4,000.00 USD but lists no open positions")
    assert crosscheck.contradiction(Balance("USD", D(10000), exchange_used_margin=D(0)), ()) == ""
    # e = tb + n within 0.1 % of the account's size (Kraken rounds each figure) is fine; 1 % off is not.
    ok = Balance("BTC", D("1.0526315789"), exchange_equity=D("0.6526315790"), exchange_unrealized_pnl=D("-0.4"))
    assert crosscheck.contradiction(ok, ("a position",)) == ""
    off = Balance("USD", D(10000), exchange_equity=D(9100), exchange_unrealized_pnl=D(-1000))
    assert crosscheck.contradiction(off, ("a position",)) == (
        "Kraken's equity 9,100.00 USD is far from trade balance + P&L 9,000.00 USD")


def _rules(call, stop, note=""):
    return PairRules("ETH/BTC", "ETH", "BTC", D(call), D(stop), levels_unknown=note)


def test_rule_changes_of_held_pairs_only():
    old = {"ETH/BTC": _rules(80, 40), "BTC/USD": PairRules("BTC/USD", "BTC", "USD", D(80), D(40))}
    new = {"ETH/BTC": _rules(100, 50), "BTC/USD": PairRules("BTC/USD", "BTC", "USD", D(90), D(40))}
    (change,) = rule_changes.rule_changes(old, new, held=["ETH/BTC"])
    assert change == rule_changes.RuleChange("ETH/BTC", D(80), D(40), D(100), D(50))
    assert rule_changes.rule_changes(old, old, held=["ETH/BTC", "BTC/USD"]) == []
    assert rule_changes.unknown_levels({"ETH/BTC": _rules(80, 40, "levels unknown, using 80/40")},
                                       ["ETH/BTC", "SOL/USD"]) == {
        "ETH/BTC": "levels unknown, using 80/40", "SOL/USD": "levels unknown, using 80/40"}
