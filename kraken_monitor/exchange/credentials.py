"""Kraken API credentials per venue: OS keyring first, then KRAKEN_[FUTURES_]API_KEY/_SECRET; never a file."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICE = "kraken-monitor"
_KEY_USER = "api_key"
_SECRET_USER = "api_secret"
ENV_KEY = "KRAKEN_API_KEY"
ENV_SECRET = "KRAKEN_API_SECRET"
# Kraken Futures keys are separate keys (created on futures.kraken.com): their own keyring entries and variables.
SPOT, FUTURES = "spot", "futures"
_USERS = {SPOT: (_KEY_USER, _SECRET_USER), FUTURES: ("futures_api_key", "futures_api_secret")}
_ENV = {SPOT: (ENV_KEY, ENV_SECRET), FUTURES: ("KRAKEN_FUTURES_API_KEY", "KRAKEN_FUTURES_API_SECRET")}
# A Secret Service that never answers (a stuck D-Bus, a locked collection waiting for a prompt nobody sees)
# must not stop monitoring: every keyring call gets this long, in a daemon thread, then counts as failed.
KEYRING_TIMEOUT_S = 5.0

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


def with_deadline(fn: Callable[[], T], timeout_s: float, what: str,
                  unavailable: type[Exception] = KeyringUnavailable, thread_name: str = "keyring") -> T:
    """fn() in a daemon thread; `unavailable` if it has not returned within timeout_s (it is abandoned).

    A keyring (D-Bus Secret Service) that never answers must not hang the caller: the API key's lookup and
    the notification channels' (notify/secrets.py) both go through here."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=thread_name, daemon=True).start()
    if not done.wait(timeout_s):
        raise unavailable(f"The OS keyring did not answer within {timeout_s:g} s ({what}).")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _stderr_notice(message: str) -> None:
    log.warning("%s", message)
    try:
        sys.stderr.write(f"kraken-monitor: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # no console (GUI bundle) or closed stream
        pass


@dataclass(frozen=True)
class Credentials:
    """An API key pair; repr/str are masked so it can never leak through logging or tracebacks."""

    key: str
    secret: str

    def __repr__(self) -> str:
        return f"Credentials(key={mask(self.key)}, secret=***)"

    __str__ = __repr__

    def secret_is_base64(self) -> bool:
        """Kraken's secrets (spot and futures) are base64; anything else was pasted wrong, and ccxt would fail
        deep inside its signing with an error that could quote it."""
        try:
            base64.b64decode(self.secret, validate=True)
        except (binascii.Error, ValueError):
            return False
        return True


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


def _from_env(venue: str = SPOT) -> Credentials | None:
    env_key, env_secret = _ENV[venue]
    key, secret = os.environ.get(env_key, "").strip(), os.environ.get(env_secret, "").strip()
    return Credentials(key, secret) if key and secret else None


def _read_keyring(venue: str = SPOT) -> tuple[str | None, str | None]:
    backend = _backend()
    key_user, secret_user = _USERS[venue]
    return backend.get_password(SERVICE, key_user), backend.get_password(SERVICE, secret_user)


def _explicitly_disabled() -> bool:
    """PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring: the user chose "no keyring"; nothing to announce."""
    return "backends.null" in os.environ.get("PYTHON_KEYRING_BACKEND", "")


def load_credentials(notice: Callable[[str], None] = _stderr_notice,
                     timeout_s: float = KEYRING_TIMEOUT_S, *, venue: str = SPOT) -> Credentials | None:
    """Keyring (service 'kraken-monitor') first, then the environment; None if neither has both parts.

    Any keyring failure (no backend, a D-Bus error, a timeout) falls back to KRAKEN_API_KEY/KRAKEN_API_SECRET
    when both are set, and says so in one line through `notice` (stderr and the log by default).
    """
    try:
        key, secret = with_deadline(lambda: _read_keyring(venue), timeout_s, "reading the API key")
    except Exception as exc:  # noqa: BLE001 - secretstorage/jeepney/dbus raise their own classes, not KeyringError
        env = _from_env(venue)
        if env is not None and not _explicitly_disabled():
            reason = " ".join(str(exc).split())[:200] if isinstance(exc, KeyringUnavailable) else type(exc).__name__
            names = "/".join(_ENV[venue])
            notice(f"OS keyring unavailable ({reason}); using {names} from the environment.")
        return _remember(env)
    if key and secret:
        return _remember(Credentials(key, secret))
    return _remember(_from_env(venue))


def save_credentials(credentials: Credentials, *, venue: str = SPOT) -> None:
    """Store both parts in the OS keyring; raises KeyringUnavailable (never falls back to a file)."""
    from keyring.errors import NoKeyringError

    _remember(credentials)

    def store() -> None:
        backend = _backend()
        key_user, secret_user = _USERS[venue]
        backend.set_password(SERVICE, key_user, credentials.key)
        backend.set_password(SERVICE, secret_user, credentials.secret)

    try:
        with_deadline(store, KEYRING_TIMEOUT_S, "storing the API key")
    except KeyringUnavailable:
        raise
    except NoKeyringError:
        raise KeyringUnavailable(_NO_BACKEND) from None
    except Exception as err:  # noqa: BLE001 - KeyringError, or a D-Bus library's own error
        raise KeyringUnavailable(f"The OS keyring refused to store the credentials ({type(err).__name__}).") from None


def delete_credentials(*, venue: str = SPOT) -> None:
    """Remove both parts from the keyring (missing entries are fine); raises KeyringUnavailable."""
    from keyring.errors import NoKeyringError, PasswordDeleteError

    def delete(user: str) -> None:
        _backend().delete_password(SERVICE, user)

    for user in _USERS[venue]:
        try:
            with_deadline(lambda u=user: delete(u), KEYRING_TIMEOUT_S, "deleting the API key")
        except PasswordDeleteError:
            pass
        except KeyringUnavailable:
            raise
        except NoKeyringError:
            raise KeyringUnavailable(_NO_BACKEND) from None
        except Exception as err:  # noqa: BLE001 - KeyringError, or a D-Bus library's own error
            raise KeyringUnavailable(f"The OS keyring refused to delete the credentials ({type(err).__name__}).") from None


def keyring_status() -> str:
    """'ok' when credentials can be stored in the OS keyring, otherwise a sentence saying why not."""
    try:
        with_deadline(_backend, KEYRING_TIMEOUT_S, "looking for a keyring")
    except KeyringUnavailable as err:
        return str(err)
    except Exception as err:  # noqa: BLE001 - a backend that fails while being probed
        return f"The OS keyring failed ({type(err).__name__})."
    return "ok"
