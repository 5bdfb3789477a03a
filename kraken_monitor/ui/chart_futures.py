"""The chart on a Kraken Futures row (issue 16 item 4): the contract's mark history, entry, liquidation and orders.

A mixin of `ChartWidget`. Futures books feed per-contract mark buffers (keyed by the unified symbol,
"BTC/USD:USD", which never equals a spot pair) and the futures account's margin level; a selected futures
row draws its entry, its liquidation price ("(est.)" when it is ours, "(Kraken)" when Kraken's) and its
stop-loss / take-profit / trailing lines in the spot styles (ui/chart_orders.py). Kraken Futures has no
margin call: no such line; the margin pane shows the futures margin level with the domain's bands
(liquidation at 100 %, the call-equivalent 40 pp above it: domain/futures.py). A stale book shades the
chart, names the reason in the title, marks the liquidation line "STALE, last read" and pins the order
lines (a drag is refused anyway: ui/futures_chart_move.py). A dropped futures line emits
`futures_order_move_requested(row id, order id, trigger)`; the window confirms and routes it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pyqtgraph as pg

from kraken_monitor.domain.futures import CALL_EQUIVALENT_PP, LIQUIDATION_LEVEL, FuturesBook
from kraken_monitor.domain.models import FUTURES_KEY_PREFIX, PairRules, Risk
from kraken_monitor.text import futures_chart as words
from kraken_monitor.text import numbers as fmt
from kraken_monitor.ui.chart_features import MAX_STALE_REGIONS, STALE_BRUSH
from kraken_monitor.ui.positions_futures import FuturesRow, format_rules

FUTURES_BANDS = (float(LIQUIDATION_LEVEL), float(LIQUIDATION_LEVEL + CALL_EQUIVALENT_PP))


class ChartFutures:
    """Mixed into ChartWidget before ChartFeatures; `_init_futures()` runs at the end of its __init__."""

    def _init_futures(self) -> None:
        self.futures_rules: dict[str, PairRules] = {}  # contract -> its price places (from the tick size)
        self.futures_margin = type(self.margin_buffer)()  # the futures account's margin level
        self.futures_row: FuturesRow | None = None
        self.futures_stale_reason: str | None = None  # None: the last futures book was fresh
        self.futures_stale_regions: list[pg.LinearRegionItem] = []
        self._futures_stale_since: float | None = None
        self._futures_view: bool | None = None  # what the margin pane and shading were last set up for

    def is_futures_selected(self) -> bool:
        return (self.selected_id or "").startswith(FUTURES_KEY_PREFIX)

    @staticmethod
    def is_futures_pair(pair: str) -> bool:
        return ":" in pair  # ccxt's unified futures symbols settle in a currency ("BTC/USD:USD"); spot pairs never

    # --- feeding -------------------------------------------------------------------------------
    def append_futures_book(self, book: FuturesBook) -> None:
        """Every futures read: fresh marks and margin level into their buffers; a stale one shades the chart."""
        ts = book.as_of.timestamp()
        if book.stale:
            self.futures_stale_reason = book.stale_reason
            self._shade_futures_stale(ts)
        else:
            self.futures_stale_reason = None
            self._futures_stale_since = None
            for pf in book.positions:
                self.buffer(pf.position.pair).append(ts, float(pf.mark_price))
            for pair, contract in book.contracts.items():
                self.futures_rules[pair] = _rules(pair, contract.tick_size)
            contracts = sorted({pf.position.pair for pf in book.positions} | set(book.contracts))
            if contracts != self.controls.extra_pairs:  # the pair picker lists them after the spot pairs
                self.controls.extra_pairs = contracts
                spot = [self.controls.pair_box.itemText(i) for i in range(self.controls.pair_box.count())]
                self.controls.set_pairs([p for p in spot if not self.is_futures_pair(p)], self.selected_pair)
            if book.account is not None and book.account.margin_level is not None:
                self.futures_margin.append(ts, float(book.account.margin_level))
        if self.is_futures_selected():
            self._redraw()

    def _shade_futures_stale(self, ts: float) -> None:
        if self._futures_stale_since is None:
            self._futures_stale_since = ts
            region = pg.LinearRegionItem(values=(ts, ts), orientation="vertical", movable=False,
                                         brush=STALE_BRUSH, pen=pg.mkPen(None))
            region.setToolTip(words.STALE_TIP)
            region.setVisible(self.is_futures_selected())
            self.price_plot.addItem(region, ignoreBounds=True)
            self.futures_stale_regions.append(region)
            if len(self.futures_stale_regions) > MAX_STALE_REGIONS:
                self.price_plot.removeItem(self.futures_stale_regions.pop(0))
        self.futures_stale_regions[-1].setRegion((self._futures_stale_since, ts))

    # --- the selected futures row ----------------------------------------------------------------
    def show_futures(self, row: FuturesRow) -> None:
        """Draw `row`'s contract: its marks, entry, liquidation and protective-order lines (stale: marked)."""
        pair = row.position.pair
        changed = pair != self.selected_pair
        self.selected_id, self.selected_pair, self.selected_isolated = row.position.id, pair, False
        self.futures_row = row
        self._rules = self.futures_rules.get(pair) or format_rules(row)
        stale = row.risk is Risk.UNKNOWN
        reason = (self.futures_stale_reason or "") if stale else None
        title = words.title(pair, row.account, row.position.side.value, words.volume(row.remaining_volume),
                            fmt.fmt_price(row.entry_price, self._rules), reason)
        if title != self._drawn.get("title"):
            self._drawn["title"] = title
            self.price_plot.setTitle(title)
        self._put_line("entry", row.entry_price, f"entry {fmt.fmt_price(row.entry_price, self._rules)}")
        self._put_line("break_even", None, "")  # Kraken Futures has no cost basis / break-even
        self._put_line("margin_call", None, "")  # ... and no margin call
        liquidation = row.liquidation_price
        self._put_line("liquidation", liquidation, words.liquidation_label(
            row.estimate, fmt.fmt_price(liquidation, self._rules), stale) if liquidation is not None else "")
        figures = row.figures if row.figures.orders is not None else replace(row.figures, orders=())
        self._set_order_lines(figures)  # type: ignore[arg-type]  # the spot names protection.nearest reads
        for key in ("stop_loss", "take_profit"):
            self.lines[key].setMovable(not stale)  # figures this old move nothing
        if changed:
            self._pair_changed()
        self._redraw()

    def _put_line(self, key: str, value: Decimal | None, label: str) -> None:
        line = self.lines[key]
        if value is None or value <= 0:
            line.setVisible(False)
            self._line_state[key] = None
            return
        state = (float(value), label)
        if state == self._line_state.get(key) and line.isVisible():
            return
        self._line_state[key] = state
        line.setVisible(True)  # visible first: a hidden label ignores setFormat
        line.setValue(state[0])
        line.label.setFormat(label)

    def _propose_move(self, order_id: str, price: Decimal) -> None:
        """A dropped order line: a futures row's goes to the futures route, a spot one to the spot route."""
        if self.is_futures_selected():
            self.futures_order_move_requested.emit(self.selected_id, order_id, price)
        else:
            super()._propose_move(order_id, price)  # type: ignore[misc]

    # --- what the panes show ---------------------------------------------------------------------
    def margin_source(self):
        """The margin pane's buffer: the futures account's level on a futures row (its bands set up), else spot's."""
        futures = self.is_futures_selected()
        if futures != self._futures_view:
            self._futures_view = futures
            for region in self.futures_stale_regions:
                region.setVisible(futures)
            for region in self.stale_regions:
                region.setVisible(not futures)
            self.margin_plot.setLabel("left", words.MARGIN_AXIS if futures else words.SPOT_MARGIN_AXIS)
        bands = FUTURES_BANDS if futures else self._drawn.get("bands")
        shown = (float(self.liquidation_band.getRegion()[1]), float(self.call_band.getRegion()[1]))
        if bands is not None and tuple(bands) != shown:
            self.liquidation_band.setRegion((0, bands[0]))
            self.call_band.setRegion(bands)
        if futures:
            return self.futures_margin
        return super().margin_source()  # type: ignore[misc]

    def futures_line_state(self) -> dict[str, tuple[float, str] | None]:
        """What each line shows now (tests and screenshots read it): key -> (price, label) or None."""
        return {key: ((float(line.value()), str(line.label.format)) if line.isVisible() else None)
                for key, line in self.lines.items()}


def _rules(pair: str, tick: Decimal | None) -> PairRules:
    base, _, rest = pair.partition("/")
    places = fmt.DEFAULT_PRICE_DECIMALS
    if tick is not None and tick > 0:
        exponent = tick.normalize().as_tuple().exponent
        places = max(0, -exponent) if isinstance(exponent, int) else places
    return PairRules(pair, base, rest.split(":")[0] or "USD", Decimal(0), Decimal(0), price_decimals=places,
                     volume_decimals=4)
