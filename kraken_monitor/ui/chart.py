"""Live chart: selected pair's price with entry/break-even/call/liquidation lines, margin level below."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor

from kraken_monitor.domain.models import PositionFigures, Snapshot
from kraken_monitor.text import chart as chart_text
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui import theme
from kraken_monitor.ui.chart_features import ChartFeatures
from kraken_monitor.ui.chart_futures import ChartFutures
from kraken_monitor.ui.chart_orders import ChartOrders
from kraken_monitor.ui.chart_panes import fit_panes

MARGIN_KEY = "margin"
MIN_X_RANGE_S = 120.0
X_STEP = 0.15  # when "now" leaves the view, extend it by this share of its width (not every tick)
LABEL_PX = 20  # height of a line label, pixels
MAX_LABEL_SHARE = 0.5  # label headroom at most this share of the data's height
Y_PAD = 0.1  # share of the needed height added above and below when the y range has to move
Y_SHRINK = 4.0  # re-fit y when the needed height is this many times smaller than the shown one


class SeriesBuffer:
    """Growable float64 (ts, value) arrays; amortised O(1) append, views handed to setData without copies.

    float64 matters: pyqtgraph's clip-to-view search is ~10,000x slower on float32/int (reference, Known traps).
    """

    CHUNK = 65_536

    def __init__(self, max_points: int = 4_000_000) -> None:
        self.max_points = max_points
        self.ts = np.empty(self.CHUNK, dtype=np.float64)
        self.values = np.empty(self.CHUNK, dtype=np.float64)
        self.n = 0
        self.version = 0  # bumped on every change, so the chart hands unchanged data to pyqtgraph only once

    def __len__(self) -> int:
        return self.n

    def last_ts(self) -> float | None:
        return float(self.ts[self.n - 1]) if self.n else None

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need > self.max_points:
            # Drop the oldest half rather than grow without bound (the journal keeps full history).
            drop = min(self.n, max(need - self.max_points, self.n // 2))
            self.ts[: self.n - drop] = self.ts[drop : self.n]
            self.values[: self.n - drop] = self.values[drop : self.n]
            self.n -= drop
            need = self.n + extra
        if need > len(self.ts):
            size = max(need, len(self.ts) * 2) + self.CHUNK
            for name in ("ts", "values"):
                grown = np.empty(size, dtype=np.float64)
                grown[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, grown)

    def append(self, ts: float, value: float) -> None:
        if self.n and ts <= self.ts[self.n - 1]:
            return  # x must stay sorted for clip-to-view; repeats of the same poll are dropped
        if not (np.isfinite(ts) and np.isfinite(value)):
            return  # keeps setSkipFiniteCheck(True) valid
        self._reserve(1)
        self.ts[self.n] = ts
        self.values[self.n] = value
        self.n += 1
        self.version += 1

    def seed(self, ts, values) -> None:
        """Replace with history, keeping live points newer than the history's end."""
        ts = np.asarray(ts, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        # The journal's history is already finite and sorted: check (1 byte/point) before copying.
        if not (np.isfinite(ts).all() and np.isfinite(values).all()):
            keep = np.isfinite(ts) & np.isfinite(values)
            ts, values = ts[keep], values[keep]
        if len(ts) > 1 and not (ts[1:] > ts[:-1]).all():
            order = np.argsort(ts, kind="stable")
            ts, values = ts[order], values[order]
        live_ts, live_values = self.view()
        if len(ts):
            newer = live_ts > ts[-1]
            live_ts, live_values = live_ts[newer], live_values[newer]
        # Straight into the (re)sized buffers: no concatenated copy of a million points.
        live_ts, live_values = live_ts.copy(), live_values.copy()
        total = min(len(ts) + len(live_ts), self.max_points)
        k = max(0, total - len(live_ts))  # history points kept (the newest)
        live_ts, live_values = live_ts[len(live_ts) - (total - k):], live_values[len(live_values) - (total - k):]
        self.n = 0
        if total > len(self.ts) or len(self.ts) > 2 * total + 2 * self.CHUNK:
            self.ts = self.values = None  # release the old buffers before the new ones exist
            size = total + self.CHUNK
            self.ts, self.values = np.empty(size), np.empty(size)
        self.ts[:k], self.values[:k] = ts[len(ts) - k:], values[len(values) - k:]
        self.ts[k:total], self.values[k:total] = live_ts, live_values
        self.n = total
        self.version += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self.ts[: self.n], self.values[: self.n]


def _line(color: str, name: str, position: float, style=None) -> pg.InfiniteLine:
    pen = pg.mkPen(color, width=1.5, style=style) if style is not None else pg.mkPen(color, width=1.5)
    line = pg.InfiniteLine(
        angle=0,
        movable=False,
        pen=pen,
        name=name,
        label=name,
        labelOpts={"position": position, "color": color, "anchors": [(0, 1), (0, 1)], "fill": (0, 0, 0, 0)},
    )
    line.setVisible(False)
    return line


class ChartWidget(ChartFutures, ChartFeatures, ChartOrders, pg.GraphicsLayoutWidget):
    """Per-pair price buffers fed by every snapshot; only the selected pair is drawn. GUI thread only.

    Candles, ranges, the pair picker and the crosshair: `ChartFeatures`; `controls` is their bar (the
    window lays it out above the chart); `candles_wanted(pair, timeframe)` asks the worker for candles.
    """

    candles_wanted = Signal(str, str)
    order_move_requested = Signal(str, object)  # a stop-loss / take-profit line dropped: (order id, Decimal)
    futures_order_move_requested = Signal(str, str, object)  # the same on a futures row: (row id, order id, Decimal)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("chart")
        dark = theme.is_dark()
        self.setBackground("#1e1e1e" if dark else "w")
        fg = "#dddddd" if dark else "#333333"
        self.buffers: dict[str, SeriesBuffer] = {}
        self.margin_buffer = SeriesBuffer()
        self.selected_pair: str | None = None
        self.selected_id: str | None = None
        self._rules = None
        # What was last handed to pyqtgraph: re-setting equal data, line positions, labels or regions
        # still invalidates bounds and re-lays out the axes on the next paint.
        self._drawn: dict[str, object] = {}
        self._line_state: dict[str, tuple[float, str] | None] = {}

        self.price_plot: pg.PlotItem = self.addPlot(row=0, col=0, axisItems={"bottom": pg.DateAxisItem()})
        # No grid: pyqtgraph redraws every grid line on each tick (~10 ms of the 16.7 ms frame, benchmarks/).
        self.price_plot.setLabel("left", "price", color=fg)
        self.price_curve: pg.PlotDataItem = self.price_plot.plot(pen=pg.mkPen(theme.CHART_PRICE, width=1))  # 1 px: Qt fast path
        self.lines = {
            # Labels staggered along x: entry and break-even are often only a few pixels apart.
            "entry": _line(theme.LINE_ENTRY, "entry", 0.02),
            "break_even": _line(theme.LINE_BREAK_EVEN, "break-even", 0.2),
            "margin_call": _line(theme.LINE_MARGIN_CALL, "margin call", 0.4),
            "liquidation": _line(theme.LINE_LIQUIDATION, "liquidation", 0.6),
        }
        for line in self.lines.values():
            self.price_plot.addItem(line, ignoreBounds=True)
        self._init_order_lines()  # stop-loss, take-profit, trailing stop (ui/chart_orders.py)

        self.margin_plot: pg.PlotItem = self.addPlot(row=1, col=0, axisItems={"bottom": pg.DateAxisItem()})
        self.margin_plot.setLabel("left", "margin level %", color=fg)
        self.margin_plot.setXLink(self.price_plot)
        self.margin_curve: pg.PlotDataItem = self.margin_plot.plot(pen=pg.mkPen(theme.CHART_MARGIN, width=1))
        self.liquidation_band = pg.LinearRegionItem(
            values=(0, 40), orientation="horizontal", movable=False, brush=QColor(229, 57, 53, 60), pen=pg.mkPen(None)
        )
        self.call_band = pg.LinearRegionItem(
            values=(40, 80), orientation="horizontal", movable=False, brush=QColor(251, 140, 0, 45), pen=pg.mkPen(None)
        )
        for band in (self.liquidation_band, self.call_band):
            self.margin_plot.addItem(band)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 1)
        # The plots share x (XLink): the dates below the margin plot serve both, and the price plot's own
        # date axis was ~1 ms of tick text regenerated per tick as x moves.
        self.price_plot.hideAxis("bottom")
        for plot in (self.price_plot, self.margin_plot):
            # Fixed width: the plots stay aligned and a wider tick label does not re-lay out the chart.
            plot.getAxis("left").setWidth(72)

        for plot in (self.price_plot, self.margin_plot):
            # Set after the curves exist: plot(..., clipToView=True) raises under PySide6 in 0.14.0.
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
        for curve in (self.price_curve, self.margin_curve):
            curve.setSkipFiniteCheck(True)  # buffers only ever hold finite values (SeriesBuffer.append)
        self.price_plot.setTitle("no position selected", color=fg)
        # The chart sets its ranges itself, in steps (see _fit_ranges): pyqtgraph's auto-range moved
        # x and y on every tick, so both axes re-laid out and regenerated their labels each time.
        self._follow = {"price": True, "margin": True}
        self._fit: dict[str, tuple] = {}  # per plot: what the shown range was fitted to
        for name, plot in (("price", self.price_plot), ("margin", self.margin_plot)):
            vb = plot.getViewBox()
            vb.disableAutoRange()
            # A pan/zoom by the trader stops the following; the "A" button (auto-range) resumes it.
            vb.sigRangeChangedManually.connect(lambda *_a, n=name: self._follow.__setitem__(n, False))
            vb.sigStateChanged.connect(self._on_view_state)
        self._init_futures()  # a Kraken Futures row's marks, lines and margin pane (ui/chart_futures.py)
        self._init_features()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        fit_panes(self, self.height())  # ui/chart_panes.py: the margin pane folds on a short chart (event may be None)
        super().resizeEvent(event)

    # --- feeding -------------------------------------------------------------------------------
    def buffer(self, pair: str) -> SeriesBuffer:
        buf = self.buffers.get(pair)
        if buf is None:
            buf = self.buffers[pair] = SeriesBuffer()
        return buf

    def set_history(self, history: dict) -> None:
        """Slot for `history_ready`: {pair: (ts, price), "margin": (ts, level)} seeds the buffers;
        {"candles": CandleSet} (the worker's answer to `candles_wanted`) draws candles."""
        history = dict(history)
        candles = history.pop("candles", None)
        if candles is not None:
            self.set_candles(candles)
        for key, (ts, values) in history.items():
            target = self.margin_buffer if key == MARGIN_KEY else self.buffer(key)
            target.seed(ts, values)
        self._redraw()

    def append_snapshot(self, snapshot: Snapshot) -> None:
        """Slot for `snapshot_ready`: append every pair's price, the margin level, refresh the lines."""
        price_ts = (snapshot.prices_as_of or snapshot.as_of).timestamp()
        if not snapshot.stale or snapshot.prices_as_of is not None:
            for pair, price in snapshot.prices().items():
                self.buffer(pair).append(price_ts, float(price))
        account = snapshot.account
        if account is not None and not snapshot.stale:
            if account.margin_level is not None:
                self.margin_buffer.append((snapshot.account_as_of or snapshot.as_of).timestamp(), float(account.margin_level))
            bands = (float(account.liquidation_level), float(account.margin_call_level))
            if bands != self._drawn.get("bands"):
                self._drawn["bands"] = bands
                self.liquidation_band.setRegion((0, bands[0]))
                self.call_band.setRegion(bands)
        self._rules = (snapshot.pair_rules.get(self.selected_pair) or self.futures_rules.get(self.selected_pair)
                       if self.selected_pair else None)
        selected = next((pf for pf in snapshot.positions if pf.position.id == self.selected_id), None)
        if selected is not None:
            self._set_lines(selected)
        self._features_snapshot(snapshot)
        self._redraw()

    def show_position(self, pf: PositionFigures | None, snapshot: Snapshot | None = None) -> None:
        """Display `pf`'s pair and its entry / break-even / margin-call / liquidation lines (None clears)."""
        if pf is None:
            self.selected_id = self.selected_pair = None
            for line in self.lines.values():
                line.setVisible(False)
            self.price_plot.setTitle(chart_text.NO_POSITION)
            self._redraw()
            return
        changed = pf.position.pair != self.selected_pair
        self.selected_id = pf.position.id
        self.selected_pair = pf.position.pair
        self.selected_isolated = pf.position.margin_mode.value == "isolated"
        if snapshot is not None:
            self._rules = snapshot.pair_rules.get(pf.position.pair)
        self._set_title(pf)
        self._set_lines(pf)
        if changed:
            self._pair_changed()
        self._redraw()

    def _set_title(self, pf: PositionFigures) -> None:
        p = pf.position
        title = chart_text.position_title(p.pair, p.side.value, fmt.fmt_volume(pf.remaining_volume, self._rules),
                                          fmt.fmt_price(pf.entry_price, self._rules))
        if title != self._drawn.get("title"):
            self._drawn["title"] = title
            self.price_plot.setTitle(title)

    def _set_lines(self, pf: PositionFigures) -> None:
        values: dict[str, Decimal | None] = {
            "entry": pf.entry_price,
            "break_even": pf.break_even_price,
            "margin_call": pf.margin_call_price,
            "liquidation": pf.liquidation_price,
        }
        names = {"entry": "entry", "break_even": "break-even", "margin_call": "margin call", "liquidation": "liquidation"}
        for key, value in values.items():
            line = self.lines[key]
            if value is None or value <= 0:
                line.setVisible(False)
                self._line_state[key] = None
                continue
            state = (float(value), f"{names[key]} {fmt.fmt_price(value, self._rules)}")
            if state == self._line_state.get(key) and line.isVisible():
                continue  # same price, same label: leave the item (and the next paint) alone
            self._line_state[key] = state
            # Visible first: a hidden label ignores setFormat and would keep its old text.
            line.setVisible(True)
            line.setValue(state[0])
            # The label is a format string; formatted numbers hold no braces.
            line.label.setFormat(state[1])
        self._set_order_lines(pf)

    def visible_line_values(self) -> dict[str, float]:
        return {k: float(line.value()) for k, line in self.lines.items() if line.isVisible()}

    def _redraw(self) -> None:
        buf = self.buffers.get(self.selected_pair) if self.selected_pair is not None else None
        if buf is not None:
            ts, values = buf.view()
            key: object = (self.selected_pair, id(buf), buf.version)
        else:
            ts = values = np.empty(0)
            key = None
        if key is None or key != self._drawn.get("price"):
            self._drawn["price"] = key
            self.price_curve.setData(ts, values)
        margin = self.margin_source()
        margin_key = (id(margin), margin.version)
        if margin_key != self._drawn.get("margin"):
            self._drawn["margin"] = margin_key
            self.margin_curve.setData(*margin.view())
        self.price_curve.setVisible(not (self.show_candles and len(self.candle_item.rows)))
        fit = self.candle_fit_arrays()
        self._fit_ranges(*(fit if fit is not None else (ts, values)))

    # --- ranges --------------------------------------------------------------------------------
    def _on_view_state(self, vb) -> None:
        for name, plot in (("price", self.price_plot), ("margin", self.margin_plot)):
            if plot.getViewBox() is vb and any(vb.state["autoRange"]):
                vb.disableAutoRange()
                self._follow[name] = True
                self._fit.pop(name, None)
                self._redraw()

    def _fit_ranges(self, ts: np.ndarray, values: np.ndarray) -> None:
        """Keep "now" in view and every line visible, moving the ranges only when something leaves them."""
        mts, mvalues = self.margin_source().view()
        last = max(float(ts[-1]) if len(ts) else -np.inf, float(mts[-1]) if len(mts) else -np.inf)
        if not np.isfinite(last):
            return
        first = min(float(ts[0]) if len(ts) else np.inf, float(mts[0]) if len(mts) else np.inf)
        price_vb, margin_vb = self.price_plot.getViewBox(), self.margin_plot.getViewBox()
        (x_lo, x_hi), _ = price_vb.viewRange()
        fit = self._fit.get("x")
        if self._follow["price"] and (fit is None or fit[0] != self.selected_pair or last > x_hi
                                       or (first < x_lo and not self.range_s)):
            # Two minutes at least, the whole history at most; "now" near the right edge with headroom.
            left = last - self.range_s if self.range_s else min(first, last - MIN_X_RANGE_S)
            right = last + (last - left) * X_STEP
            price_vb.setXRange(left, right, padding=0)
            self._fit["x"] = (self.selected_pair,)
            self._fit.pop("price", None)
            self._fit.pop("margin", None)
            (x_lo, x_hi), _ = price_vb.viewRange()
            refit = True  # another pair or a wider window: y fits it tightly again
        else:
            refit = False
        levels = list(self.visible_line_values().values())
        if self._follow["price"] and len(ts):
            lo, hi = self._window_min_max("price", ts, values, x_lo, (self.selected_pair, id(self.buffers.get(self.selected_pair))))
            self._fit_y(price_vb, min([lo, *levels]), max([hi, *levels]), refit)
        if self._follow["margin"] and len(mts):
            lo, hi = self._window_min_max("margin", mts, mvalues, x_lo, None)
            band_lo, band_hi = self.call_band.getRegion()
            self._fit_y(margin_vb, min(lo, 0.0), max(hi, float(band_hi)), refit)

    def _window_min_max(self, name: str, ts: np.ndarray, values: np.ndarray, x_lo: float, key) -> tuple[float, float]:
        """Min/max of the values shown right of x_lo; a tick that only appended one point costs O(1)."""
        n = len(ts)
        fit = self._fit.get(name)
        if fit is not None and fit[0] == key and fit[1] == n - 1 and fit[2] == float(ts[-2]):
            lo, hi = min(fit[3], float(values[-1])), max(fit[4], float(values[-1]))
        else:
            start = int(np.searchsorted(ts, x_lo))
            shown = values[start:] if start < n else values[-1:]
            lo, hi = float(shown.min()), float(shown.max())
        self._fit[name] = (key, n, float(ts[-1]), lo, hi)
        return lo, hi

    @staticmethod
    def _fit_y(vb, lo: float, hi: float, refit: bool = False) -> None:
        _, (y_lo, y_hi) = vb.viewRange()
        need = hi - lo
        # The top line's label is drawn above it: keep one label height (in pixels, so a short chart
        # still shows it) between the highest line and the top of the plot.
        # A plot squeezed below about two label heights (a laptop screen with every dock open) would turn that
        # into a headroom many times the data (a 43,717-1,045,284 axis for 68-92 k prices): at most
        # MAX_LABEL_SHARE of the data's height then, the data keeps the plot and the label may clip.
        label = min(need * LABEL_PX / max(vb.height() - 2 * LABEL_PX, 1.0), need * MAX_LABEL_SHARE)
        inside = y_lo <= lo - need * 0.02 and hi + label * 0.8 <= y_hi
        if inside and not refit and (y_hi - y_lo) <= max(need, 1e-12) * Y_SHRINK:
            return
        pad = need * Y_PAD if need > 0 else max(abs(hi) * 0.001, 1e-6)
        vb.setYRange(lo - pad, hi + max(pad, label), padding=0)
