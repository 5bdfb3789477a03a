"""Words for the futures feed on the futures account bar: the WebSocket is live, or REST polls (and why)."""

from __future__ import annotations


def futures_feed_text(live: bool, detail: str, polling_every_s: float) -> str:
    """`live`: Kraken's liquidation thresholds, marks and margin equity are pushed; else REST polls alone."""
    if live:
        return "futures: streaming (WebSocket, Kraken's liquidation prices)"
    polling = f"futures: polling every {polling_every_s:g} s"
    return f"{polling} (stream {detail})" if detail else polling
