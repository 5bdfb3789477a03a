"""Moved to `kraken_monitor.paths` (below every layer that reads it); kept importable for one release."""

from kraken_monitor.paths import (
    APP_NAME,
    DB_FILENAME,
    HOME_ENV,
    LOG_FILENAME,
    data_dir,
    default_db_path,
    log_path,
)

__all__ = ["APP_NAME", "DB_FILENAME", "HOME_ENV", "LOG_FILENAME", "data_dir", "default_db_path", "log_path"]
