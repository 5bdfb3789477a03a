"""How the chart's two panes share a short chart: the margin-level pane folds so the price plot stays readable."""

from __future__ import annotations

from typing import Any

MARGIN_PANE_SHARE = 4  # the margin-level pane takes at most 1/4 of the chart (its axis asks ~55 px)
SHORT_CHART_PX = 240  # below this the margin-level pane is hidden: the price plot needs the height


def fit_panes(chart: Any, height: int) -> None:
    """The stretch (3:1) gives way to the margin pane's minimum on a laptop-height chart: price got half.

    Below SHORT_CHART_PX the pane folds to nothing (the account bars' gauges show the margin level) and the
    price plot takes the dates. pyqtgraph resizes during __init__ (no pane yet) and in close() after its
    scene deleted the items: both are left alone.
    """
    margin_plot = getattr(chart, "margin_plot", None)
    if margin_plot is None or getattr(chart, "closed", False):
        return
    short = height < SHORT_CHART_PX
    margin_plot.setVisible(not short)
    margin_plot.setMinimumHeight(0)
    margin_plot.setMaximumHeight(0 if short else max(36, height // MARGIN_PANE_SHARE))
    chart.price_plot.showAxis("bottom", short)
