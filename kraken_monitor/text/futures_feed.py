"""Words for the futures feed on the futures account bar: the WebSocket is live, or REST polls (and why)."""

from __future__ import annotations

DEMO_STREAMING = "futures: streaming (demo market)"
# The widest words the bar can show (a usual interval): it keeps room for them, so none is cut off.
LABEL_SAMPLES = (DEMO_STREAMING, "futures: streaming", "futures: polling every 30 s")


def futures_feed_text(live: bool, detail: str, polling_every_s: float, demo: bool = False) -> str:
    """`live`: Kraken's liquidation thresholds, marks and margin equity are pushed (demo: the embedded market's
    marks); else REST polls alone."""
    if live:
        return DEMO_STREAMING if demo else "futures: streaming (WebSocket, Kraken's liquidation prices)"
    polling = f"futures: polling every {polling_every_s:g} s"
    return f"{polling} (stream {detail})" if detail else polling


def futures_feed_label(feed: str) -> str:
    """The bar's words: which feed, the why left to the tooltip; the demo's source is part of which feed."""
    return feed if feed == DEMO_STREAMING else feed.split(" (")[0]
