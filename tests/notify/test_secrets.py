"""Channel URLs live in the keyring only; a keyring that cannot keep secrets refuses, naming no URL."""

import pytest

from kraken_monitor.notify import secrets

URL = "tgram://123456789:AAHsecret-bot-token/987654321"


def test_a_url_round_trips_through_the_keyring_and_is_deleted(memory_keyring):
    secrets.save_url("ch-phone", URL)
    assert secrets.load_url("ch-phone") == URL
    secrets.delete_url("ch-phone")
    assert secrets.load_url("ch-phone") is None
    secrets.delete_url("ch-phone")  # deleting a missing entry is fine


def test_the_url_and_its_token_parts_are_redacted():
    secrets.remember(URL)
    text = secrets.redact(f"posting to {URL} and again to 123456789:AAHsecret-bot-token")
    assert "AAHsecret-bot-token" not in text and text.count("<redacted>") == 2


def test_no_keyring_refuses_without_the_url():
    import keyring
    from keyring.backends.null import Keyring as NullKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(NullKeyring())  # the user's "no keyring" choice, as the test command sets it
    try:
        with pytest.raises(secrets.SecretStoreUnavailable) as err:
            secrets.save_url("ch-phone", URL)
    finally:
        keyring.set_keyring(previous)
    assert "AAHsecret" not in str(err.value) and "--notify" in str(err.value)
