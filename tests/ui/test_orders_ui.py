"""Protective orders in the real window: table columns and warnings, the Orders dock's confirmed cancel, the
chart's order lines and their drag, and the Protect action from Ctrl+P and the context menu to the worker."""

from dataclasses import replace
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.orders import OrderSide, OrderType
from kraken_monitor.testing import builders
from kraken_monitor.testing.fakes import FakeMonitor, RecordingWorker
from kraken_monitor.testing.protected import order, protected_snapshot, with_orders
from kraken_monitor.text import orders as text
from kraken_monitor.ui import actions, theme
from kraken_monitor.ui.chart import ChartWidget
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.orders_dock import OrdersModel
from kraken_monitor.ui.positions_model import Column, PositionsModel
from kraken_monitor.ui.protect_dialog import ProtectDialog
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.requests import CancelOrder, ModifyOrder, PlaceOrder

D = Decimal


@pytest.fixture
def messages(monkeypatch):
    """Messages with its boxes recorded: `shown` the errors/infos, `asked` the questions, `replies` the answers."""
    m = Messages(sound_enabled=False)
    m.shown, m.asked, m.replies = [], [], []
    monkeypatch.setattr(m, "error", lambda parent, title, body: m.shown.append(("error", body)))
    monkeypatch.setattr(m, "info", lambda parent, title, body: m.shown.append(("info", body)))
    monkeypatch.setattr(m, "confirm", lambda parent, title, body: m.asked.append(body)
                        or (m.replies.pop(0) if m.replies else True))
    yield m
    m.close_all_popups()


def _window(qtbot, mode="demo", live_trading=False):
    window = MainWindow(mode)
    qtbot.addWidget(window)
    config = MonitorConfig(mode=mode, live_trading_enabled=live_trading)
    controller = actions.install(window, config)
    worker = RecordingWorker()
    session = MonitorSession(window, config, controller, lock_journal=lambda config: None)
    session.attach(FakeMonitor(worker))
    snapshot = protected_snapshot(mode=mode)
    window.show_snapshot(snapshot)
    return window, controller, worker, snapshot


def _cell(model, row, column, role=Qt.ItemDataRole.DisplayRole):
    return model.data(model.index(row, column), role)


# -- item 2: table columns and warnings ---------------------------------------------------------------

def test_stop_loss_and_take_profit_columns_show_trigger_distance_and_inferred(qtbot, qtmodeltester):
    model = PositionsModel()
    model.set_snapshot(protected_snapshot())
    qtmodeltester.check(model)
    # BTC long at 64,250.3: stop 58,000.0 is (64,250.3 - 58,000) / 64,250.3 = 9.728 % away, the take-profit
    # 70,000.0 is (70,000 - 64,250.3) / 64,250.3 = 8.949 % away.
    assert _cell(model, 0, Column.STOP_LOSS) == "58,000.0 (9.73 %)"
    assert _cell(model, 0, Column.TAKE_PROFIT) == "70,000.0 (8.95 %)"
    assert _cell(model, 0, Column.PROTECTION) == "ok"
    # ETH short at 3,120.45: the trailing buy stop's live 3,200.00 is 79.55 / 3,120.45 = 2.549 % above; Kraken
    # omitted reduce_only and the monitor inferred it.
    assert _cell(model, 1, Column.STOP_LOSS) == "3,200.00 (2.55 %), inferred"
    assert text.INFERRED_TIP in _cell(model, 1, Column.STOP_LOSS, Qt.ItemDataRole.ToolTipRole)
    assert _cell(model, 1, Column.TAKE_PROFIT) == "\u2013"
    # XRP has no order: unprotected, in the cell and its tooltip.
    assert _cell(model, 2, Column.PROTECTION) == "no stop-loss"
    assert _cell(model, 2, Column.PROTECTION, Qt.ItemDataRole.ToolTipRole) == text.WARNING_TEXT[text.UNPROTECTED]
    assert model.headerData(Column.STOP_LOSS, Qt.Orientation.Horizontal) == "Stop-loss"


def test_stop_beyond_liquidation_and_orders_exceeding_the_position_are_warned(qtbot):
    model = PositionsModel()
    # The BTC long liquidates at 31,099.9: a stop at 30,000 never fires first; two 0.5 stops on 0.5 BTC exceed it.
    snap = with_orders(builders.snapshot(), order("S1", trigger="30000.0"), order("S2", trigger="57000.0"))
    model.set_snapshot(snap)
    cell = _cell(model, 0, Column.PROTECTION)
    assert cell == "orders > position"  # the nearest stop (57,000) is above liquidation
    snap = with_orders(builders.snapshot(), order("S1", trigger="30000.0"))
    model.set_snapshot(snap)
    assert _cell(model, 0, Column.PROTECTION) == "stop past liquidation"
    tip = _cell(model, 0, Column.STOP_LOSS, Qt.ItemDataRole.ToolTipRole)
    assert text.WARNING_TEXT[text.STOP_BEYOND_LIQUIDATION] in tip and "Net P&L if it fills" in tip


