"""API URL validation: https anywhere, http only to loopback; every refusal is one typed line."""

import re

import pytest

from kraken_monitor.exchange.urls import DEFAULT_API_URL, InvalidApiUrl, is_default_api_url, validate_api_url


@pytest.mark.parametrize(("text", "expected"), [
    ("", DEFAULT_API_URL),
    (None, DEFAULT_API_URL),
    ("https://api.kraken.com/", "https://api.kraken.com"),
    ("  HTTPS://Proxy.Example.org:8443/kraken/ ", "https://proxy.example.org:8443/kraken"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://127.8.9.10", "http://127.8.9.10"),
    ("http://localhost:9000/", "http://localhost:9000"),
    ("http://[::1]:9000", "http://[::1]:9000"),
])
def test_accepted(text, expected):
    assert validate_api_url(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("http://api.kraken.com", "plain http"),
    ("http://192.168.1.10:8080", "plain http"),
    ("http://127.0.0.1.evil.example", "plain http"),
    ("http://localhost.evil.example", "plain http"),
    ("ftp://127.0.0.1", "not an http(s) URL"),
    ("api.kraken.com", "not an http(s) URL"),
    ("https://", "not an http(s) URL"),
    ("https://user:pw@api.kraken.com", "user name or password"),
    ("https://api.kraken.com/?x=1", "query or fragment"),
    ("https://api.kraken.com/#frag", "query or fragment"),
    ("https://api.kraken.com:99999", "not a valid URL"),
    ("https://api.kraken.com/\x1b[31m", "control characters"),
    ("https://api kraken.com", "spaces"),
])
def test_refused_with_one_line(text, why):
    with pytest.raises(InvalidApiUrl, match=re.escape(why)) as info:
        validate_api_url(text)
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message
    assert "pw" not in message  # a password in the URL is never echoed


def test_default_detection():
    assert is_default_api_url(None) and is_default_api_url("https://api.kraken.com/")
    assert not is_default_api_url("http://127.0.0.1:8080")
