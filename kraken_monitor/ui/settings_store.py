"""Typed QSettings load/save of MonitorConfig: fields and defaults come from the dataclass (never secrets)."""

from __future__ import annotations

import dataclasses
import logging
import os
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from kraken_monitor.config import THEMES, MonitorConfig, parse_decimal_setting
from kraken_monitor.domain.alerts import AlertThresholds

log = logging.getLogger(__name__)

ORGANIZATION = "kraken-monitor"
APPLICATION = "kraken-monitor"
THRESHOLDS_GROUP = "thresholds"
# Never persisted: secrets live in the OS keyring. MonitorConfig holds none today; this guards the future.
_FORBIDDEN = ("key", "secret", "password", "token")
# Per-launch options (command line only): saving them would replay e.g. a demo crash on every start.
# `session_only` itself names the fields a command-line flag set for this run (see save_config).
_SESSION_ONLY = ("demo_scenario", "session_only", "prices", "ws_url", "futures_ws_url",
                 "futures_api_url")  # prices, ws_url: flags only (issue 17)


def open_settings(path: Path | None = None) -> QSettings:
    """The app's settings (native location) or an INI file at `path` (tests, portable use)."""
    if path is not None:
        settings = QSettings(str(path), QSettings.Format.IniFormat)
    else:
        settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)
    _make_private(settings)  # a file written by an older version may still be 0644
    return settings


def _make_private(settings: QSettings) -> None:
    """Settings name the API URL, pairs and thresholds: owner-only (0600), like the journal and the log."""
    try:
        os.chmod(settings.fileName(), 0o600)
    except OSError:  # not written yet (created on the first sync), or not a file (native registry)
        pass


def _persisted_fields(cls: type) -> list[dataclasses.Field]:
    return [
        f
        for f in dataclasses.fields(cls)
        if f.name != "thresholds"
        and f.name not in _SESSION_ONLY
        and not any(word in f.name.lower() for word in _FORBIDDEN)
    ]


def _to_text(value: Any) -> str:
    """Everything is stored as text: QSettings' own typing differs between INI and native backends."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def _from_text(text: Any, default: Any, name: str) -> Any:
    """Parse with the default's type; a bad stored value falls back to the default (never a crash)."""
    if text is None:
        return default
    text = str(text).strip()
    try:
        if isinstance(default, bool):
            if text.lower() in ("true", "1", "yes", "on"):
                return True
            if text.lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError(text)
        if isinstance(default, Enum):  # mode, venue: the stored value must name a member
            return type(default)(text.lower())
        if isinstance(default, Decimal):
            return parse_decimal_setting(text, default)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")) or value <= 0:
                raise ValueError(text)
            return value
        if isinstance(default, tuple):
            return tuple(part.strip() for part in text.split(",") if part.strip())
        if name == "db_path":
            return Path(text) if text else None
        if default is None:
            return text or None
        return text
    except (TypeError, ValueError):
        log.warning("setting %s has an invalid stored value; using the default", name)
        return default


def load_config(settings: QSettings | None = None, base: MonitorConfig | None = None) -> MonitorConfig:
    """MonitorConfig from settings, each missing or invalid field taking the dataclass default."""
    settings = settings or open_settings()
    base = base or MonitorConfig()
    values: dict[str, Any] = {}
    for f in _persisted_fields(MonitorConfig):
        values[f.name] = _from_text(settings.value(f.name), getattr(base, f.name), f.name)
    if values.get("theme") not in THEMES:
        values["theme"] = base.theme
    thresholds: dict[str, Any] = {}
    settings.beginGroup(THRESHOLDS_GROUP)
    for f in _persisted_fields(AlertThresholds):
        thresholds[f.name] = _from_text(settings.value(f.name), getattr(base.thresholds, f.name), f.name)
    settings.endGroup()
    return dataclasses.replace(base, **values, thresholds=AlertThresholds(**thresholds))


def save_config(config: MonitorConfig, settings: QSettings | None = None) -> None:
    """Write every persisted field as text and flush to disk; fields a flag set this run keep their stored value."""
    settings = settings or open_settings()
    for f in _persisted_fields(MonitorConfig):
        if f.name in config.session_only:
            continue
        settings.setValue(f.name, _to_text(getattr(config, f.name)))
    settings.beginGroup(THRESHOLDS_GROUP)
    for f in _persisted_fields(AlertThresholds):
        settings.setValue(f.name, _to_text(getattr(config.thresholds, f.name)))
    settings.endGroup()
    settings.sync()
    _make_private(settings)


def defaults() -> MonitorConfig:
    """The declared defaults (what "Restore defaults" shows)."""
    return MonitorConfig()