def test_a_new_risk_recolours_the_whole_row_even_when_order_columns_change_too(qtbot):
    model = PositionsModel()
    model.set_snapshot(protected_snapshot())
    changes = []
    model.dataChanged.connect(lambda tl, br, roles: changes.append((tl.column(), br.column())))
    model.set_snapshot(protected_snapshot(risks={"TXA-1": builders.Risk.WARNING}, prices=dict(
        builders.PRICES, **{"BTC/USD": D("64000.0")})))
    # The stop and take-profit distances moved with the price (column 19 > Risk): the risk still recolours from 0.
    assert changes and changes[-1][0] == 0 and changes[-1][1] >= Column.TAKE_PROFIT


# -- item 1: the Orders dock ---------------------------------------------------------------------------

def test_orders_dock_lists_attached_and_unattached_orders(qtbot, qtmodeltester):
    model = OrdersModel()
    model.set_snapshot(protected_snapshot())
    qtmodeltester.check(model)
    ids = [o.id for o in model.orders()]
    assert ids == ["OSL-1", "OTP-1", "OTS-2", "OLO-9"]  # by position, then the loose one
    keys = [key for key, _ in text.ORDER_COLUMNS]
    loose = 3
    assert _cell(model, loose, keys.index("position")) == text.UNATTACHED
    assert _cell(model, loose, keys.index("position"), Qt.ItemDataRole.BackgroundRole) is not None
    assert _cell(model, 2, keys.index("reduce_only")) == "yes (inferred)"
    assert _cell(model, 2, keys.index("trigger")) == "trails 2.00 %, stop now 3,200.00"
    assert _cell(model, 0, keys.index("distance")) == "9.73 %"


def test_dock_cancel_is_sent_only_after_a_yes(qtbot, messages):
    window, controller, worker, snapshot = _window(qtbot)
    dock = window.orders_dock
    dock.select_order("OTP-1")
    messages.replies.append(False)
    dock.cancel_button.click()
    assert worker.requests == []  # declined: nothing sent
    assert "Cancel this order on position TXA-1" in messages.asked[-1]
    assert "Take-profit sell 0.50000000 BTC at 70,000.0 (last trade) (order OTP-1)" in messages.asked[-1]
    dock.cancel_action.trigger()  # Del in the table
    assert worker.requests == [CancelOrder("OTP-1", "BTC/USD")]


def test_dock_cancel_is_refused_while_live_trading_is_off(qtbot, messages):
    window, controller, worker, snapshot = _window(qtbot, mode="live", live_trading=False)
    window.orders_dock.select_order("OSL-1")
    window.orders_dock.cancel_button.click()
    assert worker.requests == [] and messages.asked == []
    assert messages.shown == [("error", text.LIVE_TRADING_OFF)]


# -- item 3: the Protect action ------------------------------------------------------------------------

def _fill_and_accept(fill):
    """A stand-in for exec(): type into the real dialog, press OK (which asks), return what OK did."""
    def run(dialog):
        fill(dialog)
        dialog.accept()
        return dialog.result()
    return run


def test_ctrl_p_places_the_confirmed_order_and_nothing_before(qtbot, messages, monkeypatch):
    window, controller, worker, snapshot = _window(qtbot)
    window.positions_view.select_position("TXA-1")
    monkeypatch.setattr(ProtectDialog, "exec", _fill_and_accept(lambda d: d.trigger_edit.setText("61000")))
    messages.replies.append(False)
    window.action_protect.trigger()
    assert worker.requests == []  # the dialog's confirmation said no
    assert window.action_protect.shortcut().toString() == "Ctrl+P"
    assert window.action_protect in window.positions_view.actions()  # the table's context menu
    window.action_protect.trigger()
    assert len(worker.requests) == 1 and isinstance(worker.requests[0], PlaceOrder)
    spec = worker.requests[0].spec
    assert (spec.position_id, spec.type, spec.side, spec.volume, spec.trigger_price) == (
        "TXA-1", OrderType.STOP_LOSS, OrderSide.SELL, D("0.5"), D("61000"))


def test_dock_modify_opens_the_dialog_on_that_order(qtbot, messages, monkeypatch):
    window, controller, worker, snapshot = _window(qtbot)
    monkeypatch.setattr(ProtectDialog, "exec", _fill_and_accept(lambda d: d.trigger_edit.setText("71000")))
    window.orders_dock.select_order("OTP-1")
    window.orders_dock.modify_button.click()
    assert len(worker.requests) == 1 and isinstance(worker.requests[0], ModifyOrder)
    assert worker.requests[0].order_id == "OTP-1" and worker.requests[0].spec.trigger_price == D("71000")


