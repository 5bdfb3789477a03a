"""The cached-text cell painter draws what Qt's own item painting (QStyle CE_ItemViewItem) draws: same text place, colours, elision."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem, QTableView

from kraken_monitor.ui.cell_painter import CachedTextDelegate

RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
QSS = Path(__file__).parents[2] / "kraken_monitor" / "resources" / "light.qss"


def _ink_box(image: QImage, threshold: int = 140) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the dark pixels: where the text was drawn."""
    xs, ys = [], []
    for y in range(image.height()):
        for x in range(image.width()):
            if QColor(image.pixel(x, y)).lightness() < threshold:
                xs.append(x)
                ys.append(y)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def _paint(view: QTableView, paint, rect: QRect) -> QImage:
    image = QImage(rect.width() + 20, rect.height() + 10, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setFont(view.font())
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = rect
    option.font = view.font()
    paint(painter, option)
    painter.end()
    return image


@pytest.fixture
def view(qtbot):
    app = QApplication.instance()
    previous = app.styleSheet()
    app.setStyleSheet(QSS.read_text())  # the app's item padding: the text must sit where Qt puts it
    table = QTableView()
    qtbot.addWidget(table)
    table.show()
    yield table
    app.setStyleSheet(previous)


def _qt_paint(view: QTableView, text: str, alignment: int):
    def paint(painter: QPainter, option: QStyleOptionViewItem) -> None:
        option.text = text
        option.displayAlignment = Qt.AlignmentFlag(alignment)
        option.features = QStyleOptionViewItem.ViewItemFeature.HasDisplay
        option.textElideMode = Qt.TextElideMode.ElideRight
        view.style().drawControl(view.style().ControlElement.CE_ItemViewItem, option, painter, view)

    return paint


@pytest.mark.parametrize("alignment", [RIGHT, LEFT])
@pytest.mark.parametrize("height", [21, 22, 27])
def test_text_sits_where_qts_delegate_puts_it(view, alignment, height):
    rect = QRect(5, 3, 140, height)
    text = "-1,234.56 USD"
    qt = _ink_box(_paint(view, _qt_paint(view, text, alignment), rect))
    ours = _ink_box(_paint(view, lambda p, o: CachedTextDelegate(view).paint_look(p, o, (text, alignment, None, None)), rect))
    assert qt is not None and ours == qt


def test_background_and_row_colour_are_the_looks(view):
    rect = QRect(0, 0, 120, 24)
    look = ("12.5 %", RIGHT, QBrush(QColor(255, 200, 0)), QBrush(QColor(200, 0, 0)))
    image = _paint(view, lambda p, o: CachedTextDelegate(view).paint_look(p, o, look), rect)
    assert QColor(image.pixel(3, 3)) == QColor(255, 200, 0)  # the risk fill, corner to corner
    assert QColor(image.pixel(118, 22)) == QColor(255, 200, 0)
    reds = [QColor(image.pixel(x, y)) for x in range(120) for y in range(24)]
    assert any(c.red() > 150 and c.green() < 80 and c.blue() < 80 for c in reds)  # the text in the row's colour


def test_a_text_too_wide_is_elided_like_qt_and_a_wide_enough_one_is_not(view):
    delegate = CachedTextDelegate(view)
    text = "ETH/USD:USD · isolated"
    narrow, wide = QRect(0, 0, 60, 24), QRect(0, 0, 300, 24)
    qt = _ink_box(_paint(view, _qt_paint(view, text, LEFT), narrow))
    ours = _ink_box(_paint(view, lambda p, o: delegate.paint_look(p, o, (text, LEFT, None, None)), narrow))
    assert ours == qt and ours[2] < 60  # cut to the column, ending in the ellipsis as Qt's does
    full = _ink_box(_paint(view, lambda p, o: delegate.paint_look(p, o, (text, LEFT, None, None)), wide))
    assert full[2] > 100  # the whole text: the elided layout was not reused for a wider column
