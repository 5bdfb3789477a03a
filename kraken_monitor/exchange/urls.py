"""The Kraken API base URL a user may configure: https anywhere, plain http only to this machine (loopback)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _UrlKind:
    """What one kind of URL accepts: its name in messages, secure and plain scheme, and why plain is local only."""

    name: str
    secure: str
    plain: str
    accepted: str
    exposed: str  # what plain text to another machine would expose


_REST = _UrlKind("API URL", "https", "http", _ACCEPTED, "keys and balances would travel unencrypted")
_WS = _UrlKind("WebSocket URL", "wss", "ws",
               "use wss://…, or ws:// only to this machine (localhost, 127.0.0.1, ::1)",
               "the private channels' token would travel unencrypted")


def _checked(raw: str, kind: _UrlKind):
    """The split URL after the rules both kinds share, or InvalidApiUrl naming the rule (one line)."""
    name, accepted = kind.name, kind.accepted
    shown = raw if raw.isprintable() and len(raw) <= 80 else repr(raw[:80])
    if not raw.isprintable() or any(ch.isspace() for ch in raw):
        raise InvalidApiUrl(f"{name} {shown} contains spaces or control characters; {accepted}.")
    try:
        parts = urlsplit(raw)
        host, port = parts.hostname or "", parts.port  # .port raises ValueError when out of range
    except ValueError:
        raise InvalidApiUrl(f"{name} {shown} is not a valid URL; {accepted}.") from None
    scheme = parts.scheme.lower()
    if scheme not in (kind.secure, kind.plain) or not host:
        article = "an" if kind.plain[0] in "aeiouh" else "a"  # "an http(s) URL", "a ws(s) URL"
        raise InvalidApiUrl(f"{name} {shown} is not {article} {kind.plain}(s) URL with a host; {accepted}.")
    if parts.username is not None or parts.password is not None:
        raise InvalidApiUrl(f"{name} {shown.split('@')[-1]} must not contain a user name or password.")
    if parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise InvalidApiUrl(f"{name} {shown} must not have a query or fragment; {accepted}.")
    if scheme == kind.plain and not is_loopback_host(host):
        raise InvalidApiUrl(f"{name} {shown} uses plain {kind.plain} to another machine ({kind.exposed}); "
                            f"{accepted}.")
    return parts, scheme, host, port


def validate_api_url(text: str | None) -> str:
    """The normalised base URL (no trailing slash), or InvalidApiUrl. Empty means Kraken's own API.

    Plain http would send API-Key and API-Sign, and return balances, in clear text: only a server on this
    machine (a test server, a local proxy) may be reached that way. User names/passwords in the URL, query
    strings and fragments are refused: the URL is saved in the settings file and shown in the title bar.
    """
    raw = (text or "").strip()
    if not raw:
        return DEFAULT_API_URL
    parts, scheme, host, port = _checked(raw, _REST)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc.lower()}{parts.path.rstrip('/')}"


def is_default_api_url(url: str | None) -> bool:
    """True for no override or Kraken's own API (the window shows any other URL in its title)."""
    return not url or url.rstrip("/").lower() == DEFAULT_API_URL


def validate_ws_url(text: str | None) -> str | None:
    """The WebSocket v2 URL as given (trimmed), None for Kraken's own, or InvalidApiUrl.

    Plain ws:// would carry the private channels' token in clear text: only a server on this machine
    (a test server, a local proxy) may be reached that way, as for the REST URL.
    """
    raw = (text or "").strip()
    if not raw:
        return None
    _checked(raw, _WS)
    return raw
