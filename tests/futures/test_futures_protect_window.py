"""Protect position on a futures row in a real offscreen window: the dialog, the poller, the cells, the Orders dock."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from PySide6.QtWidgets import QApplication

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.orders import TriggerSignal
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.demo_market import DemoMarket
from kraken_monitor.exchange.paper_futures import PaperFuturesExchange
from kraken_monitor.text.futures_orders import NO_TRAILING_LIMIT
from kraken_monitor.ui.futures_protect import FuturesProtectDialog, _capabilities
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.positions_model import Column
from kraken_monitor.worker.futures_snapshot import read_futures_book
from tests.futures.test_futures_window import _cell, _futures_rows, _select, _session, _when_dialog

D = Decimal


@pytest.fixture
def asked(monkeypatch):
    """Messages.confirm, the one seam: records each question and says yes."""
    questions: list[str] = []
    messages = Messages(sound_enabled=False)
    monkeypatch.setattr(messages, "confirm", lambda parent, title, question: questions.append(question) or True)
    return questions


def test_protect_a_futures_row_then_cancel_it_from_the_orders_dock(qtbot, tmp_path, asked):
    window, session = _session(qtbot, tmp_path, PaperFuturesExchange.demo)
    try:
        qtbot.waitUntil(lambda: len(_futures_rows(window)) == 2, timeout=5000)
        assert _cell(window, "ETH/USD:USD", Column.PROTECTION) == "no stop-loss"  # the demo's unprotected short
        _select(window, "ETH/USD:USD")
        assert window.action_protect.isEnabled()  # Ctrl+P works on a futures row
        seen = {}

        def place(dialog):
            seen["type"], seen["trigger"] = type(dialog), dialog.trigger_box.currentData()
            mark = dialog.figures.mark_price
            dialog.trigger_edit.setText(str((mark * D("1.1")).quantize(D(1))))  # a buy stop 10 % above the mark
            dialog.accept()

        _when_dialog(place)
        window.action_protect.trigger()
        bar = window.futures_bar
        qtbot.waitUntil(lambda: "placed" in bar.outcome_label.text(), timeout=5000)
        assert seen == {"type": FuturesProtectDialog, "trigger": TriggerSignal.MARK}  # mark by default
        assert "futures demo contract PF_ETHUSD" in asked[-1] and "Stop-loss buy 2.0000 ETH" in asked[-1]
        qtbot.waitUntil(lambda: _cell(window, "ETH/USD:USD", Column.PROTECTION) == "ok", timeout=5000)
        dock = window.orders_dock
        stop_row = next(r for r in range(dock.model.rowCount())
                        if dock.model.order_at(r).pair == "ETH/USD:USD")
        dock.view.selectRow(stop_row)
        dock.cancel_button.click()
        assert "Cancel this order on futures demo contract PF_ETHUSD" in asked[-1]
        qtbot.waitUntil(lambda: "cancelled" in bar.outcome_label.text(), timeout=5000)
        qtbot.waitUntil(lambda: _cell(window, "ETH/USD:USD", Column.PROTECTION) == "no stop-loss", timeout=5000)
        assert all(dock.model.order_at(r).pair != "ETH/USD:USD" for r in range(dock.model.rowCount()))
    finally:
        session.stop()


def _book():
    demo = PaperFuturesExchange.demo(DemoMarket(("BTC/USD", "ETH/USD"), seed=7))
    return read_futures_book(demo, AlertThresholds(), datetime.now(timezone.utc))


def test_the_dialog_refuses_what_futures_cannot_do_and_live_without_trading(qtbot):
    book = _book()
    eth = book.positions[1]
    dialog = FuturesProtectDialog(book, eth.position.id, AccountKind.DEMO, _capabilities(AccountKind.DEMO),
                                  account="futures demo")
    qtbot.addWidget(dialog)
    dialog.trail_radio.setChecked(True)
    dialog.limit_radio.setChecked(True)
    dialog.offset_edit.setText("50")
    dialog.limit_edit.setText("5")
    assert not dialog.ok_button.isEnabled() and dialog.footer.reason_label.text() == NO_TRAILING_LIMIT
    live = FuturesProtectDialog(book, eth.position.id, AccountKind.LIVE, _capabilities(AccountKind.LIVE),
                                live_trading_enabled=False, account="futures live")
    qtbot.addWidget(live)
    live.trigger_edit.setText("3500")
    assert not live.ok_button.isEnabled() and "live trading" in live.footer.reason_label.text().lower()


def test_the_preview_judges_the_stop_against_the_futures_liquidation(qtbot):
    book = _book()
    eth = book.positions[1]  # demo: short 2 ETH isolated at 5x from 2 % above the mark
    dialog = FuturesProtectDialog(book, eth.position.id, AccountKind.DEMO, _capabilities(AccountKind.DEMO),
                                  account="futures demo")
    qtbot.addWidget(dialog)
    past = (eth.liquidation_price + 10).quantize(D(1))
    dialog.trigger_edit.setText(str(past))
    assert "Fires only past liquidation" in dialog.zone_label.text()
    assert "stop_beyond_liquidation" in dialog.preview_result.warnings
    before = (eth.liquidation_price - 10).quantize(D(1))
    dialog.trigger_edit.setText(str(before))
    assert dialog.zone_label.text().startswith("Fires before liquidation")
    # P&L at the stop: -2 x (stop - entry) - 2 x stop x 0.05 % (the futures taker fee); funding 0 in the demo ETH
    expected = -2 * (before - eth.position.entry_price) - 2 * before * D("0.0005")
    assert dialog.preview_result.pnl_at_trigger == expected


def test_screenshots(qtbot, tmp_path):
    """Light and dark renders of the futures Protect dialog (looked at by the developer; here: they render)."""
    from kraken_monitor.ui.resources import apply_theme

    book = _book()
    for theme in ("light", "dark"):
        apply_theme(QApplication.instance(), theme)
        dialog = FuturesProtectDialog(book, book.positions[1].position.id, AccountKind.DEMO,
                                      _capabilities(AccountKind.DEMO), account="futures demo")
        qtbot.addWidget(dialog)
        dialog.trigger_edit.setText("3500")
        dialog.show()
        path = tmp_path / f"futures_protect_{theme}.png"
        assert dialog.grab().save(str(path)) and path.stat().st_size > 10000
    apply_theme(QApplication.instance(), "light")


def test_the_controller_knows_the_config_it_was_started_with(qtbot, tmp_path):
    window, session = _session(qtbot, tmp_path, PaperFuturesExchange.demo)
    try:
        assert session.futures.config is not None and session.futures.config.mode is AccountKind.DEMO
    finally:
        session.stop()
