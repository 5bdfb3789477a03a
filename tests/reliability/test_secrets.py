"""A live session with a known key and secret (keyring, then environment variables) leaves neither anywhere:
not in the journal (-wal included), QSettings, log files, stdout/stderr or any exception text."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from reliability_support import API_KEY, API_SECRET, POSITION_ID, SECRET_BYTES

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.errors import ExchangeError
from kraken_monitor.storage.journal import Journal
from kraken_monitor.worker.cycle import Poller, utc_now

ROOT = Path(__file__).resolve().parents[2]
NEEDLES = (API_KEY.encode(), API_SECRET.encode(), SECRET_BYTES)


def _assert_clean(blob: bytes, where: str) -> None:
    for needle in NEEDLES:
        assert needle not in blob, f"a credential leaked into {where}"


def _scan_dir(directory: Path) -> int:
    scanned = 0
    for path in directory.rglob("*"):
        if path.is_file():
            _assert_clean(path.read_bytes(), str(path))
            scanned += 1
    return scanned


def _session(server, home: Path) -> list[BaseException]:
    """Poll, close, and poll through faults, as the worker would; returns every exception raised."""
    from kraken_monitor.exchange.factory import create_exchange

    config = MonitorConfig(mode="live", api_url=server.url, db_path=home / "kraken-monitor.sqlite3",
                           live_trading_enabled=True)
    journal = Journal.open(config.db_path)
    poller = Poller(config, create_exchange(config), journal)
    raised: list[BaseException] = []
    faults = [None, None, "http500", "malformed", "invalid_key", "invalid_nonce", "empty_with_error", None]
    for i, fault in enumerate(faults):
        if fault:
            server.inject_fault("*", fault, count=1)
        try:
            poller.poll_account(utc_now())
            poller.poll_prices(utc_now())
        except ExchangeError as exc:
            raised.append(exc)
        poller.persist(poller.build_snapshot())
        if i == 1:
            poller.close(POSITION_ID, Decimal("0.25"))
    server.inject_fault("AddOrder", "invalid_key", count=1)
    try:
        poller.close(POSITION_ID, Decimal("0.25"))
    except ExchangeError as exc:
        raised.append(exc)
    poller.flush()
    return raised


def test_keyring_session_leaves_no_secret(server, tmp_path, monkeypatch, capfd):
    import keyring

    from kraken_monitor.cli import configure_logging
    from kraken_monitor.exchange.credentials import Credentials, load_credentials, save_credentials
    from kraken_monitor.testing.memory_keyring import MemoryKeyring
    from kraken_monitor.ui.settings_store import open_settings, save_config

    home = tmp_path / "home"
    monkeypatch.setenv("KRAKEN_MONITOR_HOME", str(home))
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_API_SECRET", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        save_credentials(Credentials(API_KEY, API_SECRET))
        assert load_credentials() == Credentials(API_KEY, API_SECRET)  # read from the keyring, not a file
        configure_logging()  # the app's rotating log file in the data dir
        raised = _session(server, home)
        settings = open_settings(tmp_path / "settings.ini")
        save_config(replace(MonitorConfig(mode="live", api_url=server.url), live_trading_enabled=True), settings)
        settings.sync()
    finally:
        for h in root.handlers[:]:
            if h not in handlers:
                h.close()
                root.removeHandler(h)
        MemoryKeyring.clear()
        keyring.set_keyring(previous)
    assert raised, "the injected faults raised nothing"
    for exc in raised:
        _assert_clean(f"{exc} {exc!r} {exc.args}".encode(), f"exception {type(exc).__name__}")
    out, err = capfd.readouterr()
    _assert_clean((out + err).encode(), "captured output")
    db = home / "kraken-monitor.sqlite3"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert (home / "kraken-monitor.log").exists() and server.requests_to("AddOrder")
    assert _scan_dir(tmp_path) >= 3  # db (+ -wal/-shm if left), log, settings.ini


def test_env_credentials_cli_leaves_no_secret(server, tmp_path):
    home = tmp_path / "home"
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
               KRAKEN_API_KEY=API_KEY, KRAKEN_API_SECRET=API_SECRET, XDG_CONFIG_HOME=str(tmp_path / "config"))
    base = [sys.executable, "-m", "kraken_monitor"]
    runs = [subprocess.run(base + ["snapshot", "--mode", "live", "--api-url", server.url, "--json"],
                           capture_output=True, env=env, cwd=ROOT, timeout=60)]
    server.inject_fault("OpenPositions", "invalid_key", count=None)
    runs.append(subprocess.run(base + ["snapshot", "--mode", "live", "--api-url", server.url],
                               capture_output=True, env=env, cwd=ROOT, timeout=60))
    server.clear_faults()
    server.inject_fault("Ticker", "http500", count=3)
    runs.append(subprocess.run(base + ["watch", "--mode", "live", "--api-url", server.url, "--duration", "2",
                                       "--interval", "0.2", "--json"],
                               capture_output=True, env=env, cwd=ROOT, timeout=60))
    assert runs[0].returncode == 0 and POSITION_ID.encode() in runs[0].stdout
    assert runs[1].returncode != 0 and b"authentication failed" in runs[1].stderr
    for run in runs:
        _assert_clean(run.stdout + run.stderr, "CLI output")
        assert b"Traceback" not in run.stderr
    dbs = list(home.glob("*.sqlite3"))  # the default journal (its name may carry the mode)
    assert dbs and all(stat.S_IMODE(db.stat().st_mode) == 0o600 for db in dbs)
    assert _scan_dir(tmp_path) >= 2
