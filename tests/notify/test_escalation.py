"""Escalation on a fake clock: critical/liquidation wait N s for an acknowledgement, then go to the channels."""

from dataclasses import replace

from kraken_monitor.domain.models import Risk
from kraken_monitor.notify.escalation import Escalation
from tests.notify.alerts import T0, level_alert, liquidation_event


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(after_s=60.0):
    clock, sent = FakeClock(), []
    return Escalation(lambda alert, waited: sent.append((alert.id, waited)), after_s, clock), clock, sent


def test_an_unacknowledged_critical_alert_is_sent_once_after_the_wait():
    esc, clock, sent = make(60)
    assert esc.fired(level_alert(Risk.CRITICAL, alert_id=7))
    clock.now += 59.9
    assert esc.tick() == () and sent == []
    clock.now += 0.1  # exactly 60 s after it fired
    esc.tick()
    assert sent == [(7, 60.0)]
    clock.now += 600
    esc.tick()
    assert sent == [(7, 60.0)]  # once, not every tick


def test_acknowledging_before_the_wait_stops_it():
    esc, clock, sent = make(60)
    esc.fired(level_alert(Risk.LIQUIDATION, alert_id=3))
    clock.now += 30
    esc.acknowledged(3)
    clock.now += 300
    esc.tick()
    assert sent == []


def test_an_acknowledgement_or_snooze_from_anywhere_arrives_as_changed_records():
    esc, clock, sent = make(10)
    esc.fired(level_alert(Risk.CRITICAL, alert_id=1, key="account"))
    esc.fired(level_alert(Risk.CRITICAL, alert_id=2, key="pos:B"))
    esc.changed([replace(level_alert(Risk.CRITICAL, alert_id=1), acknowledged_at=T0),
                 replace(level_alert(Risk.CRITICAL, alert_id=2, key="pos:B"), snoozed_until=T0)])
    clock.now += 11
    esc.tick()
    assert sent == []


def test_lower_levels_stale_data_and_events_do_not_wait():
    esc, _, _ = make()
    assert not esc.fired(level_alert(Risk.WARNING))
    assert not esc.fired(replace(level_alert(Risk.UNKNOWN), stale=True))
    assert not esc.fired(liquidation_event())


def test_a_higher_level_on_the_same_key_keeps_the_first_start():
    esc, clock, sent = make(60)
    esc.fired(level_alert(Risk.CRITICAL, alert_id=1))
    clock.now += 40
    esc.fired(level_alert(Risk.LIQUIDATION, alert_id=2))  # same key "account"
    clock.now += 20  # 60 s since the first popup, 20 s since the second
    esc.tick()
    assert sent == [(2, 60.0)]
    assert esc.waiting() == ()
