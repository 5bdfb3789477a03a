"""Credentials: keyring first, environment second, masked repr, and a clear refusal without a keyring."""

import keyring
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
