"""The chart's protective-order lines (issue 16 item 4): stop-loss, take-profit and a trailing stop's live stop.

A mixin of `ChartWidget`. The lines are dashed (dotted for the trailing stop) in their own colours, apart
from the solid margin-call and liquidation lines. Dragging a stop-loss or take-profit line and letting go
emits `order_move_requested(order id, trigger)`; the line goes back to the order's trigger at once: only a
confirmed, accepted modify moves it (the next snapshot carries the new trigger).
"""

from __future__ import annotations

from decimal import Decimal

import pyqtgraph as pg
from PySide6.QtCore import Qt

from kraken_monitor.domain import protection
from kraken_monitor.domain.models import PositionFigures
from kraken_monitor.domain.orders import OpenOrder
from kraken_monitor.text import chart as chart_text
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui import theme

ORDER_LINES = {  # key: (colour, label, label x position, pen style, draggable)
    "stop_loss": (theme.LINE_STOP_LOSS, "stop-loss", 0.78, Qt.PenStyle.DashLine, True),
    "take_profit": (theme.LINE_TAKE_PROFIT, "take-profit", 0.78, Qt.PenStyle.DashLine, True),
    "trailing": (theme.LINE_TRAILING, "trailing stop", 0.92, Qt.PenStyle.DotLine, False),
}


def _order_line(color: str, name: str, position: float, style: Qt.PenStyle, movable: bool) -> pg.InfiniteLine:
    line = pg.InfiniteLine(
        angle=0, movable=movable, pen=pg.mkPen(color, width=1.5, style=style),
        hoverPen=pg.mkPen(color, width=3, style=style) if movable else None, name=name, label=name,
        labelOpts={"position": position, "color": color, "anchors": [(1, 1), (1, 1)], "fill": (0, 0, 0, 0)},
    )
    line.setVisible(False)
    if movable:
        line.setToolTip(chart_text.DRAG_ORDER_TIP.format(name=name))
    return line


def chart_orders(pf: PositionFigures) -> dict[str, tuple[OpenOrder, Decimal]]:
    """The order each line shows: the nearest plain stop, the nearest take-profit, the nearest trailing stop."""
    plain = tuple(o for o in pf.orders if not o.type.is_trailing)
    trailing = tuple(o for o in pf.orders if o.type.is_trailing)
    found = {
        "stop_loss": protection.nearest(plain, pf, stops=True),
        "take_profit": protection.nearest(plain, pf, stops=False),
        "trailing": protection.nearest(trailing, pf, stops=True),
    }
    return {key: value for key, value in found.items() if value is not None}


class ChartOrders:
    """Mixed into ChartWidget; `_init_order_lines()` runs in its __init__ after the risk lines exist."""

    def _init_order_lines(self) -> None:
        self.order_ids: dict[str, str] = {}  # line key -> id of the order it shows
        self._order_values: dict[str, float] = {}  # line key -> the order's trigger as drawn
        for key, (color, name, position, style, movable) in ORDER_LINES.items():
            line = _order_line(color, name, position, style, movable)
            self.lines[key] = line
            self.price_plot.addItem(line, ignoreBounds=True)
            if movable:
                line.sigPositionChanged.connect(lambda _l, k=key: self._on_order_line_dragging(k))
                line.sigPositionChangeFinished.connect(lambda _l, k=key: self._on_order_line_dropped(k))

    def _set_order_lines(self, pf: PositionFigures) -> None:
        shown = chart_orders(pf)
        for key, (_color, name, *_rest) in ORDER_LINES.items():
            line = self.lines[key]
            if getattr(line, "moving", False):
                continue  # the trader is dragging it: a tick must not pull it back
            found = shown.get(key)
            if found is None:
                line.setVisible(False)
                self.order_ids.pop(key, None)
                self._order_values.pop(key, None)
                continue
            order, trigger = found
            self.order_ids[key] = order.id
            self._order_values[key] = float(trigger)
            label = f"{name} {fmt.fmt_price(trigger, self._rules)}"
            state = (float(trigger), label)
            if state == self._line_state.get(key) and line.isVisible():
                continue
            self._line_state[key] = state
            line.setVisible(True)  # visible first: a hidden label ignores setFormat
            line.blockSignals(True)  # a programmatic move is not a drag
            line.setValue(state[0])
            line.blockSignals(False)
            line.label.setFormat(label)

    def _dragged_price(self, key: str) -> Decimal:
        places = fmt.price_decimals(self._rules)
        return Decimal(repr(float(self.lines[key].value()))).quantize(Decimal(1).scaleb(-places))

    def _on_order_line_dragging(self, key: str) -> None:
        name = ORDER_LINES[key][1]
        self.lines[key].label.setFormat(chart_text.DRAGGING.format(name=name,
                                                                   price=fmt.fmt_price(self._dragged_price(key),
                                                                                       self._rules)))

    def _on_order_line_dropped(self, key: str) -> None:
        """Propose the move, then put the line back where the order is until the venue says otherwise."""
        order_id = self.order_ids.get(key)
        price = self._dragged_price(key)
        back = self._order_values.get(key)
        line = self.lines[key]
        if back is not None:
            line.blockSignals(True)
            line.setValue(back)
            line.blockSignals(False)
            self._line_state.pop(key, None)
            line.label.setFormat(f"{ORDER_LINES[key][1]} {fmt.fmt_price(Decimal(repr(back)), self._rules)}")
        if order_id is not None and price > 0 and (back is None or float(price) != back):
            self._propose_move(order_id, price)

    def _propose_move(self, order_id: str, price: Decimal) -> None:
        """A spot position's line: the actions controller confirms it (a futures row's: ui/chart_futures.py)."""
        self.order_move_requested.emit(order_id, price)
