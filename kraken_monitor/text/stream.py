"""Words for the price feed in the status bar: which feed is live, and why the stream is not."""

from __future__ import annotations


def price_feed_text(streaming: bool | None, detail: str, polling_every_s: float, source: str = "WebSocket") -> str:
    """`streaming`: None = polling by choice (`--prices poll`); False = the stream is down or not yet live."""
    polling = f"prices: polling every {polling_every_s:g} s"
    if streaming is None:
        return polling
    if streaming:
        return f"prices: streaming ({source})"
    return f"{polling} (stream {detail})" if detail else polling
