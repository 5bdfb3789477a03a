"""Decimal parsing and validation for the margin engine: bad input becomes a typed, readable domain error."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    getcontext,
    setcontext,
)
from typing import ParamSpec, TypeVar

from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.models import Position

# One context for every engine call: 28 significant digits is far beyond any Kraken price or volume
# (8 decimals on 10^9 notional), and trapping InvalidOperation/DivisionByZero means a silent NaN can
# never reach a trader's screen. Entered with `localcontext(ENGINE_CONTEXT)` so a caller that changed
# the thread's global context cannot change our results.
ENGINE_CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

P = ParamSpec("P")
R = TypeVar("R")


def to_decimal(
    value: object,
    what: str,
    *,
    text_only: bool = False,
    floats: bool = False,
    thousands: bool = False,
    positive: bool = False,
) -> Decimal:
    """The one parser of exact numbers: a finite Decimal, or InvalidAmount naming `what`. Callers state their rule.

    Always accepted: a numeric str (surrounding spaces ignored), an int, a Decimal. Refused: bool, None,
    NaN/inf, and a float unless allowed (money is never float). The options:
      text_only  -- only a str (Kraken sends money as strings: an int there means the payload changed shape);
      floats     -- a float is read through its shortest repr, never its binary expansion (0.1 -> 0.1);
      thousands  -- "1,000" is 1000 (numbers a person typed or copied);
      positive   -- the number must be > 0 (amounts to close, deposit or add as margin).
    """
    if isinstance(value, str):
        text = value.strip()
        if thousands:
            text = text.replace(",", "")
        try:
            result = Decimal(text)
        except (InvalidOperation, ValueError):
            raise InvalidAmount(f"{what} is not a number: {value[:40]!r}.") from None
    elif text_only:
        raise InvalidAmount(f"{what} arrived as {type(value).__name__}, expected a numeric string.")
    elif isinstance(value, bool) or (isinstance(value, float) and not floats):
        raise InvalidAmount(f"{what} must be given as an exact decimal number, not {type(value).__name__}.")
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    else:
        raise InvalidAmount(f"{what} is not a number: {value!r}.")
    return require_positive(result, what) if positive else require_finite(result, what)


def require_finite(value: Decimal, what: str) -> Decimal:
    """`value` unchanged if it is a finite Decimal, else InvalidAmount."""
    if not isinstance(value, Decimal):
        raise InvalidAmount(f"{what} must be a decimal number (got {type(value).__name__}).")
    if not value.is_finite():
        raise InvalidAmount(f"{what} must be a finite number (got {value}).")
    return value


def require_positive(value: Decimal, what: str) -> Decimal:
    """`value` unchanged if it is finite and > 0, else InvalidAmount."""
    require_finite(value, what)
    if value <= 0:
        raise InvalidAmount(f"{what} must be greater than zero (got {value}).")
    return value


def require_non_negative(value: Decimal, what: str) -> Decimal:
    """`value` unchanged if it is finite and >= 0, else InvalidAmount."""
    require_finite(value, what)
    if value < 0:
        raise InvalidAmount(f"{what} cannot be negative (got {value}).")
    return value


_local = threading.local()


def _engine_ctx() -> Context:
    # One private copy per thread: contexts are mutable (flags), so threads must not share one.
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        ctx = _local.ctx = ENGINE_CONTEXT.copy()
    return ctx


def engine_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` under ENGINE_CONTEXT; nested engine calls skip the switch (cheap in the hot loop)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        old = getcontext()
        ctx = _engine_ctx()
        if old is ctx:
            return fn(*args, **kwargs)
        setcontext(ctx)
        try:
            return fn(*args, **kwargs)
        except (InvalidOperation, DivisionByZero, Overflow, OverflowError) as exc:
            # NaN, infinite or astronomically large input that slipped past the checks: still a typed error.
            raise InvalidAmount(f"An amount is not a usable number ({type(exc).__name__}).") from None
        finally:
            setcontext(old)

    return wrapper


def check_position(p: Position) -> None:
    """Raise InvalidAmount unless the position's volume, cost and margin are finite and positive."""
    # Fast path for the per-cycle loop (1,000 positions); the slow path below names the bad field.
    volume, closed, cost, margin = p.volume, p.volume_closed, p.cost, p.margin
    try:
        if (
            volume.is_finite()
            and closed.is_finite()
            and cost.is_finite()
            and margin.is_finite()
            and p.trading_fee.is_finite()
            and closed >= 0
            and volume > closed
            and cost > 0
            and margin > 0
            and p.opening_fee is None
            and p.allocated_margin is None
        ):
            return
    except (AttributeError, TypeError):
        pass
    _check_position_slow(p)


def _check_position_slow(p: Position) -> None:
    label = f"Position {p.id} ({p.pair})"
    for value, what in (
        (p.volume, "volume"),
        (p.volume_closed, "closed volume"),
        (p.cost, "cost"),
        (p.margin, "margin"),
        (p.trading_fee, "trading fee"),
    ):
        require_finite(value, f"{label}: {what}")
    if p.volume_closed < 0:
        raise InvalidAmount(f"{label}: closed volume cannot be negative (got {p.volume_closed}).")
    if p.remaining_volume <= 0:
        raise InvalidAmount(f"{label}: open volume must be greater than zero (got {p.remaining_volume}).")
    if p.cost <= 0:
        raise InvalidAmount(f"{label}: opening cost must be greater than zero (got {p.cost}).")
    if p.margin <= 0:
        raise InvalidAmount(f"{label}: margin must be greater than zero (zero leverage is impossible).")
    if p.opening_fee is not None:
        require_non_negative(p.opening_fee, f"{label}: opening fee")
    if p.allocated_margin is not None:
        require_non_negative(p.allocated_margin, f"{label}: allocated margin")
