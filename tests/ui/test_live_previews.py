"""Dialog previews follow the market: real dialogs fed fresh snapshots, the isolated top-up's cross effect, limit checks.

The paper book (paper_snapshot.py): 10,000 USD funded; BTC/USD long 1 @ 20,000 at 5x (cross, margin
4,000); ETH/USD short 2 @ 2,000 at 5x (isolated, 800 allocated). Opening fees 84 + 16 (and the 800
allocation) leave the cross trade balance at 10,000 - 800 - 84 - 16 = 9,100 USD, so the cross level
is 9,100 / 4,000 = 227.5 %.
"""

from dataclasses import replace
from decimal import Decimal

from PySide6.QtWidgets import QDialog

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain import whatif
from kraken_monitor.testing.builders import paper_exchange, position_id, snapshot_of
from kraken_monitor.ui.actions import ActionsController, capabilities_for_mode
from kraken_monitor.ui.add_margin_dialog import AddMarginDialog, _level
from kraken_monitor.ui.close_dialog import CloseDialog
from kraken_monitor.ui.messages import Messages

PAPER = capabilities_for_mode("paper")


def test_add_collateral_preview_recomputes_on_every_snapshot_and_warns_after_a_1pct_move(qtbot):
    exchange, prices = _book()
    first = snapshot_of(exchange)
    dialog = AddMarginDialog(first, None, "paper", PAPER)
    qtbot.addWidget(dialog)
    dialog.amount_edit.setText("1000")
    assert dialog.level_label.text() == "227.5 % -> 252.5 %"  # (9,100 + 1,000) / 4,000
    assert "Preview as of" in dialog.preview_status.as_of_label.text()
    assert dialog.preview_status.warning_label.isHidden()

    prices["BTC/USD"] = Decimal("20100")  # +0.5 %: recomputed, no warning yet
    dialog.set_snapshot(snapshot_of(exchange))
    assert dialog.level_label.text() == "230.0 % -> 255.0 %"  # equity 9,100 + 100 upnl
    assert dialog.preview_status.warning_label.isHidden()

    prices["BTC/USD"] = Decimal("19700")  # -1.5 % since the dialog opened
    dialog.set_snapshot(snapshot_of(exchange))
    assert dialog.level_label.text() == "220.0 % -> 245.0 %"  # (9,100 - 300) / 4,000; + 1,000
    warning = dialog.preview_status.warning_label.text()
    assert not dialog.preview_status.warning_label.isHidden()
    assert "BTC/USD is down 1.5 %" in warning
    assert dialog.preview_result == whatif.deposit(
        snapshot_of(exchange).account_state(), {"BTC/USD": Decimal(19700), "ETH/USD": Decimal(2000)},
        first.pair_rules, Decimal(1000),
    )  # fmt: skip


def test_isolated_top_up_shows_the_cross_account_losing_the_same_collateral(qtbot):
    exchange, _ = _book()
    snapshot = snapshot_of(exchange)
    pid = position_id(snapshot, "ETH/USD")
    dialog = AddMarginDialog(snapshot, pid, "paper", PAPER)
    qtbot.addWidget(dialog)
    assert "Only this position's liquidation price moves" not in dialog.intro.text()
    assert "cross account" in dialog.intro.text()
    dialog.amount_edit.setText("250")
    # Cross: (9,100 - 250) / 4,000 = 221.25 %; BTC long liquidation P = E - (TB - 0.4 M) / V:
    # before 20,000 - (9,100 - 1,600) = 12,500, after 20,000 - (8,850 - 1,600) = 12,750.
    assert dialog.cross_result.margin_level == Decimal("221.25")
    assert dialog.cross_level_label.text() == f"227.5 % -> {_level(Decimal('221.25'))}"
    assert dialog.cross_prices_label.text() == "BTC/USD 12,500.0 -> 12,750.0"
    expected = whatif.add_isolated_margin(snapshot.account_state(), snapshot.prices(), snapshot.pair_rules, pid,
                                          Decimal(250))  # fmt: skip
    assert dialog.preview_result == expected and f"{expected.liquidation_price:,.2f}" in dialog.liquidation_label.text()


