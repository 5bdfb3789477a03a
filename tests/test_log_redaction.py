"""The log file's filter scrubs API keys and secrets that came from the keyring, not only from the environment."""

import logging

from kraken_monitor.cli import _RedactSecrets
from kraken_monitor.exchange.credentials import Credentials, load_credentials, save_credentials

KEY = "KEYRING-ONLY-API-KEY-1234567890"
SECRET = "a2V5cmluZy1vbmx5LXNlY3JldC1ieXRlcy0xMjM0NTY3ODkw"


def _format(record: logging.LogRecord) -> str:
    assert _RedactSecrets().filter(record) is True  # redaction never drops a line
    return record.getMessage()


def test_a_keyring_secret_in_a_library_log_line_is_redacted(memory_keyring, monkeypatch):
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_API_SECRET", raising=False)
    save_credentials(Credentials(KEY, SECRET))
    assert load_credentials() == Credentials(KEY, SECRET)
    record = logging.LogRecord("ccxt", logging.DEBUG, __file__, 1, "headers %s / %s", (KEY, SECRET), None)
    text = _format(record)
    assert KEY not in text and SECRET not in text
    assert text == "headers <redacted> / <redacted>"


def test_lines_without_secrets_keep_their_arguments(memory_keyring):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "margin level %s%%", ("81.2",), None)
    assert _format(record) == "margin level 81.2%"
    assert record.args == ("81.2",)  # untouched: only lines that hold a secret are rewritten
