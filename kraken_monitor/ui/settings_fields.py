"""Checks for the Settings text fields (API URL, account currency, watch pairs): a value or the reason it is refused."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# Kraken asset codes are short upper-case letters and digits (USD, EUR, XBT, USDT, 1INCH).
_ASSET = re.compile(r"^[A-Z0-9]{2,10}$")
_PAIR = re.compile(r"^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}$")
_LOOPBACK_NAMES = ("localhost",)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_url(text: str) -> tuple[str | None, str]:
    """(url or None for Kraken's default, "") or (None, reason): https://, or http:// only to this machine.

    Plain http to another host would send the signed account requests (API key included) in clear text.
    """
    raw = (text or "").strip()
    if not raw:
        return None, ""
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None, f"API URL {raw!r} is not a valid URL."
    if parts.scheme not in ("https", "http") or not host:
        return None, "API URL must start with https:// (or http:// to this machine) and name a host."
    if parts.username or parts.password:
        return None, "API URL must not contain a user name or password."
    if parts.query or parts.fragment:
        return None, "API URL must not contain a query (?...) or fragment (#...)."
    if parts.scheme == "http" and not _is_loopback(host):
        return None, "Plain http:// is allowed only to this machine (127.0.0.1, ::1, localhost); use https://."
    return raw.rstrip("/"), ""


def check_currency(text: str) -> tuple[str | None, str]:
    """(asset code upper-cased, "") or (None, reason)."""
    code = (text or "").strip().upper()
    if not _ASSET.match(code):
        return None, "Account currency: a Kraken asset code such as USD, EUR, GBP or XBT."
    return code, ""


def check_watch_pairs(text: str) -> tuple[tuple[str, ...] | None, str]:
    """Comma-separated BASE/QUOTE pairs, upper-cased and de-duplicated in order, or (None, reason)."""
    pairs: list[str] = []
    for part in (text or "").split(","):
        pair = part.strip().upper()
        if not pair:
            continue
        if not _PAIR.match(pair):
            return None, f"Watch pairs: {part.strip()!r} is not a pair such as BTC/USD (comma-separated)."
        if pair not in pairs:
            pairs.append(pair)
    return tuple(pairs), ""
