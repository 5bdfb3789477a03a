"""Where the positions live (venue) and whose money it is (account kind), as typed values.

The CLI flag `--mode demo|paper|live` and the JSON field `"mode"` stay plain strings at the edge;
`AccountKind.parse` turns them into a kind and `.value` turns a kind back into the same string.
"""

from __future__ import annotations

from enum import Enum


class Venue(str, Enum):
    """The Kraken market the positions are held on: spot margin (api.kraken.com) or Kraken Futures."""

    SPOT_MARGIN = "spot_margin"
    FUTURES = "futures"

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__  # f"{venue}" is the value on every Python, as str() is


class AccountKind(str, Enum):
    """Real money on Kraken (live) or a simulated account on a seeded (demo) or live-priced (paper) market."""

    DEMO = "demo"
    PAPER = "paper"
    LIVE = "live"

    @classmethod
    def parse(cls, text: object) -> AccountKind:
        """The kind a CLI flag, settings file or saved state names; anything else is a ValueError."""
        if isinstance(text, cls):
            return text
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise ValueError(
                f"Unknown mode {text!r}: expected {', '.join(k.value for k in cls)}"
            ) from None

    @property
    def simulated(self) -> bool:
        """Demo and paper trade simulated money: nothing reaches Kraken's order book."""
        return self is not AccountKind.LIVE

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


MODES: tuple[str, ...] = tuple(kind.value for kind in AccountKind)  # the `--mode` choices, in order
