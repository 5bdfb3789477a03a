"""Checks for the Settings text fields (API URL, account currency, watch pairs): a value or the reason it is refused."""

from __future__ import annotations

import re

from kraken_monitor.exchange.urls import InvalidApiUrl, is_default_api_url, validate_api_url

# Kraken asset codes are short upper-case letters and digits (USD, EUR, XBT, USDT, 1INCH).
_ASSET = re.compile(r"^[A-Z0-9]{2,10}$")
_PAIR = re.compile(r"^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}$")


def check_api_url(text: str) -> tuple[str | None, str]:
    """(url, "") with None for Kraken's own API, or (None, reason): exchange/urls.py decides what is accepted."""
    try:
        url = validate_api_url(text)
    except InvalidApiUrl as err:
        return None, str(err)
    return (None if is_default_api_url(url) else url), ""


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
