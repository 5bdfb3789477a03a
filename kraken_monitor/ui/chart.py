"""Live chart: selected pair's price with entry/break-even/call/liquidation lines, margin level below."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from kraken_monitor.domain.models import PositionFigures, Snapshot
from kraken_monitor.ui import formatting as fmt
from kraken_monitor.ui import theme

MARGIN_KEY = "margin"
MIN_X_RANGE_S = 120.0


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
        keep = np.isfinite(ts) & np.isfinite(values)
        ts, values = ts[keep], values[keep]
        order = np.argsort(ts, kind="stable")
        ts, values = ts[order], values[order]
        live_ts, live_values = self.view()
        if len(ts):
            newer = live_ts > ts[-1]
            live_ts, live_values = live_ts[newer], live_values[newer]
        total_ts = np.concatenate([ts, live_ts])[-self.max_points :]
        total_values = np.concatenate([values, live_values])[-self.max_points :]
        self.n = 0
        self._reserve(len(total_ts))
        self.ts[: len(total_ts)] = total_ts
        self.values[: len(total_values)] = total_values
        self.n = len(total_ts)
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


class ChartWidget(pg.GraphicsLayoutWidget):
    """Per-pair price buffers fed by every snapshot; only the selected pair is drawn. GUI thread only."""

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
        # Invisible two-point item ending at the newest x so auto-range keeps the risk lines in view.
        self._bounds = self.price_plot.plot(pen=pg.mkPen(None))  # NoPen: drawn invisibly, still counted
        self.lines = {
            # Labels staggered along x: entry and break-even are often only a few pixels apart.
            "entry": _line(theme.LINE_ENTRY, "entry", 0.02),
            "break_even": _line(theme.LINE_BREAK_EVEN, "break-even", 0.2),
            "margin_call": _line(theme.LINE_MARGIN_CALL, "margin call", 0.4),
            "liquidation": _line(theme.LINE_LIQUIDATION, "liquidation", 0.6),
        }
        for line in self.lines.values():
            self.price_plot.addItem(line, ignoreBounds=True)

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

    # --- feeding -------------------------------------------------------------------------------
    def buffer(self, pair: str) -> SeriesBuffer:
        buf = self.buffers.get(pair)
        if buf is None:
            buf = self.buffers[pair] = SeriesBuffer()
        return buf

    def set_history(self, history: dict) -> None:
        """Slot for `history_ready`: {pair: (ts, price), "margin": (ts, level)} seeds the buffers."""
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
        self._rules = snapshot.pair_rules.get(self.selected_pair) if self.selected_pair else None
        selected = next((pf for pf in snapshot.positions if pf.position.id == self.selected_id), None)
        if selected is not None:
            self._set_lines(selected)
        self._redraw()

    def show_position(self, pf: PositionFigures | None, snapshot: Snapshot | None = None) -> None:
        """Display `pf`'s pair and its entry / break-even / margin-call / liquidation lines (None clears)."""
        if pf is None:
            self.selected_id = self.selected_pair = None
            for line in self.lines.values():
                line.setVisible(False)
            self.price_plot.setTitle("no position selected")
            self._redraw()
            return
        self.selected_id = pf.position.id
        self.selected_pair = pf.position.pair
        if snapshot is not None:
            self._rules = snapshot.pair_rules.get(pf.position.pair)
        p = pf.position
        self.price_plot.setTitle(
            f"{p.pair} \u00b7 {p.side.value} {fmt.fmt_volume(pf.remaining_volume, self._rules)} "
            f"@ {fmt.fmt_price(pf.entry_price, self._rules)}"
        )
        self._set_lines(pf)
        self._redraw()

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
        levels = list(self.visible_line_values().values())
        bounds: tuple = ()
        if levels and len(ts):
            x = float(ts[-1])
            levels.append(float(values[-1]))
            lo, hi = min(levels), max(levels)
            pad = (hi - lo) * 0.06  # headroom so the top line's label is not clipped by the frame
            # The invisible item also reaches MIN_X_RANGE_S back from the newest point: a fresh start
            # then shows two minutes ending at "now" instead of a few seconds labelled in milliseconds.
            bounds = (x - MIN_X_RANGE_S, x, lo - pad, hi + pad)
        if bounds != self._drawn.get("bounds"):
            self._drawn["bounds"] = bounds
            if bounds:
                self._bounds.setData([bounds[0], bounds[1]], [bounds[2], bounds[3]])
            else:
                self._bounds.setData(np.empty(0), np.empty(0))
        margin_key = self.margin_buffer.version
        if margin_key != self._drawn.get("margin"):
            self._drawn["margin"] = margin_key
            self.margin_curve.setData(*self.margin_buffer.view())