def test_a_position_gone_while_the_dialog_is_open_refuses_ok(qtbot):
    exchange, _ = _book()
    snapshot = snapshot_of(exchange)
    pid = position_id(snapshot, "BTC/USD")
    dialog = CloseDialog(snapshot, pid, "paper", PAPER)
    qtbot.addWidget(dialog)
    assert dialog.ok_button.isEnabled()
    gone = replace(snapshot, positions=tuple(pf for pf in snapshot.positions if pf.position.id != pid))
    dialog.set_snapshot(gone)
    assert not dialog.ok_button.isEnabled()
    assert f"Position {pid} is no longer open." in dialog.reason_label.text()


def test_close_preview_follows_the_price(qtbot):
    exchange, prices = _book()
    snapshot = snapshot_of(exchange)
    dialog = CloseDialog(snapshot, position_id(snapshot, "BTC/USD"), "paper", PAPER)
    qtbot.addWidget(dialog)
    before = dialog.preview_result.net_realized
    prices["BTC/USD"] = Decimal("21000")  # +5 %: +1,000 upnl on 1 BTC
    dialog.set_snapshot(snapshot_of(exchange))
    after = dialog.preview_result.net_realized
    # The closing taker fee grows with the value too: 0.4 % of 21,000 vs of 20,000 = 4 more.
    assert after - before == Decimal(1000) - Decimal("0.0040") * Decimal(1000)
    assert "BTC/USD is up 5.0 %" in dialog.preview_status.warning_label.text()


def test_a_limit_that_would_not_fill_soon_is_flagged_before_the_confirmation(qtbot, monkeypatch):
    exchange, _ = _book()
    snapshot = snapshot_of(exchange)
    dialog = CloseDialog(snapshot, position_id(snapshot, "BTC/USD"), "paper", PAPER)
    qtbot.addWidget(dialog)
    dialog.limit_radio.setChecked(True)
    dialog.limit_edit.setText("22500")  # selling a long 12.5 % above the 20,000 bid: rests, far away
    warning = dialog.limit_warning.text()
    assert not dialog.limit_warning.isHidden()
    assert "will not fill now" in warning and "rise 12.5 %" in warning and "may never fill" in warning
    assert "only if the price reaches the limit" in dialog.pnl_label.text()
    asked = []
    monkeypatch.setattr(Messages.instance(), "confirm", lambda parent, title, text: asked.append(text) or False)
    dialog.accept()
    assert asked and "Warning: This limit will not fill now" in asked[0]

    dialog.limit_edit.setText("20500")  # 2.5 % above: rests, but not "may never fill"
    assert "will not fill now" in dialog.limit_warning.text() and "never" not in dialog.limit_warning.text()
    dialog.limit_edit.setText("19500")  # below the bid: fills at once near the market, no warning
    assert dialog.limit_warning.isHidden() and dialog.limit_warning.text() == ""
    assert "fills at once at the market price" in dialog.pnl_label.text()
    dialog.limit_edit.setText("17000")  # 15 % below: fills at once, far from the trader's limit
    assert "15.0 % below the market" in dialog.limit_warning.text()


def test_the_controller_feeds_the_open_dialog_the_windows_snapshots(qtbot, make_window, monkeypatch):
    exchange, prices = _book()
    window = make_window("paper")
    controller = ActionsController(MonitorConfig(mode="paper"), parent_widget=window, capabilities=PAPER)
    controller.connect_window(window)
    window.show_snapshot(snapshot_of(exchange))
    seen = []

    def exec_while_the_market_moves(self):
        seen.append(self.level_label.text())
        prices["BTC/USD"] = Decimal("19000")
        window.show_snapshot(snapshot_of(exchange))  # the next poll arrives while the dialog is open
        seen.append(self.level_label.text())
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(AddMarginDialog, "exec", exec_while_the_market_moves)
    controller.open_add_margin(account=True)
    # 9,100 / 4,000 = 227.5 %; after BTC -1,000: 8,100 / 4,000 = 202.5 %.
    assert seen == ["227.5 % -> 227.5 %", "202.5 % -> 202.5 %"]
    window.show_snapshot(snapshot_of(exchange))  # after closing: nothing stays connected to a dead dialog


def _book():
    """A paper exchange and the price dict its FixedPrices source reads (edit it to move the market)."""
    exchange = paper_exchange()
    return exchange, exchange.price_source.prices
