"""What the chart adds to its price line (issue 18): candles with a timeframe, range presets, a pair
picker, a crosshair readout, the isolated position's own margin level, shaded stale periods.

A mixin of `ChartWidget` (it uses the widget's plots and buffers); every string from text/chart.py.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from kraken_monitor.domain.candles import timeframe_seconds
from kraken_monitor.domain.models import MarginMode, Snapshot
from kraken_monitor.text import chart as text
from kraken_monitor.ui.chart_candles import CandleItem
from kraken_monitor.ui.chart_controls import ChartControls

STALE_BRUSH = QColor(128, 128, 128, 50)
MAX_STALE_REGIONS = 50
ASK_AGAIN_S = 30.0  # no candles yet (the worker was starting, or the venue failed): ask again this often


class ChartFeatures:
    """Mixed into ChartWidget; `_init_features()` runs at the end of its __init__."""

    def _init_features(self) -> None:
        self.controls = ChartControls()
        self.candle_item = CandleItem()
        self.price_plot.addItem(self.candle_item)
        self.show_candles = True
        self.range_s: int | None = None
        self.position_margin: dict[str, object] = {}  # isolated position id -> its own margin-level buffer
        self.selected_isolated = False
        self.stale_regions: list[pg.LinearRegionItem] = []
        self._stale_since: float | None = None
        self._asked: tuple[str, str, float] | None = None  # (pair, timeframe, monotonic) of the last request
        self.crosshair_v = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888", width=1))
        self.crosshair_h = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#888888", width=1))
        for line in (self.crosshair_v, self.crosshair_h):
            line.setVisible(False)
            self.price_plot.addItem(line, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.controls.pair_chosen.connect(self.show_pair)
        self.controls.timeframe_chosen.connect(lambda _tf: self._want_candles())
        self.controls.range_chosen.connect(self.set_range)
        self.controls.candles_toggled.connect(self.set_candle_mode)

    # -- choices ---------------------------------------------------------------------------------
    def show_pair(self, pair: str) -> None:
        """Chart `pair`; a held position's lines stay only while it is that position's pair."""
        if pair == self.selected_pair:
            return
        self.selected_pair = pair
        if self.selected_id is not None:
            self.selected_id = None
            for line in self.lines.values():
                line.setVisible(False)
        self.selected_isolated = False
        self.price_plot.setTitle(text.WATCHED.format(pair=pair))
        self._pair_changed()

    def _pair_changed(self) -> None:
        self.candle_item.set_candles(np.empty((0, 6)), timeframe_seconds(self.controls.timeframe))
        self.controls.set_pairs([self.controls.pair_box.itemText(i) for i in range(self.controls.pair_box.count())],
                                self.selected_pair)
        self._fit.pop("x", None)
        self._want_candles()
        self._redraw()

    def _want_candles(self) -> None:
        if self.selected_pair:
            self.candle_item.set_candles(np.empty((0, 6)), timeframe_seconds(self.controls.timeframe))
            self._asked = (self.selected_pair, self.controls.timeframe, time.monotonic())
            self.candles_wanted.emit(self.selected_pair, self.controls.timeframe)

    def set_range(self, seconds: int) -> None:
        """Show the last `seconds` and keep following "now" with that width."""
        self.range_s = int(seconds)
        self._follow["price"] = True
        self._fit.pop("x", None)
        self._redraw()

    def set_candle_mode(self, on: bool) -> None:
        self.show_candles = bool(on)
        self.candle_item.setVisible(self.show_candles)
        self._fit.pop("price", None)
        self._redraw()

    # -- data ------------------------------------------------------------------------------------
    def set_candles(self, candles) -> None:
        """A `CandleSet` from the worker: drawn when it is the pair and timeframe shown."""
        if candles.pair == self.selected_pair and candles.timeframe == self.controls.timeframe:
            self.candle_item.set_candles(candles.rows, timeframe_seconds(candles.timeframe))
            self._fit.pop("price", None)
            self._redraw()

    def _features_snapshot(self, snapshot: Snapshot) -> None:
        """Pair list, the live candle, isolated margin levels, stale shading, a title that never goes stale."""
        pairs = sorted(set(snapshot.tickers) | {pf.position.pair for pf in snapshot.positions})
        self.controls.set_pairs(pairs, self.selected_pair)
        price_ts = (snapshot.prices_as_of or snapshot.as_of).timestamp()
        if self.selected_pair is not None and not snapshot.stale:
            price = snapshot.prices().get(self.selected_pair)
            if price is not None:
                self.candle_item.merge_price(price_ts, float(price))
        if not snapshot.stale:
            at = (snapshot.account_as_of or snapshot.as_of).timestamp()
            for pf in snapshot.positions:
                if pf.position.margin_mode is MarginMode.ISOLATED and pf.margin_level is not None:
                    buf = self.position_margin.get(pf.position.id)
                    if buf is None:
                        buf = self.position_margin[pf.position.id] = type(self.margin_buffer)()
                    buf.append(at, float(pf.margin_level))
        self._shade_stale(snapshot)
        asked = self._asked
        if self.selected_pair and len(self.candle_item.rows) <= 1 and (
                asked is None or asked[:2] != (self.selected_pair, self.controls.timeframe)
                or time.monotonic() - asked[2] > ASK_AGAIN_S):
            self._asked = (self.selected_pair, self.controls.timeframe, time.monotonic())
            self.candles_wanted.emit(self.selected_pair, self.controls.timeframe)
        selected = next((pf for pf in snapshot.positions if pf.position.id == self.selected_id), None)
        if selected is not None:
            self.selected_isolated = selected.position.margin_mode is MarginMode.ISOLATED
            self._set_title(selected)  # after a partial close the volume changed: the title follows

    def _shade_stale(self, snapshot: Snapshot) -> None:
        ts = snapshot.as_of.timestamp()
        if snapshot.stale:
            if self._stale_since is None:
                self._stale_since = ts
                region = pg.LinearRegionItem(values=(ts, ts), orientation="vertical", movable=False,
                                             brush=STALE_BRUSH, pen=pg.mkPen(None))
                region.setToolTip(text.STALE_TIP)
                self.price_plot.addItem(region, ignoreBounds=True)
                self.stale_regions.append(region)
                if len(self.stale_regions) > MAX_STALE_REGIONS:
                    self.price_plot.removeItem(self.stale_regions.pop(0))
            self.stale_regions[-1].setRegion((self._stale_since, ts))
        else:
            self._stale_since = None

    def margin_source(self):
        """The margin pane's buffer: an isolated position's own level, else the cross account's."""
        if self.selected_isolated and self.selected_id in self.position_margin:
            return self.position_margin[self.selected_id]
        return self.margin_buffer

    def candle_fit_arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(ts, value) pairs covering every wick, for the y fit in candle mode; None in line mode."""
        rows = self.candle_item.rows
        if not self.show_candles or not len(rows):
            return None
        return np.repeat(rows[:, 0], 2), rows[:, [3, 2]].ravel()

    # -- crosshair -------------------------------------------------------------------------------
    def _on_mouse_moved(self, pos: QPointF) -> None:
        vb = self.price_plot.getViewBox()
        inside = self.price_plot.sceneBoundingRect().contains(pos)
        for line in (self.crosshair_v, self.crosshair_h):
            line.setVisible(inside)
        if not inside:
            self.controls.readout.setText("")
            return
        point = vb.mapSceneToView(pos)
        self.crosshair_v.setValue(point.x())
        self.crosshair_h.setValue(point.y())
        self.controls.readout.setText(text.readout(point.x(), point.y(), self._rules))
