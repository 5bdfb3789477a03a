"""Readable under stress: the stale banner elides and never widens the window, 'never read', 'passed', no elided money."""

from dataclasses import replace
from decimal import Decimal

from PySide6.QtCore import Qt

from kraken_monitor.domain.models import Snapshot
from kraken_monitor.testing import builders as S
from kraken_monitor.ui.positions_columns import MONEY_COLUMNS, Column, header_text


def _shown(make_window, qtbot, width=1400, height=860):
    window = make_window()
    window.resize(width, height)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_the_window_keeps_its_width_with_a_long_stale_banner(make_window, qtbot):
    window = _shown(make_window, qtbot)
    window.show_snapshot(S.snapshot())
    reason = "price feed: " + "connection refused by 203.0.113.7 after 3 retries; " * 40  # ~2,000 characters
    window.show_snapshot(replace(S.snapshot(stale=True), stale_reason=reason))
    qtbot.wait(50)
    window.layout().activate()
    banner = window.status.banner
    assert window.status.minimumSizeHint().width() <= 1400  # a plain QLabel asks for its whole text
    assert window.width() == 1400
    assert window.minimumSizeHint().width() <= 1400 and window.minimumWidth() <= 1400
    assert banner.width() < 1400
    assert banner.shown_text().endswith("\u2026")  # elided inside the status bar ...
    assert reason.strip() in banner.toolTip()  # ... with the whole text a hover away
    assert window.account_bar.risk_label.isVisible()


def test_nothing_ever_read_says_never_read_not_zero_seconds_old(make_window, qtbot):
    window = make_window()
    never = Snapshot(mode="live", as_of=S.NOW, stale=True, account=None, positions=(),
                     stale_reason="no account read yet", connection="retrying")  # fmt: skip
    window.show_snapshot(never)
    text = window.status.banner_text()
    assert text.startswith("RISK UNKNOWN: never read") and "0 s old" not in text


def test_a_margin_call_price_already_crossed_reads_passed(make_window):
    window = make_window()
    # BTC long 0.5 @ 60,000 at 5x with a 2,000 USD trade balance: the margin call price is above
    # the market, so the market has crossed it (negative distance) and the cell says so.
    snap = S.snapshot(positions=(S.scenario_position("TXA-1", "BTC/USD", S.Side.LONG, "0.5", "60000.0"),), trade_balance="2000")
    btc = snap.positions[0]
    assert btc.distance_to_margin_call_pct < 0 < btc.distance_to_liquidation_pct
    window.show_snapshot(snap)
    model = window.positions_model
    call = model.data(model.index(0, Column.MARGIN_CALL_PRICE))
    liquidation = model.data(model.index(0, Column.LIQUIDATION_PRICE))
    assert call.startswith("passed (") and f"{btc.margin_call_price:,.1f}" in call
    assert "passed" not in liquidation and "passed" not in model.data(model.index(0, Column.DISTANCE_TO_LIQUIDATION))


def test_money_headers_name_the_account_currency_and_prices_the_quote(make_window):
    window = make_window()
    window.show_snapshot(S.snapshot())
    model = window.positions_model
    assert model.headerData(Column.NET_PNL, Qt.Orientation.Horizontal) == "Net P&L (USD)"
    assert model.headerData(Column.LIQUIDATION_PRICE, Qt.Orientation.Horizontal) == "Liquidation at (USD)"  # every pair quoted in USD
    # Mixed quote currencies: each row's prices are in its own pair's quote, and the header says so.
    assert header_text(Column.ENTRY, "EUR", None) == "Entry (quote)"
    assert header_text(Column.FEES, "EUR", None) == "Fees & rollovers (EUR)"


