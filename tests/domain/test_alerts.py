"""Alert engine: classification, hysteresis, escalation, snooze, stale data and trader-readable messages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from kraken_monitor.domain.alerts import (
    AlertEngine,
    AlertThresholds,
    classify_account,
    classify_position,
)
from kraken_monitor.domain.errors import NeedsConfirmation
from kraken_monitor.domain.models import (
    MarginMode,
    Risk,
    Side,
)
from kraken_monitor.testing.records import rule_account, rule_figures, rule_snapshot
from kraken_monitor.text.alerts import alert_message  # the domain gives numbers; the text says them

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
T = AlertThresholds()  # call 80 -> watch 150, warning 100, critical 80; stop 40 -> liquidation 45


def levels(alerts) -> list[tuple[str, Risk]]:
    return [(a.key, a.level) for a in alerts]


@pytest.mark.parametrize(
    ("level", "expected"),
    [(None, Risk.OK), ("150.1", Risk.OK), ("150", Risk.WATCH), ("100", Risk.WARNING), ("99.9", Risk.WARNING),
     ("80", Risk.CRITICAL), ("45.1", Risk.CRITICAL), ("45", Risk.LIQUIDATION), ("10", Risk.LIQUIDATION)],
)
def test_classify_account_relative_to_call_and_stop(level, expected):
    assert classify_account(rule_account(level), T) is expected


def test_classify_account_follows_pair_levels_not_80_40():
    # A pair with a 100% call / 50% stop: 110% is warning (call + 20), 54% liquidation (stop + 5 = 55).
    assert classify_account(rule_account("110", call="100", stop="50"), T) is Risk.WARNING
    assert classify_account(rule_account("54", call="100", stop="50"), T) is Risk.LIQUIDATION


@pytest.mark.parametrize(
    ("distance", "expected"),
    [(None, Risk.OK), ("25.01", Risk.OK), ("25", Risk.WATCH), ("15", Risk.WARNING), ("7.5", Risk.CRITICAL),
     ("2.5", Risk.LIQUIDATION), ("-3", Risk.LIQUIDATION)],
)
def test_classify_position_by_distance(distance, expected):
    assert classify_position(rule_figures(distance=distance), T) is expected


def test_apply_returns_new_snapshot_with_risks_and_leaves_input_untouched():
    original = rule_snapshot(rule_account("120"), rule_figures("C1", "40"), rule_figures("I1", "10", MarginMode.ISOLATED))
    result = AlertEngine(T).apply(original, T0)
    assert result is not original
    assert original.account.risk is Risk.OK and original.alerts == ()
    assert result.account.risk is Risk.WATCH
    # Cross row: max(account, own); isolated row: its own distance only.
    assert [pf.risk for pf in result.positions] == [Risk.WATCH, Risk.WARNING]
    assert levels(result.alerts) == [("account", Risk.WATCH), ("pos:I1", Risk.WARNING)]


def test_cross_positions_alert_only_through_the_account_naming_the_closest():
    engine = AlertEngine(T)
    result = engine.apply(rule_snapshot(rule_account("200"), rule_figures("C1", "20"), rule_figures("C2", "6", liq="65800")), T0)
    # Margin level is fine but a cross position is 6% away: ONE account alert at critical, none per position.
    assert levels(result.alerts) == [("account", Risk.CRITICAL)]
    alert = result.alerts[0]
    assert (alert.position_id, alert.pair, alert.distance_to_liquidation_pct) == ("C2", "BTC/USD", D("6"))
    assert alert.margin_level == D("200")
    assert result.account.risk is Risk.CRITICAL
    assert [pf.risk for pf in result.positions] == [Risk.CRITICAL, Risk.CRITICAL]


def test_message_is_readable_with_rounded_numbers():
    result = AlertEngine(T).apply(rule_snapshot(rule_account("78.2345"), rule_figures("C1", "12.3456", liq="61200")), T0)
    assert alert_message(result.alerts[0]) == (
        "Margin level 78.2% is below the margin call (80%); BTC/USD long is 12.3% from liquidation at 61,200"
    )
    iso = AlertEngine(T).apply(rule_snapshot(None, rule_figures("I9", "2.04", MarginMode.ISOLATED, side=Side.SHORT,
                                                  liq="71500.55", margin_level="51.27")), T0)
    assert alert_message(iso.alerts[0]) == (
        "Isolated BTC/USD short is 2.0% from liquidation at 71,501 (margin level 51.3%)"
    )
    assert iso.alerts[0].level is Risk.LIQUIDATION


def test_an_alert_about_an_unprotected_position_says_no_stop_loss():
    # Issue 16 item 2: the figures carry the `unprotected` code; the alert carries it as a fact and the
    # text says it. The same position with a stop-loss (no warning) reads without it.
    from dataclasses import replace

    bare = rule_figures("I9", "2.04", MarginMode.ISOLATED, liq="61200", margin_level="51.27")
    unprotected = replace(bare, warnings=("unprotected",))
    alert = AlertEngine(T).apply(rule_snapshot(None, unprotected), T0).alerts[0]
    assert alert.fact("unprotected") == 1
    assert alert_message(alert) == (
        "Isolated BTC/USD long is 2.0% from liquidation at 61,200 (margin level 51.3%); no stop-loss"
    )
    protected = AlertEngine(T).apply(rule_snapshot(None, bare), T0).alerts[0]
    assert protected.fact("unprotected") == 0 and not alert_message(protected).endswith("no stop-loss")


def test_at_the_liquidation_level_the_alert_names_the_position_kraken_closes_first():
    from dataclasses import replace

    oldest = replace(rule_figures("OLD", "-5", pair="BTC/USD", liq="75000"), liquidation_order=1)
    newer = replace(rule_figures("NEW", "-20", pair="BTC/USD", side=Side.SHORT, liq="56000"), liquidation_order=2)
    result = AlertEngine(T).apply(rule_snapshot(rule_account("38"), oldest, newer), T0)
    alert = result.alerts[0]
    assert alert.level is Risk.LIQUIDATION and alert.position_id == "OLD"
    assert alert_message(alert).endswith("Kraken liquidates the oldest position first: BTC/USD long")
    # Above the stop but in the liquidation band: the closest is named, and the FIFO victim too.
    near = AlertEngine(T).apply(rule_snapshot(rule_account("44"), replace(oldest, distance_to_liquidation_pct=D("9")),
                                     replace(newer, distance_to_liquidation_pct=D("2"))), T0)
    assert near.alerts[0].position_id == "NEW"
    assert "(Kraken liquidates BTC/USD long first: oldest)" in alert_message(near.alerts[0])


def test_level_fires_once_then_quiet_while_it_stays():
    engine = AlertEngine(T)
    fired = [levels(engine.apply(rule_snapshot(rule_account(v)), T0 + timedelta(seconds=i)).alerts)
             for i, v in enumerate(["200", "98", "97", "99", "95"])]
    assert fired == [[], [("account", Risk.WARNING)], [], [], []]


def test_escalation_fires_immediately_and_jumping_levels_fires_only_the_highest():
    engine = AlertEngine(T)
    assert levels(engine.apply(rule_snapshot(rule_account("140")), T0).alerts) == [("account", Risk.WATCH)]
    assert levels(engine.apply(rule_snapshot(rule_account("44")), T0).alerts) == [("account", Risk.LIQUIDATION)]


def test_de_escalation_is_quiet_and_rearm_needs_recovery_past_threshold_plus_margin():
    engine = AlertEngine(T)
    assert levels(engine.apply(rule_snapshot(rule_account("79")), T0).alerts) == [("account", Risk.CRITICAL)]
    assert engine.apply(rule_snapshot(rule_account("84.9")), T0).alerts == ()  # de-escalation to warning: quiet,
    assert engine.latched_level("account") is Risk.CRITICAL  # and not past 80 + 5 yet
    assert engine.apply(rule_snapshot(rule_account("79")), T0).alerts == ()  # so critical is still latched
    assert engine.apply(rule_snapshot(rule_account("85.1")), T0).alerts == ()  # re-armed now (quietly)
    assert engine.latched_level("account") is Risk.WARNING
    assert levels(engine.apply(rule_snapshot(rule_account("80")), T0).alerts) == [("account", Risk.CRITICAL)]


def test_distance_rearm_uses_rearm_distance_pct():
    engine = AlertEngine(T)
    iso = MarginMode.ISOLATED
    assert levels(engine.apply(rule_snapshot(None, rule_figures("I1", "14", iso)), T0).alerts) == [("pos:I1", Risk.WARNING)]
    assert engine.apply(rule_snapshot(None, rule_figures("I1", "16.9", iso)), T0).alerts == ()
    assert engine.apply(rule_snapshot(None, rule_figures("I1", "14", iso)), T0).alerts == ()  # 16.9 < 15 + 2: not re-armed
    assert engine.apply(rule_snapshot(None, rule_figures("I1", "17.1", iso)), T0).alerts == ()
    assert levels(engine.apply(rule_snapshot(None, rule_figures("I1", "15", iso)), T0).alerts) == [("pos:I1", Risk.WARNING)]


def test_fresh_engine_fires_for_anything_already_in_danger():
    state = rule_snapshot(rule_account("95"), rule_figures("I1", "20", MarginMode.ISOLATED), rule_figures("I2", "60", MarginMode.ISOLATED))
    assert levels(AlertEngine(T).apply(state, T0).alerts) == [("account", Risk.WARNING), ("pos:I1", Risk.WATCH)]
    assert AlertEngine(T).apply(rule_snapshot(rule_account("151")), T0).alerts == ()


def test_snooze_silences_same_or_lower_level_until_expiry_but_not_escalation():
    engine = AlertEngine(T)
    engine.apply(rule_snapshot(rule_account("95")), T0)
    engine.snooze("account", Risk.WARNING, T0 + timedelta(minutes=10))
    engine.apply(rule_snapshot(rule_account("110")), T0 + timedelta(minutes=1))  # re-armed warning (> 105)
    assert engine.apply(rule_snapshot(rule_account("95")), T0 + timedelta(minutes=2)).alerts == ()  # snoozed re-fire
    after = engine.apply(rule_snapshot(rule_account("95")), T0 + timedelta(minutes=11))
    assert levels(after.alerts) == [("account", Risk.WARNING)]  # still in danger when the snooze ends

    engine.snooze("account", Risk.WARNING, T0 + timedelta(hours=1))
    escalated = engine.apply(rule_snapshot(rule_account("79")), T0 + timedelta(minutes=12))
    assert levels(escalated.alerts) == [("account", Risk.CRITICAL)]


def test_snoozing_an_old_watch_row_covers_watch_only_critical_and_liquidation_fire_through():
    # Levels (call 80, stop 40): watch <= 150, warning <= 100, critical <= 80, liquidation <= 45.
    engine = AlertEngine(T)
    assert levels(engine.apply(rule_snapshot(rule_account("140")), T0).alerts) == [("account", Risk.WATCH)]
    assert levels(engine.apply(rule_snapshot(rule_account("78")), T0 + timedelta(seconds=1)).alerts) == [("account", Risk.CRITICAL)]
    # The trader snoozes the OLD watch row while CRITICAL is the highest level fired on the key.
    engine.snooze("account", Risk.WATCH, T0 + timedelta(minutes=15))
    # Recovers past the critical re-arm (80 + 5 = 85) but stays in warning, then crashes again.
    assert engine.apply(rule_snapshot(rule_account("90")), T0 + timedelta(seconds=2)).alerts == ()  # de-escalation is quiet
    fired = [engine.apply(rule_snapshot(rule_account(level)), T0 + timedelta(seconds=3 + i)).alerts
             for i, level in enumerate(("79", "44"))]
    assert [levels(a) for a in fired] == [[("account", Risk.CRITICAL)], [("account", Risk.LIQUIDATION)]]


def test_a_snooze_silences_its_own_level_and_below_only():
    engine = AlertEngine(T)
    engine.apply(rule_snapshot(rule_account("95")), T0)  # warning
    engine.snooze("account", Risk.WARNING, T0 + timedelta(minutes=15))
    engine.apply(rule_snapshot(rule_account("160")), T0 + timedelta(seconds=1))  # everything re-armed (> 155)
    assert engine.apply(rule_snapshot(rule_account("140")), T0 + timedelta(seconds=2)).alerts == ()  # watch <= warning
    assert engine.apply(rule_snapshot(rule_account("95")), T0 + timedelta(seconds=3)).alerts == ()  # warning itself
    assert levels(engine.apply(rule_snapshot(rule_account("79")), T0 + timedelta(seconds=4)).alerts) == [("account", Risk.CRITICAL)]


def test_liquidation_is_snoozed_only_with_an_explicit_confirmation():
    engine = AlertEngine(T)
    engine.apply(rule_snapshot(rule_account("44")), T0)
    with pytest.raises(NeedsConfirmation):
        engine.snooze("account", Risk.LIQUIDATION, T0 + timedelta(minutes=15))
    engine.apply(rule_snapshot(rule_account("160")), T0 + timedelta(seconds=1))  # re-armed: not snoozed, so it fires
    assert levels(engine.apply(rule_snapshot(rule_account("44")), T0 + timedelta(seconds=2)).alerts) == [("account", Risk.LIQUIDATION)]
    engine.snooze("account", Risk.LIQUIDATION, T0 + timedelta(minutes=15), confirmed=True)
    engine.apply(rule_snapshot(rule_account("160")), T0 + timedelta(seconds=3))
    assert engine.apply(rule_snapshot(rule_account("44")), T0 + timedelta(seconds=4)).alerts == ()


def test_acknowledge_by_id_records_without_silencing():
    engine = AlertEngine(T)
    (fired,) = engine.recorded(engine.apply(rule_snapshot(rule_account("95")), T0).alerts, ids=[41])
    assert fired.id == 41 and fired.acknowledged_at is None and not engine.is_acknowledged("account")
    acked = engine.acknowledge_alert(41, T0 + timedelta(seconds=5))
    assert acked.id == 41 and acked.acknowledged_at == T0 + timedelta(seconds=5) and acked.level is Risk.WARNING
    assert engine.record(41) == acked and engine.is_acknowledged("account")
    assert levels(engine.apply(rule_snapshot(rule_account("79")), T0).alerts) == [("account", Risk.CRITICAL)]
    assert not engine.is_acknowledged("account")  # a higher level needs a new acknowledgement
    assert engine.acknowledge_alert(999, T0) is None  # an id the engine never saw


def test_snooze_by_id_uses_that_alerts_level_and_returns_the_updated_record():
    engine = AlertEngine(T)
    (watch,) = engine.recorded(engine.apply(rule_snapshot(rule_account("140")), T0).alerts, ids=[1])
    engine.recorded(engine.apply(rule_snapshot(rule_account("78")), T0 + timedelta(seconds=1)).alerts, ids=[2])  # critical
    until = T0 + timedelta(minutes=15)
    snoozed = engine.snooze_alert(1, until)
    assert (snoozed.id, snoozed.level, snoozed.snoozed_until) == (1, Risk.WATCH, until)
    engine.apply(rule_snapshot(rule_account("90")), T0 + timedelta(seconds=2))  # critical re-armed (> 85)
    assert levels(engine.apply(rule_snapshot(rule_account("79")), T0 + timedelta(seconds=3)).alerts) == [("account", Risk.CRITICAL)]


def test_without_a_journal_the_engine_numbers_alerts_locally():
    engine = AlertEngine(T)
    first = engine.recorded(engine.apply(rule_snapshot(rule_account("95")), T0).alerts)
    second = engine.recorded(engine.apply(rule_snapshot(rule_account("79")), T0).alerts)
    assert [a.id for a in first + second] == [-1, -2]


def test_restore_keeps_what_fired_this_session_and_running_snoozes():
    engine = AlertEngine(T)
    fired = engine.recorded(engine.apply(rule_snapshot(rule_account("95"), rule_figures("I1", "10", MarginMode.ISOLATED)), T0).alerts,
                            ids=[7, 8])
    snoozed = engine.snooze_alert(8, T0 + timedelta(minutes=15))
    journal_rows = [fired[0], snoozed]  # what the journal holds after the settings restart
    later = T0 + timedelta(minutes=1)
    # A settings restart: fired in this session -> nothing fires again for the same danger.
    resumed = AlertEngine(T)
    resumed.restore(journal_rows, later, latch_since=T0)
    same = rule_snapshot(rule_account("95"), rule_figures("I1", "10", MarginMode.ISOLATED))
    assert resumed.apply(same, later).alerts == ()
    assert resumed.record(8).snoozed_until == T0 + timedelta(minutes=15)
    # Worse than before still fires through at once.
    assert levels(resumed.apply(rule_snapshot(rule_account("79"), rule_figures("I1", "10", MarginMode.ISOLATED)), later).alerts) == [
        ("account", Risk.CRITICAL)]
    # A fresh app start (session began after those alerts): the danger alerts again, but the snooze holds.
    fresh = AlertEngine(T)
    fresh.restore(journal_rows, later, latch_since=later)
    assert levels(fresh.apply(same, later).alerts) == [("account", Risk.WARNING)]  # pos:I1 still snoozed


def test_stale_sets_unknown_fires_once_and_keeps_state():
    engine = AlertEngine(T)
    assert levels(engine.apply(rule_snapshot(rule_account("95"), rule_figures("I1", "10", MarginMode.ISOLATED)), T0).alerts) == [
        ("account", Risk.WARNING), ("pos:I1", Risk.WARNING)]
    stale = engine.apply(rule_snapshot(rule_account("200"), rule_figures("I1", "50", MarginMode.ISOLATED), stale=True,
                              reason="prices are 9.0 s old"), T0)
    assert stale.account.risk is Risk.UNKNOWN and stale.positions[0].risk is Risk.UNKNOWN
    assert len(stale.alerts) == 1
    alert = stale.alerts[0]
    assert (alert.key, alert.level, alert.stale) == ("stale", Risk.UNKNOWN, True)
    assert alert_message(alert) == "data stale: risk unknown (prices are 9.0 s old)"
    assert engine.apply(rule_snapshot(rule_account("200"), stale=True, reason="x"), T0).alerts == ()  # once per period
    # The stale figures (200%, 50%) re-armed nothing: the same danger after recovery stays quiet.
    assert engine.apply(rule_snapshot(rule_account("95"), rule_figures("I1", "10", MarginMode.ISOLATED)), T0).alerts == ()
    again = engine.apply(rule_snapshot(rule_account("95"), stale=True, reason="account never read"), T0)
    assert levels(again.alerts) == [("stale", Risk.UNKNOWN)]


def test_closed_position_state_is_forgotten():
    engine = AlertEngine(T)
    iso = MarginMode.ISOLATED
    engine.apply(rule_snapshot(None, rule_figures("I1", "10", iso)), T0)
    engine.apply(rule_snapshot(None), T0)  # position closed
    assert levels(engine.apply(rule_snapshot(None, rule_figures("I1", "10", iso)), T0).alerts) == [("pos:I1", Risk.WARNING)]

