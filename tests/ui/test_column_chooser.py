"""The positions table's column chooser: hide what a trader does not watch, bring it back, remembered by the layout."""

from __future__ import annotations

from kraken_monitor.testing import builders as S
from kraken_monitor.ui.column_chooser import SHOW_ALL
from kraken_monitor.ui.positions_columns import HEADERS
from kraken_monitor.ui.positions_model import Column


def _entries(window) -> dict[str, object]:
    window.column_chooser.rebuild()
    # iconText(): the words the menu shows (text() keeps "&&", the escape for a literal "&").
    return {a.iconText(): a for a in window.column_chooser.menu.actions() if a.text()}


def test_the_view_menu_lists_every_column_in_the_order_the_table_shows_them(make_window):
    window = make_window()
    header = window.positions_view.horizontalHeader()
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.column_chooser.menu in [a.menu() for a in view_menu.actions()]
    window.column_chooser.rebuild()
    names = [a.iconText() for a in window.column_chooser.menu.actions() if a.isCheckable()]
    assert names == [HEADERS[Column(header.logicalIndex(v))] for v in range(header.count())]
    assert "P&L" in names and "Fees & rollovers" in names  # shown as written, not as a shortcut letter
    assert all(a.isChecked() for a in window.column_chooser.menu.actions() if a.isCheckable())
    assert not _entries(window)[SHOW_ALL].isEnabled()  # nothing is hidden yet


def test_unticking_a_column_hides_it_and_the_pair_cannot_be_hidden(make_window):
    window = make_window()
    window.show()
    window.positions_model.set_snapshot(S.snapshot())
    header = window.positions_view.horizontalHeader()
    entries = _entries(window)
    entries[HEADERS[Column.COST]].setChecked(False)
    assert header.isSectionHidden(Column.COST)
    assert not entries[HEADERS[Column.PAIR]].isEnabled()
    window.column_chooser.set_shown(Column.PAIR, False)
    assert not header.isSectionHidden(Column.PAIR)
    entries = _entries(window)  # rebuilt as the menu opens: the tick follows the header
    assert not entries[HEADERS[Column.COST]].isChecked()
    assert entries[SHOW_ALL].isEnabled()
    entries[SHOW_ALL].trigger()
    assert window.column_chooser.hidden() == []
    assert header.sectionSize(Column.COST) > 0


def test_a_hidden_column_stays_hidden_in_the_next_window(make_window):
    first = make_window()
    first.show()
    first.column_chooser.set_shown(Column.NEXT_ROLLOVER, False)
    first.column_chooser.set_shown(Column.FEES, False)
    first.close()
    second = make_window()
    assert second.restored
    assert second.column_chooser.hidden() == [Column.FEES, Column.NEXT_ROLLOVER]
    assert not _entries(second)[HEADERS[Column.FEES]].isChecked()


def test_hiding_columns_brings_the_protective_orders_into_view_at_1400_px(make_window, qtbot):
    window = make_window()
    window.resize(1400, 860)
    window.show()
    window.positions_model.set_snapshot(S.snapshot())
    view = window.positions_view
    view.fit_columns()
    header = view.horizontalHeader()

    def right_edge(column: Column) -> int:
        return header.sectionViewportPosition(column) + header.sectionSize(column)

    assert right_edge(Column.PROTECTION) > view.viewport().width()  # off the first screen with every column
    for column in (Column.MARGIN_CALL_PRICE, Column.RISK):
        window.column_chooser.set_shown(column, False)
    qtbot.waitUntil(lambda: right_edge(Column.PROTECTION) <= view.viewport().width(), timeout=1000)
    assert not header.isSectionHidden(Column.PROTECTION)


def test_fit_columns_and_ticks_keep_a_hidden_column_hidden(make_window, qtbot):
    window = make_window()
    window.show()
    window.positions_model.set_snapshot(S.snapshot())
    window.column_chooser.set_shown(Column.FEES, False)
    window.action_fit_columns.trigger()  # Ctrl+0: sizes every column to its contents
    window.positions_model.set_snapshot(S.snapshot())  # a tick: the view widens what it shows
    window.positions_view.widen_to_fit()
    header = window.positions_view.horizontalHeader()
    assert header.isSectionHidden(Column.FEES)
    assert window.column_chooser.hidden() == [Column.FEES]
