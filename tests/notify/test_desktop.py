"""Freedesktop notifications over a private D-Bus session bus with a fake Notifications service."""

import pytest

from kraken_monitor.notify.desktop import SIGNATURE, DesktopNotifications, NotifyCall
from kraken_monitor.testing.fake_notifications import FakeNotificationServer, PrivateBus, dbus_daemon

needs_dbus = pytest.mark.skipif(dbus_daemon() is None, reason="dbus-daemon is not installed (apt package dbus; .ci/run installs it)")


def test_the_call_carries_the_specifications_argument_order():
    call = NotifyCall("kraken-monitor", "LIQUIDATION: Cross-margin account", "Act on: PAPER-00001", replaces_id=7)
    assert call.body_tuple() == ("kraken-monitor", 7, "dialog-warning", "LIQUIDATION: Cross-margin account",
                                 "Act on: PAPER-00001", [], {"urgency": ("y", 2)}, 15_000)


@needs_dbus
def test_a_notification_reaches_the_service_and_the_next_replaces_it():
    with PrivateBus() as bus, FakeNotificationServer(bus.address) as server:
        desktop = DesktopNotifications(bus_address=bus.address)
        desktop.send("CRITICAL: Cross-margin account", "Margin level 79.9 %").join(5)
        desktop.send("LIQUIDATION: Cross-margin account", "Margin level 43.5 %").join(5)
        calls = server.wait_for(2)
    assert [sig for sig, _ in calls] == [SIGNATURE, SIGNATURE]  # uint32 replaces_id, string array actions
    assert calls[0][1][:5] == ("kraken-monitor", 0, "dialog-warning", "CRITICAL: Cross-margin account",
                               "Margin level 79.9 %")
    assert calls[1][1][1] == 1  # replaces the first bubble (the service's id for it)
    assert desktop.last_id == 2 and desktop.last_error == ""


@needs_dbus
def test_a_refusing_service_is_logged_not_raised():
    with PrivateBus() as bus, FakeNotificationServer(bus.address, refuse=True) as server:
        desktop = DesktopNotifications(bus_address=bus.address)
        desktop.send("T", "B").join(5)
        assert server.wait_for(1)
    assert "refused" in desktop.last_error


def test_no_session_bus_means_not_available(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    desktop = DesktopNotifications()
    assert not desktop.available() and desktop.send("T", "B") is None