def test_a_dialog_closed_without_ok_sends_nothing(qtbot, messages, monkeypatch):
    window, controller, worker, snapshot = _window(qtbot)
    monkeypatch.setattr(ProtectDialog, "exec", lambda dialog: QDialog.DialogCode.Rejected)
    window.action_protect.trigger()
    assert worker.requests == [] and messages.asked == []


# -- item 4: chart lines and drag ----------------------------------------------------------------------

def test_chart_draws_order_lines_at_their_triggers_apart_from_risk_lines(qtbot):
    chart = ChartWidget()
    qtbot.addWidget(chart)
    snap = protected_snapshot()
    chart.append_snapshot(snap)
    chart.show_position(snap.positions[0], snap)
    lines = chart.visible_line_values()
    assert lines["stop_loss"] == 58000.0 and lines["take_profit"] == 70000.0
    assert "trailing" not in lines
    assert chart.lines["stop_loss"].label.toPlainText() == "stop-loss 58,000.0"
    pens = {key: chart.lines[key].pen for key in ("stop_loss", "take_profit", "margin_call", "liquidation")}
    assert pens["stop_loss"].style() == Qt.PenStyle.DashLine and pens["liquidation"].style() == Qt.PenStyle.SolidLine
    assert len({pen.color().name() for pen in pens.values()}) == 4
    assert pens["stop_loss"].color().name() == theme.LINE_STOP_LOSS
    # The y range holds the order lines too (they are in visible_line_values, which the fit reads).
    _, (y_lo, y_hi) = chart.price_plot.getViewBox().viewRange()
    assert y_lo <= 58000.0 and y_hi >= 70000.0
    chart.show_position(snap.positions[1], snap)  # ETH short: the trailing stop's live stop price
    lines = chart.visible_line_values()
    assert lines["trailing"] == 3200.0 and "stop_loss" not in lines and "take_profit" not in lines
    assert chart.lines["trailing"].pen.style() == Qt.PenStyle.DotLine
    assert not chart.lines["trailing"].movable and chart.lines["stop_loss"].movable


def test_dragging_a_stop_line_proposes_a_modify_and_the_line_waits_for_the_venue(qtbot):
    chart = ChartWidget()
    qtbot.addWidget(chart)
    snap = protected_snapshot()
    chart.append_snapshot(snap)
    chart.show_position(snap.positions[0], snap)
    line = chart.lines["stop_loss"]
    line.setValue(59000.04)  # what a drag does on each mouse move
    assert line.label.toPlainText().startswith("stop-loss \u2192 59,000.0")
    with qtbot.waitSignal(chart.order_move_requested) as moved:
        line.sigPositionChangeFinished.emit(line)  # the button released
    assert moved.args == ["OSL-1", D("59000.0")]  # at XBTUSD's 1 decimal
    assert line.value() == 58000.0  # back on the order until a snapshot carries the new trigger


def test_a_dropped_line_reaches_the_worker_only_after_the_confirmation(qtbot, messages):
    window, controller, worker, snapshot = _window(qtbot)
    window.positions_view.select_position("TXA-1")
    chart = window.chart
    messages.replies.append(False)
    chart.order_move_requested.emit("OSL-1", D("59000.0"))
    assert worker.requests == []
    assert "Move the stop-loss of position TXA-1" in messages.asked[-1] and "from 58,000.0 to 59,000.0" in messages.asked[-1]
    chart.order_move_requested.emit("OSL-1", D("59000.0"))
    assert len(worker.requests) == 1 and isinstance(worker.requests[0], ModifyOrder)
    assert worker.requests[0].order_id == "OSL-1" and worker.requests[0].spec.trigger_price == D("59000.0")
    # Dragged past the price (64,250.3): a sell stop there would fire at once, refused before any question.
    asked = len(messages.asked)
    chart.order_move_requested.emit("OSL-1", D("65000.0"))
    assert len(worker.requests) == 1 and len(messages.asked) == asked
    assert "would fire at once" in messages.shown[-1][1]


def test_a_stale_order_line_hides_when_the_order_is_gone(qtbot):
    chart = ChartWidget()
    qtbot.addWidget(chart)
    snap = protected_snapshot()
    chart.show_position(snap.positions[0], snap)
    assert "stop_loss" in chart.visible_line_values()
    bare = replace(builders.snapshot(), as_of=builders.NOW)
    chart.append_snapshot(bare)
    assert "stop_loss" not in chart.visible_line_values() and "take_profit" not in chart.visible_line_values()
