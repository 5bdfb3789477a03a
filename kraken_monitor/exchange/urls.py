"""The Kraken API base URL a user may configure: https anywhere, plain http only to this machine (loopback)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://api.kraken.com"


class InvalidApiUrl(ValueError):
    """The API URL was refused; the message is one line saying why and what is accepted."""


_ACCEPTED = "use https://…, or http:// only to this machine (localhost, 127.0.0.1, ::1)"


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_api_url(text: str | None) -> str:
    """The normalised base URL (no trailing slash), or InvalidApiUrl. Empty means Kraken's own API.

    Plain http would send API-Key and API-Sign, and return balances, in clear text: only a server on this
    machine (a test server, a local proxy) may be reached that way. User names/passwords in the URL, query
    strings and fragments are refused: the URL is saved in the settings file and shown in the title bar.
    """
    raw = (text or "").strip()
    if not raw:
        return DEFAULT_API_URL
    shown = raw if raw.isprintable() and len(raw) <= 80 else repr(raw[:80])
    if not raw.isprintable() or any(ch.isspace() for ch in raw):
        raise InvalidApiUrl(f"API URL {shown} contains spaces or control characters; {_ACCEPTED}.")
    try:
        parts = urlsplit(raw)
        host, port = parts.hostname or "", parts.port  # .port raises ValueError when out of range
    except ValueError:
        raise InvalidApiUrl(f"API URL {shown} is not a valid URL; {_ACCEPTED}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise InvalidApiUrl(f"API URL {shown} is not an http(s) URL with a host; {_ACCEPTED}.")
    if parts.username is not None or parts.password is not None:
        raise InvalidApiUrl(f"API URL {shown.split('@')[-1]} must not contain a user name or password.")
    if parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise InvalidApiUrl(f"API URL {shown} must not have a query or fragment; {_ACCEPTED}.")
    if scheme == "http" and not is_loopback_host(host):
        raise InvalidApiUrl(f"API URL {shown} uses plain http to another machine (keys and balances would "
                            f"travel unencrypted); {_ACCEPTED}.")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc.lower()}{parts.path.rstrip('/')}"


def is_default_api_url(url: str | None) -> bool:
    """True for no override or Kraken's own API (the window shows any other URL in its title)."""
    return not url or url.rstrip("/").lower() == DEFAULT_API_URL


_WS_ACCEPTED = "use wss://…, or ws:// only to this machine (localhost, 127.0.0.1, ::1)"


def validate_ws_url(text: str | None) -> str | None:
    """The WebSocket v2 URL as given (trimmed), None for Kraken's own, or InvalidApiUrl.

    Plain ws:// would carry the private channels' token in clear text: only a server on this machine
    (a test server, a local proxy) may be reached that way, as for the REST URL.
    """
    raw = (text or "").strip()
    if not raw:
        return None
    shown = raw if raw.isprintable() and len(raw) <= 80 else repr(raw[:80])
    if not raw.isprintable() or any(ch.isspace() for ch in raw):
        raise InvalidApiUrl(f"WebSocket URL {shown} contains spaces or control characters; {_WS_ACCEPTED}.")
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise InvalidApiUrl(f"WebSocket URL {shown} is not a valid URL; {_WS_ACCEPTED}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("wss", "ws") or not host:
        raise InvalidApiUrl(f"WebSocket URL {shown} is not a ws(s) URL with a host; {_WS_ACCEPTED}.")
    if parts.username is not None or parts.password is not None:
        raise InvalidApiUrl(f"WebSocket URL {shown.split('@')[-1]} must not contain a user name or password.")
    if parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise InvalidApiUrl(f"WebSocket URL {shown} must not have a query or fragment; {_WS_ACCEPTED}.")
    if scheme == "ws" and not is_loopback_host(host):
        raise InvalidApiUrl(f"WebSocket URL {shown} uses plain ws to another machine (the private channels' "
                            f"token would travel unencrypted); {_WS_ACCEPTED}.")
    return raw
