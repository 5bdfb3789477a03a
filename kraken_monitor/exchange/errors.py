"""Typed exchange errors the worker and UI act on by class, never by message text."""


class ExchangeError(Exception):
    """Base class. Messages never contain API keys, secrets or signatures."""


class ExchangeUnavailable(ExchangeError):
    """Retryable: timeout, connection reset, HTTP 5xx, Kraken `EService:*`."""


class RateLimited(ExchangeUnavailable):
    """Retryable after a delay: Kraken `EAPI:Rate limit exceeded` and friends."""

    def __init__(self, message: str, retry_after: float = 5.0):
        super().__init__(message)
        self.retry_after = retry_after


class NonceRejected(ExchangeUnavailable):
    """Retryable: Kraken's `EAPI:Invalid nonce`. The key is fine; the clock stepped, or another client uses it."""


class AuthFailed(ExchangeError):
    """Not retryable: bad key, bad signature, permission denied. Stop and tell."""


class CredentialsMissing(AuthFailed):
    """No key is configured for this venue at all (nothing was sent); the venue is simply not watched."""


class Rejected(ExchangeError):
    """The exchange refused an action (e.g. `EOrder:Insufficient margin`); carries Kraken's message."""


class BadResponse(ExchangeError):
    """Malformed or incomplete payload (bad JSON, missing fields, empty result with an error)."""
