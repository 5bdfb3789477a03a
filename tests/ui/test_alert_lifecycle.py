"""One alert lifecycle through the real worker, journal and window: popup, tray and log show the same state."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Risk
from kraken_monitor.storage.journal import Journal
from kraken_monitor.testing.fakes import CrashOnCueWorker
from kraken_monitor.ui import actions
from kraken_monitor.ui.alert_log import AlertColumn
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.runner import MonitorThread


class Cue(QObject):
    crash = Signal()


def _row_of(model, alert_id: int) -> int:
    return next(r for r in range(model.rowCount()) if model.row(r).id == alert_id)


def test_acknowledge_and_snooze_anywhere_show_everywhere_and_popups_follow_the_market(qtbot, tmp_path, monkeypatch):
    config = MonitorConfig(mode="demo", db_path=tmp_path / "demo.sqlite3", price_interval_s=0.05,
                           account_interval_s=0.05, demo_speed=20.0, sound_enabled=False)
    messages = Messages(sound_enabled=False)
    monkeypatch.setattr(Messages, "_instance", messages)
    window = MainWindow("demo")
    qtbot.addWidget(window)
    controller = actions.install(window, config)
    monitor = MonitorThread(config, worker_class=CrashOnCueWorker)
    cue = Cue()
    cue.crash.connect(monitor.worker.start_crash)
    MonitorSession(window, config, controller).attach(monitor)
    model = window.alert_dock.model
    monitor.start()
    try:
        # The demo book starts in WATCH: one account popup, following the market while open.
        qtbot.waitUntil(lambda: "account" in messages.popups(), timeout=20_000)
        popup = messages.popups()["account"]
        watch = popup.alert
        assert watch.level is Risk.WATCH and watch.id > 0
        qtbot.waitUntil(lambda: "Now (" in popup.live_text(), timeout=5_000)
        # Acknowledged from the tray: the popup closes and the log row says so (the engine's record).
        messages.acknowledge_open()
        assert messages.popups() == {}
        qtbot.waitUntil(lambda: model.data(model.index(_row_of(model, watch.id), AlertColumn.STATE)).startswith("acknowledged"),
                        timeout=5_000)
        # The crash: a WARNING popup whose live line moves with every snapshot.
        cue.crash.emit()
        qtbot.waitUntil(lambda: "account" in messages.popups()
                        and messages.popups()["account"].alert.level >= Risk.WARNING, timeout=20_000)
        popup = messages.popups()["account"]
        warning = popup.alert
        first_live = popup.live_text()
        qtbot.waitUntil(lambda: "account" in messages.popups() and popup.live_text() != first_live, timeout=5_000)
        # Snoozed from the log: the popup of that alert closes, the row shows the snooze and its scope.
        window.alert_dock.table.selectRow(_row_of(model, warning.id))
        window.alert_dock.snooze_button.click()
        qtbot.waitUntil(lambda: "snoozed until" in model.data(model.index(_row_of(model, warning.id), AlertColumn.STATE)),
                        timeout=5_000)
        assert messages.popups().get("account") is None or messages.popups()["account"].alert.id != warning.id
        assert f"({warning.level.label} and below)" in model.data(model.index(_row_of(model, warning.id), AlertColumn.STATE))
    finally:
        assert monitor.stop()
        messages.close_all_popups()
    journal = Journal.open(config.db_path)
    try:
        rows = {a.id: a for a in journal.recent_alerts()}
        assert rows[watch.id].acknowledged_at is not None and rows[warning.id].snoozed_until is not None
    finally:
        journal.close()
