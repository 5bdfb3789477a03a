"""Kraken API credentials: OS keyring first, then KRAKEN_API_KEY/KRAKEN_API_SECRET; never a file."""

from __future__ import annotations

import os
from dataclasses import dataclass

SERVICE = "kraken-monitor"
_KEY_USER = "api_key"
_SECRET_USER = "api_secret"
ENV_KEY = "KRAKEN_API_KEY"
ENV_SECRET = "KRAKEN_API_SECRET"

_NO_BACKEND = (
    "No OS keyring is available (on Linux this needs a Secret Service such as gnome-keyring in a D-Bus "
    "session). Credentials can still be supplied through the KRAKEN_API_KEY and KRAKEN_API_SECRET "
    "environment variables; they are never stored in a file."
)


# Every key/secret this process has handled, so the log filter can scrub them wherever they came from.
_IN_USE: set[str] = set()


def secrets_in_use() -> frozenset[str]:
    """Key and secret strings loaded or saved by this process (for log redaction only)."""
    return frozenset(_IN_USE)


def _remember(credentials: Credentials | None) -> Credentials | None:
    if credentials is not None:
        _IN_USE.update(v for v in (credentials.key, credentials.secret) if len(v) >= 8)
    return credentials


class KeyringUnavailable(Exception):
    """No usable OS keyring backend; the message says what to do instead."""


@dataclass(frozen=True)
class Credentials:
    """An API key pair; repr/str are masked so it can never leak through logging or tracebacks."""

    key: str
    secret: str

    def __repr__(self) -> str:
        return f"Credentials(key={mask(self.key)}, secret=***)"

    __str__ = __repr__


def mask(key: str) -> str:
    """'abcd…wxyz'-style hint of a key, enough to recognise it, never enough to use it."""
    return "***" if len(key) < 12 else f"{key[:4]}…{key[-4:]}"


def _backend():  # noqa: ANN202 - keyring backend object
    """The active keyring backend, or KeyringUnavailable if it cannot store secrets safely."""
    import keyring  # lazy: importing keyring probes backends, which is slow at start-up

    backend = keyring.get_keyring()
    module = type(backend).__module__
    if module.startswith("keyring.backends.fail") or module.startswith("keyring.backends.null"):
        raise KeyringUnavailable(_NO_BACKEND)
    if module.startswith("keyrings.alt"):
        # keyrings.alt stores secrets in plain or weakly encrypted files: refuse rather than silently use it.
        raise KeyringUnavailable(
            f"The keyring backend {type(backend).__name__} stores secrets in a file; refusing to use it. "
            "Uninstall keyrings.alt or use the KRAKEN_API_KEY/KRAKEN_API_SECRET environment variables."
        )
    return backend


def _from_env() -> Credentials | None:
    key, secret = os.environ.get(ENV_KEY, "").strip(), os.environ.get(ENV_SECRET, "").strip()
    return Credentials(key, secret) if key and secret else None


def load_credentials() -> Credentials | None:
    """Keyring (service 'kraken-monitor') first, then the environment; None if neither has both parts."""
    from keyring.errors import KeyringError

    try:
        backend = _backend()
        key = backend.get_password(SERVICE, _KEY_USER)
        secret = backend.get_password(SERVICE, _SECRET_USER)
    except (KeyringUnavailable, KeyringError):
        key = secret = None
    if key and secret:
        return _remember(Credentials(key, secret))
    return _remember(_from_env())


def save_credentials(credentials: Credentials) -> None:
    """Store both parts in the OS keyring; raises KeyringUnavailable (never falls back to a file)."""
    from keyring.errors import KeyringError, NoKeyringError

    _remember(credentials)
    backend = _backend()
    try:
        backend.set_password(SERVICE, _KEY_USER, credentials.key)
        backend.set_password(SERVICE, _SECRET_USER, credentials.secret)
    except NoKeyringError:
        raise KeyringUnavailable(_NO_BACKEND) from None
    except KeyringError as err:
        raise KeyringUnavailable(f"The OS keyring refused to store the credentials ({type(err).__name__}).") from None


def delete_credentials() -> None:
    """Remove both parts from the keyring (missing entries are fine); raises KeyringUnavailable."""
    from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

    backend = _backend()
    for user in (_KEY_USER, _SECRET_USER):
        try:
            backend.delete_password(SERVICE, user)
        except PasswordDeleteError:
            pass
        except NoKeyringError:
            raise KeyringUnavailable(_NO_BACKEND) from None
        except KeyringError as err:
            raise KeyringUnavailable(f"The OS keyring refused to delete the credentials ({type(err).__name__}).") from None


def keyring_status() -> str:
    """'ok' when credentials can be stored in the OS keyring, otherwise a sentence saying why not."""
    try:
        _backend()
    except KeyringUnavailable as err:
        return str(err)
    return "ok"
