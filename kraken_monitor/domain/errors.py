"""Typed errors the domain raises for invalid input; messages are written for a trader to read."""


class DomainError(ValueError):
    """Base of every domain input error; `str(err)` is safe to show in a dialog."""


class InvalidAmount(DomainError):
    """A volume, price, amount or leverage that is zero, negative, NaN, infinite or not a number."""


class InvalidTerms(DomainError):
    """A rollover `terms` string that cannot be parsed (expected e.g. "0.0100% per 4 hours")."""


class NotSupported(DomainError):
    """The action does not exist for this position or venue (e.g. add margin to a Kraken spot position)."""


class NeedsConfirmation(DomainError):
    """The action is allowed only after the trader confirmed it explicitly (e.g. snoozing LIQUIDATION)."""


class UnknownRate(DomainError):
    """A figure needs an FX rate (or an account figure built on one) that Kraken's prices do not give."""