def test_no_money_cell_elides_at_1400_px(make_window, qtbot):
    window = _shown(make_window, qtbot)
    # Big, signed amounts: a 40 BTC long far under water gives a six-figure loss in every money column.
    small = S.scenario_position("TXA-1", "BTC/USD", S.Side.LONG, "0.001", "64000.0", 2)
    window.show_snapshot(S.snapshot(positions=(small, *S.default_positions()[1:])))
    view = window.positions_view
    view.fit_columns()  # fitted to small amounts, as at start-up ...
    for column in MONEY_COLUMNS:
        view.setColumnWidth(column, 50)  # ... or a saved layout narrowed by hand
    big = S.scenario_position("TXA-1", "BTC/USD", S.Side.LONG, "40", "90000.0", 2, hours_ago=300)
    window.show_snapshot(S.snapshot(positions=(big, *S.default_positions()[1:]), trade_balance="3000000"))
    model, metrics = window.positions_model, view.fontMetrics()

    def too_narrow():
        return [c for c in MONEY_COLUMNS
                if metrics.horizontalAdvance(model.data(model.index(0, c))) + 6 > view.columnWidth(c)]  # fmt: skip

    assert too_narrow()  # the amounts outgrew their columns ...
    narrow, in_view = set(too_narrow()), set(_in_view(view))
    assert set(view.widen_to_fit()) == narrow & in_view  # ... the view widens those in view at once ...
    later = narrow - in_view
    assert later  # (at 1400 px some money columns are scrolled out of view)
    for column in sorted(later, key=view.horizontalHeader().sectionViewportPosition):
        view.scrollTo(model.index(0, column))  # ... and each other one as it comes into view
        assert column in _in_view(view) and column not in too_narrow(), column.name
    assert too_narrow() == []
    checked = 0
    for row in range(model.rowCount()):
        for column in MONEY_COLUMNS:
            text = model.data(model.index(row, column))
            # The delegate pads each cell by the style's focus-frame margin (3 px) on both sides.
            assert metrics.horizontalAdvance(text) + 6 <= view.columnWidth(column), (column.name, text)
            checked += 1
    assert checked == 3 * len(MONEY_COLUMNS)
    assert Decimal(model.data(model.index(0, Column.PNL)).replace(",", "").split()[0]) < -1_000_000


def _in_view(view) -> list:
    header, width = view.horizontalHeader(), view.viewport().width()
    return [c for c in MONEY_COLUMNS
            if header.sectionViewportPosition(c) < width and header.sectionViewportPosition(c) + view.columnWidth(c) > 0]


def test_the_selected_row_keeps_its_risk_colour_under_an_outline(make_window, qtbot):
    from PySide6.QtGui import QPalette

    from kraken_monitor.domain.models import Risk
    from kraken_monitor.ui import theme

    window = _shown(make_window, qtbot)
    window.show_snapshot(S.snapshot(risks={"TXB-2": Risk.WARNING}))
    view = window.positions_view
    view.select_position("TXB-2")
    qtbot.wait(20)
    row = window.positions_model.row_of("TXB-2")
    rect = view.visualRect(window.positions_model.index(row, Column.SIDE))
    image = view.viewport().grab().toImage()
    inside = image.pixelColor(rect.center().x(), rect.top() + rect.height() // 2 - 4)
    warning_bg, _ = theme.risk_colors(Risk.WARNING)
    highlight = view.palette().color(QPalette.ColorRole.Highlight)
    assert inside.name() == warning_bg.name() != highlight.name()  # the fill is the risk colour ...
    edge = image.pixelColor(rect.center().x(), rect.top() + 1)
    assert edge.name() == highlight.name()  # ... and the selection is the outline around it


def test_a_selected_stale_row_shows_its_hatch_not_the_highlight(make_window, qtbot):
    from PySide6.QtGui import QPalette

    window = _shown(make_window, qtbot)
    window.show_snapshot(S.snapshot(stale=True))
    view = window.positions_view
    view.select_position("TXB-2")
    qtbot.wait(20)
    rect = view.visualRect(window.positions_model.index(window.positions_model.row_of("TXB-2"), Column.SIDE))
    image = view.viewport().grab().toImage()
    highlight = view.palette().color(QPalette.ColorRole.Highlight).name()
    inner = {image.pixelColor(x, y).name() for x in range(rect.left() + 4, rect.left() + 20)
             for y in range(rect.top() + 4, rect.bottom() - 4)}  # fmt: skip
    assert highlight not in inner and len(inner) >= 2  # hatch: pattern and base, no highlight fill


def test_the_outline_follows_the_selected_row_when_rows_move(make_window, qtbot):
    window = _shown(make_window, qtbot)
    window.show_snapshot(S.snapshot())
    view, model = window.positions_view, window.positions_model
    view.select_position("TXC-3")
    assert view.itemDelegateForRow(model.row_of("TXC-3")) is view._outline
    model.sort(Column.PAIR, Qt.SortOrder.DescendingOrder)  # XRP first now
    row = model.row_of("TXC-3")
    assert row == 0 and view.itemDelegateForRow(row) is view._outline
    assert all(view.itemDelegateForRow(r) is not view._outline for r in range(model.rowCount()) if r != row)
