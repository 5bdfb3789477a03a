"""Kraken's errors as the monitor's typed errors: by ccxt class first, Kraken code second, secrets scrubbed."""

from __future__ import annotations

import re

from kraken_monitor.exchange.errors import (
    AuthFailed,
    BadResponse,
    ExchangeError,
    ExchangeUnavailable,
    NonceRejected,
    RateLimited,
    Rejected,
)
from kraken_monitor.exchange.text import printable

_CODE = re.compile(r'"(E[A-Za-z]+:[^"]{1,120})"')
_AUTH_CODES = ("EAPI:Invalid key", "EAPI:Invalid signature",
               "EGeneral:Permission denied", "ESession:Invalid session", "EAPI:Feature disabled")
# Kraken suspends a key's API access for 15 minutes when its call counter runs over (support 209234858,
# "API call rate limit"): a wait, not bad credentials. Retrying sooner only extends it.
_LOCKOUT = "EGeneral:Temporary lockout"
LOCKOUT_S = 15 * 60.0
_RATE_CODES = ("EAPI:Rate limit exceeded", "EOrder:Rate limit exceeded", "EGeneral:Too many requests")
_SIGNATURE_LIKE = re.compile(r"[A-Za-z0-9+/]{86}==")  # base64 of a 64-byte HMAC-SHA512 (API-Sign) or secret

NONCE_HINT = ("Kraken rejected the request's nonce (EAPI:Invalid nonce): your clock, or another client using "
              "this key. The key itself was accepted; give each program its own key.")


def kraken_error_codes(text: str) -> list[str]:
    """Kraken error strings ('EOrder:Insufficient margin') quoted inside a ccxt exception message, printable."""
    return [printable(code) for code in _CODE.findall(text)]


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Remove API key, secret and anything shaped like an API-Sign from text meant for users or logs."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _SIGNATURE_LIKE.sub("***", text)


def map_error(exc: BaseException, *, action: bool = False, secrets: tuple[str, ...] = ()) -> ExchangeError:
    """ccxt / transport / parsing exception -> our typed error, decided by class first, Kraken code second.

    The Kraken code refines classes ccxt lumps together: ccxt raises DDoSProtection for both a rate limit
    and `EGeneral:Temporary lockout` (a 15-minute suspension: retried after it), and a plain ExchangeError for
    `EAPI:Invalid signature` and the margin `EOrder:*` errors.
    """
    import ccxt

    # Reads are retried by their caller (the worker says "retrying in N s"); an order is not.
    where = "; the order's outcome is unknown: check Kraken before retrying" if action else ""
    if isinstance(exc, RateLimited):
        return RateLimited(scrub(str(exc), secrets), exc.retry_after)
    if isinstance(exc, ExchangeError):  # ours already, e.g. from the transport (deadline, size cap, redirect)
        unknown = action and not isinstance(exc, AuthFailed | Rejected)
        return type(exc)(scrub(str(exc).rstrip(".") + where + "." if unknown else str(exc), secrets))
    codes = kraken_error_codes(str(exc)) if isinstance(exc, ccxt.BaseError) else []
    shown = scrub(", ".join(codes), secrets)
    if any(c.startswith("EAPI:Invalid nonce") for c in codes) or isinstance(exc, ccxt.InvalidNonce):
        # ccxt signs with millisecond nonces that only increase per instance; `Invalid nonce` therefore means
        # another client (or a clock jump) used this key with a higher nonce. Transient: the next nonce is new.
        return NonceRejected(NONCE_HINT.rstrip(".") + where + ".")
    if any(c.startswith(_LOCKOUT) for c in codes):
        return RateLimited(f"Kraken suspended this key's API access for 15 minutes ({shown}: its call counter ran "
                           f"over, or another program uses this key){where}.", LOCKOUT_S)
    if any(c.startswith(_AUTH_CODES) for c in codes) or isinstance(exc, ccxt.AuthenticationError):
        return AuthFailed(f"Kraken rejected the API credentials ({shown or type(exc).__name__}). "
                          "Check the key, its secret and permissions; use a key no other program uses.")
    if any(c.startswith(_RATE_CODES) for c in codes) or isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimited(f"Kraken rate limit exceeded ({shown or 'rate limit'}){where}.")
    if any(c.startswith("EOrder:") for c in codes) or isinstance(exc, ccxt.InsufficientFunds | ccxt.InvalidOrder):
        return Rejected(f"Kraken refused the order: {shown or type(exc).__name__}")
    if any(c.startswith(("EService:", "EGeneral:Internal error", "EDatabase:")) for c in codes) or isinstance(
        exc, ccxt.NetworkError
    ):
        what = "timed out" if isinstance(exc, ccxt.RequestTimeout) else "is unavailable"
        return ExchangeUnavailable(f"Kraken {what} ({shown or type(exc).__name__}){where}.")
    if isinstance(exc, ccxt.ExchangeError) and action:
        return Rejected(f"Kraken refused the request: {shown or type(exc).__name__}")
    if isinstance(exc, ccxt.BaseError):
        return BadResponse(f"Kraken returned an error the monitor does not understand ({shown or type(exc).__name__}).")
    return BadResponse(f"Kraken sent an unexpected response ({type(exc).__name__}).")
