"""In-memory keyring backend for tests (select with PYTHON_KEYRING_BACKEND or keyring.set_keyring)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

# Shared by every instance, so a backend loaded from PYTHON_KEYRING_BACKEND and one a test builds agree.
_STORE: dict[tuple[str, str], str] = {}


class MemoryKeyring(KeyringBackend):
    """Process-local secrets; never written anywhere. `PYTHON_KEYRING_BACKEND=kraken_monitor.testing.memory_keyring.MemoryKeyring`."""

    priority = 1  # type: ignore[assignment] - keyring declares a classproperty; a constant is what it reads

    def get_password(self, service: str, username: str) -> str | None:
        return _STORE.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        _STORE[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del _STORE[(service, username)]
        except KeyError:
            raise PasswordDeleteError(f"no password for {service}/{username}") from None

    @staticmethod
    def clear() -> None:
        _STORE.clear()
