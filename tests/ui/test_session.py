"""The session: one table wires a real PollWorker to the window and the controller; restart swaps it cleanly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.testing import builders as S
from kraken_monitor.testing.fakes import FakeMonitor, RecordingWorker
from kraken_monitor.ui import actions, session
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.requests import ClosePosition, RefreshNow


class _ThreadlessMonitor(FakeMonitor):
    """A FakeMonitor with `config`, so the session builds its watchdog as for a MonitorThread."""

    def __init__(self, config: MonitorConfig) -> None:
        super().__init__(RecordingWorker(config))
        self.config = config


def test_every_row_of_the_tables_names_a_real_signal_and_slot(make_window):
    window = make_window()
    controller = actions.install(window, MonitorConfig())
    config = MonitorConfig()
    s = MonitorSession(window, config, controller)
    s.attach(_ThreadlessMonitor(config))
    owners = {"window": window, "actions": controller, "watchdog": s.watchdog}
    worker = s.worker
    for signal_name, slot_path in session.WORKER_TO_GUI:
        assert getattr(worker, signal_name, None) is not None, signal_name
        assert session._resolve(owners, slot_path) is not None, slot_path
    for signal_path, slot_name in session.GUI_TO_WORKER:
        assert session._resolve(owners, signal_path) is not None and hasattr(worker, slot_name)
    for signal_path, slot_path in session.WATCHDOG_TO_GUI:
        assert None not in (session._resolve(owners, signal_path), session._resolve(owners, slot_path))
    rows = len(session.WORKER_TO_GUI) + len(session.GUI_TO_WORKER) + len(session.WATCHDOG_TO_GUI)
    assert len(s._connections) == rows  # none skipped for a real worker with a controller


def test_restart_stops_the_old_worker_and_only_the_new_one_is_wired(make_window, qtbot, tmp_path):
    window = make_window()
    controller = actions.install(window, MonitorConfig(db_path=tmp_path / "demo.sqlite3"))
    made: list[_ThreadlessMonitor] = []

    def factory(config):
        made.append(_ThreadlessMonitor(config))
        return made[-1]

    # No instance locks here: this test is about the wiring (tests/ui/test_settings_session.py: the locks).
    s = MonitorSession(window, MonitorConfig(db_path=tmp_path / "demo.sqlite3"), controller,
                       monitor_factory=factory, lock_journal=lambda config: None)
    s.start()
    first = made[0]
    assert first.starts == 1
    controller.config_changed.emit(MonitorConfig(mode="paper", db_path=tmp_path / "paper.sqlite3"))  # saved
    assert len(made) == 2 and first.stops == 1 and made[1].starts == 1
    assert made[1].worker.config.mode == "paper" and "PAPER" in window.windowTitle()
    # The old worker no longer reaches the screen; the new one does.
    first.worker.snapshot_ready.emit(S.snapshot())
    assert window.positions_model.rowCount() == 0
    made[1].worker.snapshot_ready.emit(S.snapshot())
    assert window.positions_model.rowCount() == 3
    # Requests go to the new worker only.
    window.refresh_now()
    controller.submit_close(_close_request())
    assert first.worker.requests == []
    assert made[1].worker.requests == [RefreshNow(), ClosePosition("TXA-1", Decimal("0.5"), "market", None)]
    window.close()  # the session stops the monitor when the window closes
    assert made[1].stops == 1


def test_a_stand_in_monitor_without_a_controller_wires_the_window_rows_only(make_window):
    window = make_window()
    s = MonitorSession(window, MonitorConfig())
    monitor = FakeMonitor()
    s.attach(monitor)
    assert s.watchdog is None  # no config: nothing to measure the stale window against
    monitor.worker.status_changed.emit("retrying in 2 s")
    assert window.status.connection.text() == "retrying in 2 s"
    s.detach()
    monitor.worker.status_changed.emit("ok")
    assert window.status.connection.text() == "retrying in 2 s"  # detached: no longer shown


def _close_request():
    from kraken_monitor.ui.close_dialog import CloseRequest

    return CloseRequest("TXA-1", Decimal("0.5"), "market", None)


def test_a_restart_onto_a_journal_another_instance_holds_keeps_monitoring(make_window, tmp_path, monkeypatch):
    from kraken_monitor.storage.instance_lock import InstanceLock, JournalInUse
    from kraken_monitor.ui.messages import Messages

    window = make_window()
    controller = actions.install(window, MonitorConfig())
    made: list[_ThreadlessMonitor] = []

    def factory(config):
        made.append(_ThreadlessMonitor(config))
        return made[-1]

    errors = []
    monkeypatch.setattr(Messages.instance(), "error", lambda parent, title, text: errors.append((title, text)))
    demo = MonitorConfig(mode="demo", db_path=tmp_path / "demo.sqlite")
    paper = MonitorConfig(mode="paper", db_path=tmp_path / "paper.sqlite")
    own = InstanceLock(demo.journal_path()).acquire()  # what run_gui took at start-up
    s = MonitorSession(window, demo, controller, monitor_factory=factory, lock=own)
    s.start()
    other = InstanceLock(paper.journal_path()).acquire()  # another kraken-monitor already on the paper journal
    controller.config_changed.emit(paper)
    (title, text) = errors[0]
    assert "monitoring unchanged" in title and str(paper.journal_path()) in text
    assert len(made) == 1 and made[0].stops == 0 and s.monitor is made[0]  # still watching, still wired
    assert s.lock is own and own.held
    other.release()
    controller.config_changed.emit(paper)  # applied again once the other instance is gone
    assert len(made) == 2 and made[0].stops == 1 and s.monitor is made[1]
    assert s.lock is not own and s.lock.held and s.lock.journal == paper.journal_path()
    InstanceLock(demo.journal_path()).acquire().release()  # the demo journal's lock was given back
    held = s.lock
    with pytest.raises(JournalInUse):  # the paper journal is the session's now
        InstanceLock(paper.journal_path()).acquire()
    window.close()  # the session ends with the window and gives its journal's lock back
    assert s.lock is None and not held.held
    InstanceLock(paper.journal_path()).acquire().release()
