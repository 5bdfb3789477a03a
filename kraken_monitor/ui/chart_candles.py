"""Candles on the price plot: a pyqtgraph item that paints only the visible candles, merged down to
about one per pixel column when there are more (100,000 candles pan like 500), and a crosshair readout."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen

from kraken_monitor.domain.candles import Candle, merge_tick

UP, DOWN = "#26a69a", "#ef5350"
_EMPTY = np.empty((0, 6))


def decimate(rows: np.ndarray, groups: int) -> np.ndarray:
    """Merge consecutive candles into at most `groups` (first open, highest high, lowest low, last close,
    summed volume): what a pixel column can show of them, with every extreme kept."""
    n = len(rows)
    if n <= groups or groups <= 0:
        return rows
    starts = np.linspace(0, n, groups, endpoint=False).astype(np.int64)
    starts = np.unique(starts)
    ends = np.append(starts[1:], n) - 1
    out = np.empty((len(starts), 6))
    out[:, 0] = rows[starts, 0]
    out[:, 1] = rows[starts, 1]
    out[:, 2] = np.maximum.reduceat(rows[:, 2], starts)
    out[:, 3] = np.minimum.reduceat(rows[:, 3], starts)
    out[:, 4] = rows[ends, 4]
    out[:, 5] = np.add.reduceat(rows[:, 5], starts)
    return out


def _shapes(rows: np.ndarray, width: float, body: float) -> tuple[tuple[list, list], tuple[list, list]]:
    """((up wicks, up bodies), (down wicks, down bodies)) of `rows`: up when the close is at or above the open."""
    out = []
    for mask in (rows[:, 4] >= rows[:, 1], rows[:, 4] < rows[:, 1]):
        part = rows[mask]
        mid = part[:, 0] + width / 2
        out.append((
            [QLineF(QPointF(x, lo), QPointF(x, hi)) for x, lo, hi in zip(mid, part[:, 3], part[:, 2], strict=True)],
            [QRectF(x - body / 2, min(o, c), body, abs(c - o) or 1e-12)
             for x, o, c in zip(mid, part[:, 1], part[:, 4], strict=True)],
        ))
    return out[0], out[1]


class CandleItem(pg.GraphicsObject):
    """(n, 6) float64 rows (ts, o, h, l, c, v), ascending; `seconds` the candle width."""

    def __init__(self) -> None:
        super().__init__()
        self.rows = _EMPTY
        self.seconds = 60.0
        self._bounds = QRectF()
        self._shapes: tuple | None = None  # (key, shapes of every visible candle but the last), see paint()

    def set_candles(self, rows: np.ndarray, seconds: float) -> None:
        self.prepareGeometryChange()
        self.rows = np.ascontiguousarray(rows, dtype=np.float64).reshape(-1, 6)
        self.seconds = float(seconds)
        self._update_bounds()
        self.update()

    def merge_price(self, ts: float, price: float) -> None:
        """A live price into the current candle (domain.candles.merge_tick), O(1) but for a new candle."""
        last = Candle(*self.rows[-1]) if len(self.rows) else None
        candle, replaces = merge_tick(last, ts, price, int(self.seconds))
        if candle is None:
            return
        row = np.array([[candle.ts, candle.open, candle.high, candle.low, candle.close, candle.volume]])
        self.prepareGeometryChange()
        if replaces:
            self.rows[-1] = row[0]
        else:
            self.rows = np.vstack([self.rows, row])
        self._update_bounds()
        self.update()

    def _update_bounds(self) -> None:
        r = self.rows
        if not len(r):
            self._bounds = QRectF()
            return
        lo, hi = float(r[:, 3].min()), float(r[:, 2].max())
        self._bounds = QRectF(float(r[0, 0]), lo, float(r[-1, 0]) + self.seconds - float(r[0, 0]), max(hi - lo, 1e-12))

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._bounds

    def visible(self) -> np.ndarray:
        """The candles in the view's x range, decimated to its pixel width."""
        vb = self.getViewBox()
        if vb is None or not len(self.rows):
            return self.rows
        (x_lo, x_hi), _ = vb.viewRange()
        ts = self.rows[:, 0]
        start = max(0, int(np.searchsorted(ts, x_lo - self.seconds)))
        end = int(np.searchsorted(ts, x_hi, side="right"))
        return decimate(self.rows[start:end], max(1, int(vb.width()) // 2))

    def paint(self, painter: QPainter, *_args) -> None:
        rows = self.visible()
        if not len(rows):
            return
        width = (rows[1, 0] - rows[0, 0]) if len(rows) > 1 else self.seconds
        body = width * 0.7
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        # A live tick only moves the last candle: the others' lines and boxes (a few hundred Qt objects, ~3 ms
        # a paint in Python) are built once and reused while the candles before the last stay the same.
        head = rows[:-1]
        key = (len(rows), width, head.tobytes())  # exact (memcmp), not a hash
        if self._shapes is None or self._shapes[0] != key:
            self._shapes = (key, _shapes(head, width, body))
        tail = _shapes(rows[-1:], width, body)
        for color, (lines, rects), (tail_lines, tail_rects) in zip((UP, DOWN), self._shapes[1], tail, strict=True):
            if not lines and not tail_lines:
                continue
            pen = QPen(QColor(color))
            pen.setCosmetic(True)  # one pixel whatever the zoom
            painter.setPen(pen)
            painter.setBrush(QColor(color))
            painter.drawLines(lines + tail_lines)
            painter.drawRects(rects + tail_rects)
