"""The window's side: escalation of an unacknowledged popup (fake clock) and the Settings' Notifications tab,
with real widgets, a real INI settings file, the memory keyring and a local webhook."""

from dataclasses import replace

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Risk
from kraken_monitor.notify import secrets
from kraken_monitor.notify.channels import Channel
from kraken_monitor.testing.notify_servers import WebhookServer
from kraken_monitor.ui.actions import ActionsController
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.notify_bridge import NotifyBridge
from kraken_monitor.ui.settings_dialog import SettingsDialog
from kraken_monitor.ui.settings_notify import load_channels, save_channels
from kraken_monitor.ui.settings_store import open_settings
from tests.notify.alerts import T0, level_alert

TOKEN = "tok-gui-0a1b2c3d4e"


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hook():
    with WebhookServer() as server:
        yield server


@pytest.fixture
def desk(qtbot, tmp_path, memory_keyring, hook):
    """A controller with a real Messages and a bridge whose one channel posts to the local webhook."""
    settings = open_settings(tmp_path / "settings.ini")
    save_channels(settings, [Channel("ch-desk", "Desk webhook")])
    secrets.save_url("ch-desk", f"json://127.0.0.1:{hook.port}/{TOKEN}")
    clock = FakeClock()
    bridge = NotifyBridge(MonitorConfig(escalate_after_s=60), settings, clock=clock, tick_ms=3_600_000)
    with qtbot.waitSignal(bridge.destinations_loaded, timeout=5000):
        pass
    messages = Messages(sound_enabled=False)
    controller = ActionsController(MonitorConfig(), messages)
    controller.notifications = bridge
    yield controller, bridge, clock, messages, settings
    messages.close_all_popups()
    bridge.stop()


def test_a_critical_popup_nobody_acknowledges_goes_to_the_channel_after_60_s(qtbot, desk, hook):
    controller, bridge, clock, messages, _ = desk
    controller.on_alerts_fired((level_alert(Risk.CRITICAL, alert_id=11),))
    assert "account" in messages.popups()
    clock.now += 59
    assert bridge.service.tick() == ()
    clock.now += 1
    assert [a.id for a in bridge.service.tick()] == [11]
    posted = hook.wait_for(1)
    assert posted[0]["title"] == "kraken-monitor: CRITICAL: Cross-margin account"
    assert posted[0]["message"].endswith("Not acknowledged at the desk within 60 s.")
    qtbot.waitUntil(lambda: bridge.last_status.get("ch-desk") is not None, timeout=5000)
    assert bridge.last_status["ch-desk"].ok


def test_acknowledging_the_popup_stops_the_escalation(qtbot, desk, hook):
    controller, bridge, clock, messages, _ = desk
    controller.on_alerts_fired((level_alert(Risk.LIQUIDATION, alert_id=12),))
    clock.now += 30
    messages.popups()["account"].close()  # the trader closes the popup: acknowledged
    clock.now += 300
    assert bridge.service.tick() == ()
    assert hook.received == []


def test_an_acknowledgement_from_the_log_stops_it_too(qtbot, desk, hook):
    controller, bridge, clock, _, _ = desk
    alert = level_alert(Risk.CRITICAL, alert_id=13)
    controller.on_alerts_fired((alert,))
    controller.on_alerts_changed((replace(alert, acknowledged_at=T0),))  # the worker's alerts_changed
    clock.now += 120
    assert bridge.service.tick() == () and hook.received == []


def test_settings_add_a_channel_send_a_test_and_keep_the_url_out_of_the_settings_file(qtbot, tmp_path, memory_keyring, hook):
    path = tmp_path / "settings.ini"
    settings = open_settings(path)
    bridge = NotifyBridge(MonitorConfig(), settings, tick_ms=3_600_000)
    try:
        dialog = SettingsDialog(MonitorConfig(), None, settings)
        qtbot.addWidget(dialog)
        section = dialog.notify_section
        assert section.keyring_ok
        section.label_edit.setText("Phone")
        section.url_edit.setText("nonsense://x")
        assert section.add_channel() is None and "apprise" in section.add_reason.text()
        section.url_edit.setText(f"json://127.0.0.1:{hook.port}/{TOKEN}")
        channel = section.add_channel()
        assert channel is not None and section.url_edit.text() == ""
        section.level_checks["warning"].setChecked(True)
        section.event_checks["closed"].setChecked(True)
        section.test_button.click()
        qtbot.waitUntil(lambda: "delivered" in section.status_label.text(), timeout=10_000)
        assert hook.wait_for(1)[0]["title"] == "kraken-monitor: test notification"
        section.escalate_spin.setValue(90)
        section.volume_slider.setValue(35)
        config = dialog.save(settings)
        assert (config.escalate_after_s, config.alarm_volume) == (90.0, 35)
        [stored] = load_channels(settings)
        assert stored.label == "Phone" and stored.levels == {"warning", "critical", "liquidation", "stale"}
        assert stored.events == {"liquidated", "closed"}
        assert secrets.load_url(stored.id) == f"json://127.0.0.1:{hook.port}/{TOKEN}"
        written = path.read_text(encoding="utf-8")
        assert "Phone" in written and TOKEN not in written and str(hook.port) not in written
    finally:
        bridge.stop()


def test_removing_a_channel_deletes_its_url_from_the_keyring(qtbot, tmp_path, memory_keyring):
    settings = open_settings(tmp_path / "settings.ini")
    save_channels(settings, [Channel("ch-old", "Old")])
    secrets.save_url("ch-old", f"ntfy://ntfy.example.test/{TOKEN}")
    dialog = SettingsDialog(MonitorConfig(), None, settings)
    qtbot.addWidget(dialog)
    dialog.notify_section.remove_selected()
    dialog.save(settings)
    assert load_channels(settings) == [] and secrets.load_url("ch-old") is None


def test_a_delivery_that_finally_fails_is_said_on_the_desktop(qtbot, desk, hook, monkeypatch):
    controller, bridge, clock, messages, _ = desk
    said = []
    monkeypatch.setattr(messages, "notify", lambda title, body: said.append((title, body)) or True)
    bridge.status_changed.connect(controller.on_delivery_status)  # as install() connects it
    bridge.service.notifier._delays = (0.0,)  # one retry, no wait
    hook.fail_next(2)
    controller.on_alerts_fired((level_alert(Risk.CRITICAL, alert_id=21),))
    clock.now += 60
    bridge.service.tick()
    failed = "kraken-monitor: an alert notification was not delivered"
    qtbot.waitUntil(lambda: any(title == failed for title, _ in said), timeout=10_000)
    assert said[0][0] == "CRITICAL: Cross-margin account"  # the popup's own desktop message came first
    [body] = [body for title, body in said if title == failed]
    assert "Desk webhook: failed after 2 attempts" in body and TOKEN not in body
