"""Exchange strings reach a terminal without escape sequences, bidi overrides or line breaks."""

from kraken_monitor.exchange.text import printable


def test_printable_strips_controls_and_bidi_but_keeps_text():
    assert printable("BTC/USD") == "BTC/USD"
    assert printable("Zürich €5") == "Zürich €5"
    assert printable("\x1b]0;pwned\x07EOrder:\x1b[2JInsufficient") == "]0;pwnedEOrder:[2JInsufficient"
    assert printable("line1\nline2\tx\r") == "line1 line2 x "
    assert printable("\u202eDSU") == "DSU"
    assert "\x9b" not in printable("a\x9b31mb")  # the 8-bit CSI
