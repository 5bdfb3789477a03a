"""Exchange-supplied text made safe for a terminal or a log line: no control or bidi-override characters."""

from __future__ import annotations

import unicodedata

_SPACES = {"\t", "\n", "\r", "\v", "\f", "\x85", "\u2028", "\u2029"}


def printable(text: str) -> str:
    """`text` with line breaks and tabs turned into spaces and every other control/format character dropped.

    Drops C0/C1 controls (ESC starts terminal escape sequences: colours, cursor moves, window titles) and
    Unicode format characters (bidi overrides such as U+202E can make "USD" read as "DSU").
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in _SPACES:
            out.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(ch)
    return "".join(out)
