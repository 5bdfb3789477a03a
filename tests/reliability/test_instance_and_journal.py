"""One instance per journal (real processes, the OS lock) and journal health (visible, never a traceback)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import API_KEY, API_SECRET

from kraken_monitor.storage.instance_lock import InstanceLock, JournalInUse, holder, lock_path

ROOT = Path(__file__).resolve().parents[2]
CASES = {"tried": 0, "held": 0}


def _env(home: Path, **extra: str) -> dict:
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.update(extra)
    return env


def _cli(args, home: Path, timeout: float = 90, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kraken_monitor", *args], capture_output=True, text=True,
                          timeout=timeout, env=_env(home, **extra), cwd=ROOT)


def _count(held: bool = True) -> None:
    CASES["tried"] += 1
    CASES["held"] += int(held)


def test_lock_names_the_holder_and_goes_with_the_descriptor(tmp_path):
    journal = tmp_path / "j.sqlite3"
    with InstanceLock(journal) as lock:
        assert lock.held and lock_path(journal).read_text().strip() == str(os.getpid())
        with pytest.raises(JournalInUse) as info:
            InstanceLock(journal).acquire()
        assert str(info.value) == f"another kraken-monitor (pid {os.getpid()}) is using {journal}"
        assert holder(journal) == os.getpid()
    assert holder(journal) is None  # released: free again
    _count()


def test_second_watch_gui_and_snapshot_on_one_journal(tmp_path):
    journal = tmp_path / "shared.sqlite3"
    first = subprocess.Popen([sys.executable, "-m", "kraken_monitor", "watch", "--db", str(journal), "--json",
                              "--duration", "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=_env(tmp_path), cwd=ROOT)
    try:
        first.stdout.readline()  # the first line: it is running and holds the lock
        line = f"another kraken-monitor (pid {first.pid}) is using {journal}\n"
        second = _cli(["watch", "--db", str(journal), "--json", "--duration", "5"], tmp_path)
        assert (second.returncode, second.stderr, second.stdout) == (2, line, "")
        _count()
        gui = _cli(["--db", str(journal), "--exit-after", "5"], tmp_path)
        assert (gui.returncode, gui.stderr) == (2, line)
        _count()
        snap = _cli(["snapshot", "--db", str(journal), "--json"], tmp_path)
        assert snap.returncode == 0, snap.stderr
        assert json.loads(snap.stdout)["positions"]  # the figures, read from the running app's paper account
        assert snap.stderr == (f"kraken-monitor: another kraken-monitor (pid {first.pid}) is using {journal}: "
                               "this snapshot is not journaled\n")
        _count()
    finally:
        first.send_signal(signal.SIGKILL)  # however it ends, the OS drops its lock
        first.wait(timeout=30)
    after = _cli(["watch", "--db", str(journal), "--json", "--duration", "3"], tmp_path)
    assert after.returncode == 0, after.stderr
    _count()


def test_watch_reports_a_journal_that_cannot_be_opened_and_keeps_monitoring(tmp_path):
    not_a_file = tmp_path / "journal-dir"
    not_a_file.mkdir()
    result = _cli(["watch", "--db", str(not_a_file), "--json", "--duration", "6"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    journal = [x for x in lines if x["type"] == "journal"]
    assert journal and journal[0]["recording"] is False and journal[0]["reason"].startswith("not recording: ")
    assert any(x["type"] == "snapshot" and x["stale"] is False for x in lines)  # monitoring goes on
    assert "Traceback" not in result.stderr
    _count()


def test_damaged_journal_fails_quick_check_and_says_so(tmp_path):
    from kraken_monitor.storage.journal import Journal, JournalError

    path = tmp_path / "j.sqlite3"
    Journal.open(path).close()
    data = bytearray(path.read_bytes())
    for page in range(1, len(data) // 4096):  # every b-tree page header after the first overwritten
        data[page * 4096: page * 4096 + 100] = b"\xff" * 100
    path.write_bytes(bytes(data))
    with pytest.raises(JournalError) as info:
        Journal.open(path)
    assert "journal" in str(info.value)
    _count()


def test_live_snapshot_prints_the_figures_when_only_the_journal_fails(live_server, tmp_path):
    not_a_file = tmp_path / "journal-dir"
    not_a_file.mkdir()
    result = _cli(["snapshot", "--mode", "live", "--api-url", live_server.url, "--db", str(not_a_file), "--json"],
                  tmp_path, KRAKEN_API_KEY=API_KEY, KRAKEN_API_SECRET=API_SECRET)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["account"]["trade_balance"] == "10000"
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("kraken-monitor: not recording: ")
    _count()


def test_disk_full_log_never_prints_a_traceback(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this platform: it is how a full disk is made here")
    (tmp_path / "kraken-monitor.log").symlink_to("/dev/full")  # every log write: ENOSPC
    result = _cli(["snapshot", "--json"], tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout)["positions"]
    assert "Traceback" not in result.stderr and "Logging error" not in result.stderr
    _count()


def test_worker_journal_write_failure_shows_in_the_window_and_recovers_nothing_silently(tmp_path, qtbot):
    from kraken_monitor.config import MonitorConfig
    from kraken_monitor.storage.journal import Journal
    from kraken_monitor.ui.main_window import MainWindow
    from kraken_monitor.ui.session import MonitorSession
    from kraken_monitor.worker.runner import MonitorThread

    def full_disk_journal(config):
        """The real journal with SQLite's page limit at its current size: the next growing write is SQLITE_FULL."""
        journal = Journal.open(config.journal_path())
        pages = journal.conn.execute("PRAGMA page_count").fetchone()[0]
        journal.conn.execute(f"PRAGMA max_page_count={pages}")
        return journal

    config = MonitorConfig(mode="demo", db_path=tmp_path / "j.sqlite3", price_interval_s=0.2, account_interval_s=0.4)
    window = MainWindow("demo")
    qtbot.addWidget(window)
    monitor = MonitorThread(config, journal_factory=full_disk_journal)
    session = MonitorSession(window, config)
    session.attach(monitor)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: "not recording" in window.status.journal_text(), timeout=20_000)
        assert "full" in window.status.journal_text()
        qtbot.wait(1500)  # persistent: still shown after more (failing) cycles, while prices stay fresh
        assert "not recording" in window.status.journal_text() and not window.snapshot().stale
    finally:
        session.detach()
        assert monitor.stop(timeout_ms=10_000)
    _count()


def test_print_instance_and_journal_figures():
    print(f"\ninstance/journal cases: {CASES['tried']} tried, {CASES['held']} held")
    assert CASES["tried"] == CASES["held"]
