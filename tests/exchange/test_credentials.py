"""Credentials: keyring first, environment second, masked repr, and a clear refusal without a keyring."""

import threading
import time

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.core
import pytest

from kraken_monitor.exchange import credentials as cred
from kraken_monitor.exchange.credentials import (
    Credentials,
    KeyringUnavailable,
    delete_credentials,
    keyring_status,
    load_credentials,
    save_credentials,
)
from kraken_monitor.testing.memory_keyring import MemoryKeyring

KEY, SECRET = "AbCdEfGhIjKlMnOpQrStUvWx", "c2VjcmV0LXNlY3JldC1zZWNyZXQ="


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_repr_and_str_are_masked():
    c = Credentials(KEY, SECRET)
    for text in (repr(c), str(c), f"{c}", repr([c])):
        assert KEY not in text and SECRET not in text
    assert "AbCd" in repr(c)


def test_save_load_delete_roundtrip(memory_keyring, monkeypatch):
    assert keyring_status() == "ok"
    assert load_credentials() is None
    save_credentials(Credentials(KEY, SECRET))
    assert keyring.get_password(cred.SERVICE, "api_key") == KEY
    monkeypatch.setenv("KRAKEN_API_KEY", "ENVKEY-000000000")
    monkeypatch.setenv("KRAKEN_API_SECRET", "ZW52")
    assert load_credentials() == Credentials(KEY, SECRET)  # keyring wins over the environment
    delete_credentials()
    delete_credentials()  # deleting twice is fine
    assert load_credentials() == Credentials("ENVKEY-000000000", "ZW52")


def test_environment_needs_both_parts(memory_keyring, monkeypatch):
    monkeypatch.setenv("KRAKEN_API_KEY", "ENVKEY-000000000")
    monkeypatch.delenv("KRAKEN_API_SECRET", raising=False)
    assert load_credentials() is None


def test_no_keyring_explains_and_never_falls_back_to_a_file(no_keyring, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    status = keyring_status()
    assert status != "ok" and "KRAKEN_API_KEY" in status and "Secret Service" in status
    with pytest.raises(KeyringUnavailable):
        save_credentials(Credentials(KEY, SECRET))
    with pytest.raises(KeyringUnavailable):
        delete_credentials()
    assert list(tmp_path.iterdir()) == []
    assert load_credentials() is None
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    assert load_credentials() == Credentials(KEY, SECRET)  # environment still works


def test_memory_backend_selectable_by_environment(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "kraken_monitor.testing.memory_keyring.MemoryKeyring")
    assert isinstance(keyring.core.load_env(), MemoryKeyring)


class _HangingKeyring(keyring.backend.KeyringBackend):
    """A Secret Service whose D-Bus never answers (the OS keyring is the edge of the machine: faked here)."""

    priority = 1
    release = threading.Event()

    def get_password(self, service, username):
        self.release.wait(30)
        return None

    def set_password(self, service, username, password):
        self.release.wait(30)

    def delete_password(self, service, username):
        self.release.wait(30)


class _DBusError(Exception):
    """What jeepney/secretstorage raise when the bus is gone (not a keyring.errors class)."""


class _BrokenBusKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        raise _DBusError("org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable")

    def set_password(self, service, username, password):
        raise _DBusError("org.freedesktop.DBus.Error.NoReply")

    def delete_password(self, service, username):
        raise _DBusError("org.freedesktop.DBus.Error.NoReply")


@pytest.fixture
def backend_is(monkeypatch):
    previous = keyring.get_keyring()
    _HangingKeyring.release = threading.Event()
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)

    def use(backend):
        keyring.set_keyring(backend)

    yield use
    _HangingKeyring.release.set()
    keyring.set_keyring(previous)


@pytest.mark.parametrize("failure", ["hangs", "dbus_error", "no_backend"])
def test_keyring_failure_falls_back_to_the_environment_with_one_notice(backend_is, monkeypatch, failure):
    backend_is({"hangs": _HangingKeyring, "dbus_error": _BrokenBusKeyring,
                "no_backend": keyring.backends.fail.Keyring}[failure]())
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    notices = []
    start = time.monotonic()
    assert load_credentials(notice=notices.append, timeout_s=0.5) == Credentials(KEY, SECRET)
    assert time.monotonic() - start < 3  # a hung keyring costs its deadline, not forever
    assert len(notices) == 1 and "\n" not in notices[0]
    assert "KRAKEN_API_KEY" in notices[0] and KEY not in notices[0] and SECRET not in notices[0]
    if failure == "hangs":
        assert "did not answer within 0.5 s" in notices[0]
    if failure == "dbus_error":
        assert "_DBusError" in notices[0]


def test_keyring_failure_without_environment_is_no_credentials(backend_is, monkeypatch):
    backend_is(_BrokenBusKeyring())
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    notices = []
    assert load_credentials(notice=notices.append, timeout_s=0.5) is None  # the caller says "no key found"
    assert notices == []


def test_broken_keyring_save_and_status_are_typed_never_raw(backend_is):
    backend_is(_BrokenBusKeyring())
    with pytest.raises(KeyringUnavailable, match="_DBusError"):
        save_credentials(Credentials(KEY, SECRET))
    with pytest.raises(KeyringUnavailable, match="_DBusError"):
        delete_credentials()


def test_hung_keyring_status_answers_within_its_deadline(backend_is, monkeypatch):
    monkeypatch.setattr(cred, "KEYRING_TIMEOUT_S", 0.3)

    def hang():
        _HangingKeyring.release.wait(30)

    monkeypatch.setattr(cred, "_backend", hang)
    start = time.monotonic()
    assert "did not answer within 0.3 s" in keyring_status()
    with pytest.raises(KeyringUnavailable, match="did not answer"):
        save_credentials(Credentials(KEY, SECRET))
    assert time.monotonic() - start < 3


def test_a_secret_that_is_not_base64_is_refused_before_any_request_without_repeating_it():
    from kraken_monitor.exchange.errors import AuthFailed
    from kraken_monitor.exchange.kraken import KrakenExchange
    from kraken_monitor.exchange.kraken_futures import KrakenFuturesExchange

    pasted_wrong = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="[:-3] + "!x"
    assert Credentials("key", "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==") \
        .secret_is_base64()  # Kraken's published example secret
    assert not Credentials("key", pasted_wrong).secret_is_base64()
    for client, words in ((KrakenExchange, "The API secret"), (KrakenFuturesExchange, "The futures API secret")):
        with pytest.raises(AuthFailed, match=f"{words} is not valid base64") as raised:
            client("http://127.0.0.1:9", Credentials("key", pasted_wrong))  # port 9: nothing listens, nothing sent
        assert pasted_wrong not in str(raised.value)
