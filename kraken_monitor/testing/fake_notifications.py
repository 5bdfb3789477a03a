"""A private D-Bus session bus (dbus-daemon) with a fake org.freedesktop.Notifications service, for tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir={dir}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
"""


def dbus_daemon() -> str | None:
    return shutil.which("dbus-daemon")


class PrivateBus:
    """`dbus-daemon` on a socket in a temporary directory; `address` is its D-Bus address."""

    def __enter__(self) -> PrivateBus:
        self._dir = tempfile.mkdtemp(prefix="km-dbus-")
        config = Path(self._dir) / "bus.conf"
        config.write_text(_CONFIG.format(dir=self._dir), encoding="utf-8")
        self._proc = subprocess.Popen([dbus_daemon(), f"--config-file={config}", "--nofork", "--print-address=1"],
                                      stdout=subprocess.PIPE, text=True)
        self.address = self._proc.stdout.readline().strip()
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.wait(5)
        shutil.rmtree(self._dir, ignore_errors=True)


class FakeNotificationServer:
    """Owns org.freedesktop.Notifications on `address`, records each Notify call (signature and body),
    answers with increasing ids; `refuse=True` answers every call with a D-Bus error instead."""

    def __init__(self, address: str, refuse: bool = False):
        self.address = address
        self.refuse = refuse
        self.calls: list[tuple[str, tuple]] = []
        self._arrived = threading.Condition()
        self._ready = threading.Event()
        self._stop = threading.Event()

    def __enter__(self) -> FakeNotificationServer:
        self._thread = threading.Thread(target=self._serve, name="fake-notifications", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake notification server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _serve(self) -> None:
        from jeepney import MessageType, new_error, new_method_return
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(bus=self.address) as conn:
            conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.Notifications"))
            self._ready.set()
            next_id = 0
            while not self._stop.is_set():
                try:
                    msg = conn.receive(timeout=0.2)
                except TimeoutError:
                    continue
                if msg.header.message_type != MessageType.method_call:
                    continue
                signature = msg.header.fields.get(8, "")  # HeaderFields.signature
                with self._arrived:
                    self.calls.append((signature, msg.body))
                    self._arrived.notify_all()
                if self.refuse:
                    conn.send(new_error(msg, "org.freedesktop.DBus.Error.Failed", "s", ("refused",)))
                else:
                    next_id += 1
                    conn.send(new_method_return(msg, "u", (next_id,)))

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[tuple[str, tuple]]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.calls) >= count, timeout_s)
            return list(self.calls)
