"""Where the app keeps its files: the data directory, the default journal and the log file."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "kraken-monitor"
DB_FILENAME = "kraken-monitor-{mode}.sqlite3"
LOG_FILENAME = "kraken-monitor.log"
HOME_ENV = "KRAKEN_MONITOR_HOME"


def data_dir(create: bool = True) -> Path:
    """`$KRAKEN_MONITOR_HOME` if set, else the platform's user data dir; created private (0700)."""
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        path = Path(override).expanduser()
    else:
        # Imported here so `kraken-monitor --version` does not pay for it.
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME, appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def default_db_path(mode: str = "demo") -> Path:
    """One journal per mode: demo/paper/live prices and paper accounts never share history."""
    return data_dir() / DB_FILENAME.format(mode=mode)


def log_path() -> Path:
    return data_dir() / LOG_FILENAME
