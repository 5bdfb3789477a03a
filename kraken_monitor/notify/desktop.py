"""Desktop notifications without a tray: freedesktop org.freedesktop.Notifications over the D-Bus session bus.

Sent with jeepney (pure Python, installed with keyring on Linux): PySide6 6.11's QtDBus marshals a
Python int as int32 or uint16, never the uint32 `replaces_id` that Notify(susssasa{sv}i) requires, and
notification servers reject a call whose signature differs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
SIGNATURE = "susssasa{sv}i"
EXPIRE_MS = 15_000
CALL_TIMEOUT_S = 3.0
URGENCY_CRITICAL = 2  # stays on screen until dismissed (most servers)


@dataclass(frozen=True)
class NotifyCall:
    """The arguments of one Notify call, in the specification's order."""

    app_name: str
    summary: str
    body: str
    replaces_id: int = 0
    app_icon: str = "dialog-warning"
    urgency: int = URGENCY_CRITICAL
    expire_ms: int = EXPIRE_MS

    def body_tuple(self) -> tuple:
        hints = {"urgency": ("y", self.urgency)}
        return (self.app_name, self.replaces_id, self.app_icon, self.summary, self.body, [], hints, self.expire_ms)


def message(call: NotifyCall):
    from jeepney import DBusAddress, new_method_call

    address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)
    return new_method_call(address, "Notify", SIGNATURE, call.body_tuple())


class DesktopNotifications:
    """Sends in a daemon thread (a stuck bus never blocks the GUI); remembers the last id to replace
    the previous bubble instead of stacking them. `available()` is False without a session bus."""

    def __init__(self, app_name: str = "kraken-monitor", bus_address: str = "SESSION"):
        self.app_name = app_name
        self.bus_address = bus_address
        self.last_id = 0
        self.last_error = ""
        self._lock = threading.Lock()

    def available(self) -> bool:
        import os

        if self.bus_address != "SESSION":
            return True
        try:
            import jeepney  # noqa: F401
        except ImportError:
            return False
        return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))

    def send(self, summary: str, body: str) -> threading.Thread | None:
        """Start one Notify call; the thread (tests join it), or None when there is no bus."""
        if not self.available():
            return None
        thread = threading.Thread(target=self._send, args=(summary, body), name="desktop-notify", daemon=True)
        thread.start()
        return thread

    def _send(self, summary: str, body: str) -> None:
        from jeepney.io.blocking import open_dbus_connection

        try:
            with self._lock, open_dbus_connection(bus=self.bus_address) as conn:
                call = NotifyCall(self.app_name, summary, body, replaces_id=self.last_id)
                reply = conn.send_and_get_reply(message(call), timeout=CALL_TIMEOUT_S)
                if reply.header.message_type.name == "error":
                    raise RuntimeError(str(reply.body[0]) if reply.body else "D-Bus error")
                self.last_id = int(reply.body[0])
                self.last_error = ""
        except Exception as exc:  # noqa: BLE001 - no server, a refused call, a timeout: the popup still shows
            self.last_error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
            log.warning("desktop notification not shown (%s)", self.last_error)
