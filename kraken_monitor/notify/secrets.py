"""Channel URLs in the OS keyring (they hold tokens): never in a file, the settings or the log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl, urlsplit

from kraken_monitor.exchange.credentials import with_deadline

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICE = "kraken-monitor-notify"
TIMEOUT_S = 5.0  # a keyring that never answers must not hang the dialog or the watcher
# Every URL (and its token-like parts) this process handled, so the log filter can scrub them.
_IN_USE: set[str] = set()


class SecretStoreUnavailable(Exception):
    """No usable OS keyring; the message says so without naming the URL."""


def url_secrets(url: str) -> set[str]:
    """The URL and every part of it that may be a token (user, password, path segments, query values)."""
    found = {url}
    try:
        parts = urlsplit(url)
        found.update(p for p in (parts.username, parts.password, parts.netloc) if p)
        found.update(seg for seg in parts.path.split("/") if seg)
        found.update(value for _, value in parse_qsl(parts.query) if value)
    except ValueError:
        pass
    return {s for s in found if len(s) >= 6}


def remember(url: str) -> None:
    _IN_USE.update(url_secrets(url))


def secrets_in_use() -> frozenset[str]:
    """For log redaction only."""
    return frozenset(_IN_USE)


def redact(text: str) -> str:
    for secret in sorted(_IN_USE, key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return text


def _backend():  # noqa: ANN202 - keyring backend object
    import keyring

    backend = keyring.get_keyring()
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")):
        raise SecretStoreUnavailable(
            "No OS keyring that keeps secrets safely is available: notification URLs cannot be saved "
            "(use `watch --notify URL` for this run only)."
        )
    return backend


def _call(fn: Callable[[], T], what: str) -> T:
    try:
        return with_deadline(fn, TIMEOUT_S, what, SecretStoreUnavailable, "notify-keyring")
    except SecretStoreUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - a backend's own error; its text could echo the URL
        raise SecretStoreUnavailable(f"The OS keyring failed ({type(exc).__name__}) while {what}.") from None


def save_url(channel_id: str, url: str) -> None:
    remember(url)
    _call(lambda: _backend().set_password(SERVICE, channel_id, url), "saving a notification URL")


def load_url(channel_id: str) -> str | None:
    url = _call(lambda: _backend().get_password(SERVICE, channel_id), "reading a notification URL")
    if url:
        remember(url)
    return url or None


def delete_url(channel_id: str) -> None:
    from keyring.errors import PasswordDeleteError

    def delete() -> None:
        try:
            _backend().delete_password(SERVICE, channel_id)
        except PasswordDeleteError:
            pass

    _call(delete, "deleting a notification URL")
