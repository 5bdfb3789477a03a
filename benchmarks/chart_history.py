"""Chart with history (issue 18): 1,000,000 line points and 100,000 candles, each beside a naive baseline
in the same run. `QT_QPA_PLATFORM=offscreen python benchmarks/chart_history.py [--quick]` prints JSON.

Figures (medians of repeated runs, milliseconds):
- line_1m_pan_ms: a pan of the price chart over 1,000,000 points (the chart's clip-to-view + peak
  downsampling) vs line_1m_pan_naive_ms: the same pan of a plain PlotDataItem.setData (no clipping,
  no downsampling), painted through widget.grab().
- candles_100k_load_ms / candles_100k_pan_ms: set_candles and a pan over 100,000 candles (CandleItem:
  visible candles merged to about one per two pixels) vs candles_100k_pan_naive_ms: the usual
  pyqtgraph candlestick (every candle drawn into a QPicture, then replayed on each paint).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QPointF, QRectF  # noqa: E402
from PySide6.QtGui import QColor, QPainter, QPicture  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


class NaiveCandles(pg.GraphicsObject):
    """pyqtgraph's customGraphicsItem example: every candle painted into one QPicture."""

    def __init__(self, rows: np.ndarray, width: float) -> None:
        super().__init__()
        self.picture = QPicture()
        p = QPainter(self.picture)
        for ts, o, h, low, c, _v in rows:
            p.setPen(pg.mkPen("w"))
            p.drawLine(QPointF(ts, low), QPointF(ts, h))
            p.setBrush(QColor("#26a69a" if c >= o else "#ef5350"))
            p.drawRect(QRectF(ts - width / 3, o, width * 2 / 3, c - o))
        p.end()
        self._rect = QRectF(float(rows[0, 0]), float(rows[:, 3].min()), float(rows[-1, 0] - rows[0, 0]),
                            float(rows[:, 2].max() - rows[:, 3].min()))

    def paint(self, painter, *_args) -> None:
        painter.drawPicture(0, 0, self.picture)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect


def _walk(n: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    ts = 1_767_225_600.0 + np.arange(n) * step
    return ts, 60000.0 * np.exp(np.cumsum(rng.normal(0, 0.0005, n)))


def _pans(widget, vb, ts: np.ndarray, repeats: int) -> float:
    """Median time of a pan (a quarter of the width) + paint, over `repeats` pans."""
    width = (ts[-1] - ts[0]) / 4
    times = []
    for i in range(repeats):
        lo = ts[0] + (i % 3) * width
        t0 = time.perf_counter()
        vb.setXRange(lo, lo + width, padding=0)
        widget.grab()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _dispose(*widgets) -> None:
    """Destroyed here, in the main thread, before interpreter exit tears pyqtgraph down (it crashed there)."""
    for widget in widgets:
        widget.close()
        widget.deleteLater()
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, 0)


def line_1m(points: int, repeats: int) -> dict:
    from kraken_monitor.ui.chart import ChartWidget

    ts, price = _walk(points, 1.0)
    chart = ChartWidget()
    chart.resize(1200, 600)
    chart.set_candle_mode(False)
    chart.selected_pair = "BTC/USD"
    chart.set_history({"BTC/USD": (ts, price)})
    chart._follow["price"] = False
    ours = _pans(chart, chart.price_plot.getViewBox(), ts, repeats)
    naive = pg.PlotWidget()
    naive.resize(1200, 600)
    naive.plot().setData(ts, price)
    baseline = _pans(naive, naive.getPlotItem().getViewBox(), ts, repeats)
    _dispose(chart, naive)
    return {"line_1m_pan_ms": ours, "line_1m_pan_naive_ms": baseline, "line_points": points}


def candles_100k(count: int, repeats: int) -> dict:
    from kraken_monitor.ui.chart_candles import CandleItem

    ts, close = _walk(count, 60.0)
    opens = np.roll(close, 1)
    opens[0] = close[0]
    rows = np.column_stack([ts, opens, np.maximum(opens, close) * 1.0005, np.minimum(opens, close) * 0.9995,
                            close, np.ones(count)])
    plot = pg.PlotWidget()
    plot.resize(1200, 600)
    item = CandleItem()
    plot.addItem(item)
    t0 = time.perf_counter()
    item.set_candles(rows, 60.0)
    plot.grab()
    load = (time.perf_counter() - t0) * 1000
    ours = _pans(plot, plot.getPlotItem().getViewBox(), ts, repeats)
    naive_plot = pg.PlotWidget()
    naive_plot.resize(1200, 600)
    t0 = time.perf_counter()
    naive_plot.addItem(NaiveCandles(rows, 60.0))
    naive_plot.grab()
    naive_load = (time.perf_counter() - t0) * 1000
    baseline = _pans(naive_plot, naive_plot.getPlotItem().getViewBox(), ts, repeats)
    _dispose(plot, naive_plot)
    return {"candles_100k_load_ms": load, "candles_100k_pan_ms": ours, "candles_100k_load_naive_ms": naive_load,
            "candles_100k_pan_naive_ms": baseline, "candles": count}


def main() -> None:
    quick = "--quick" in sys.argv
    app = QApplication.instance() or QApplication([])
    result = {**line_1m(20_000 if quick else 1_000_000, 3 if quick else 9),
              **candles_100k(2_000 if quick else 100_000, 3 if quick else 9)}
    app.processEvents()
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main()
