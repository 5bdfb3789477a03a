"""ActionsController: window actions and popup buttons reach the dialogs (patched asks); requests reach the worker."""

from dataclasses import replace
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Alert, Risk
from kraken_monitor.exchange.base import OrderResult
from kraken_monitor.testing.builders import T0 as NOW
from kraken_monitor.testing.builders import paper_exchange, position_id, snapshot_of
from kraken_monitor.testing.fakes import FakeMonitor, RecordingWorker
from kraken_monitor.ui import actions
from kraken_monitor.ui.add_margin_dialog import AddMarginDialog
from kraken_monitor.ui.close_dialog import CloseDialog, CloseRequest
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.ui.settings_dialog import SettingsDialog
from kraken_monitor.worker.poll_worker import PollWorker
from kraken_monitor.worker.requests import (
    Acknowledge,
    AddCollateral,
    AddIsolatedMargin,
    ClosePosition,
    Settle,
    Snooze,
)


@pytest.fixture
def messages(monkeypatch):
    m = Messages(sound_enabled=False)
    m.shown = []
    monkeypatch.setattr(m, "error", lambda parent, title, text: m.shown.append(("error", text)))
    monkeypatch.setattr(m, "info", lambda parent, title, text: m.shown.append(("info", text)))
    yield m
    m.close_all_popups()


@pytest.fixture
def setup(qtbot, messages, tmp_path):
    window = MainWindow("paper")
    qtbot.addWidget(window)
    controller = actions.install(window, MonitorConfig(mode="paper"))
    worker = RecordingWorker()
    # No instance lock: the settings test restarts the session on the paper journal of this process.
    session = MonitorSession(window, MonitorConfig(mode="paper"), controller, lock_journal=lambda config: None)
    session.attach(FakeMonitor(worker))
    snapshot = snapshot_of(paper_exchange())
    window.show_snapshot(snapshot)
    return window, controller, worker, snapshot


def test_close_action_sends_the_confirmed_request_to_the_worker(setup, monkeypatch):
    window, controller, worker, snapshot = setup
    pid = position_id(snapshot, "BTC/USD")
    seen = {}

    def fake_ask(parent, snap, position, mode, caps, live, settle=False, follow=None):
        seen.update(position=position, mode=mode, settle=settle, caps=caps)
        return CloseRequest(position, Decimal("0.5"), "market", None)

    monkeypatch.setattr(CloseDialog, "ask", staticmethod(fake_ask))
    monkeypatch.setattr(window, "selected_position_id", lambda: pid)
    window.position_actions_enabled(True)
    window.action_close_position.trigger()
    assert seen == {
        "position": pid,
        "mode": "paper",
        "settle": False,
        "caps": actions.capabilities_for_mode("paper"),
    }
    assert worker.requests == [ClosePosition(pid, Decimal("0.5"), "market", None)]
    window.action_settle.trigger()
    assert seen["settle"] is True


def test_settle_request_goes_to_request_settle(setup, monkeypatch):
    window, controller, worker, snapshot = setup
    pid = position_id(snapshot, "BTC/USD")
    monkeypatch.setattr(
        CloseDialog,
        "ask",
        staticmethod(lambda *a, **k: CloseRequest(pid, Decimal("1"), "settle", None, settle=True)),
    )
    assert controller.open_close(pid) is not None
    assert worker.requests == [Settle(pid)]


def test_add_margin_routes_cross_to_collateral_and_isolated_to_the_position(setup, monkeypatch):
    window, controller, worker, snapshot = setup
    asked = []

    def fake_ask(parent, snap, position, mode, caps, follow=None):
        asked.append(position)
        return Decimal("250")

    monkeypatch.setattr(AddMarginDialog, "ask", staticmethod(fake_ask))
    window.action_add_collateral.trigger()
    eth = position_id(snapshot, "ETH/USD")
    controller.open_add_margin(eth)
    controller.open_add_margin(position_id(snapshot, "BTC/USD"))  # cross: an account top-up
    assert asked == [None, eth, position_id(snapshot, "BTC/USD")]
    assert worker.requests == [
        AddCollateral(Decimal("250")),
        AddIsolatedMargin(eth, Decimal("250")),
        AddCollateral(Decimal("250")),
    ]


def test_fired_alerts_become_one_popup_per_key_whose_buttons_open_dialogs(setup, messages, monkeypatch):
    window, controller, worker, snapshot = setup
    eth = position_id(snapshot, "ETH/USD")
    alert = Alert(f"pos:{eth}", Risk.WARNING, eth, "ETH/USD", Decimal("110"), Decimal("9"), "isolated_distance", NOW)
    window.show_snapshot(replace(snapshot, alerts=(alert,)))
    assert messages.popups() == {}  # the snapshot's copy of an alert never pops up by itself
    worker.alerts_fired.emit((replace(alert, id=41),))
    worker.alerts_fired.emit((replace(replace(alert, level=Risk.CRITICAL), id=42),))
    popups = messages.popups()
    assert list(popups) == [alert.key] and "CRITICAL" in popups[alert.key].headline.text()
    opened = []
    monkeypatch.setattr(AddMarginDialog, "ask", staticmethod(lambda p, s, pos, m, c, follow=None: opened.append(pos)))
    popups[alert.key].add_margin_button.click()
    assert opened == [eth]
    popups[alert.key].snooze_button.click()
    assert messages.popups() == {}
    snooze = worker.requests[-1]
    assert isinstance(snooze, Snooze) and snooze.alert_id == 42  # the journal id of the alert the popup showed
    assert 890 < snooze.seconds <= 900  # 15 min, the popup's default


def test_a_liquidation_popup_snoozes_only_after_the_trader_confirms(setup, messages, monkeypatch):
    window, controller, worker, snapshot = setup
    btc = position_id(snapshot, "BTC/USD")
    alert = Alert("account", Risk.LIQUIDATION, btc, "BTC/USD", Decimal("44"), Decimal("1"), "margin_level", NOW)
    worker.alerts_fired.emit((replace(alert, id=7),))
    answers, asked = [False, True], []

    def confirm(parent, title, text):
        asked.append(title)
        return answers.pop(0)

    monkeypatch.setattr(messages, "confirm", confirm)
    messages.popups()["account"].snooze_button.click()
    assert asked == ["Snooze a LIQUIDATION alert?"]
    assert list(messages.popups()) == ["account"] and not worker.snoozed
    messages.popups()["account"].snooze_button.click()
    assert messages.popups() == {}
    snooze = worker.requests[-1]
    assert isinstance(snooze, Snooze) and snooze.alert_id == 7 and snooze.confirmed is True


def test_worker_results_are_shown_through_messages(setup, messages):
    window, controller, worker, snapshot = setup
    close = ClosePosition("PAPER-00001", Decimal("0.5"))
    worker.action_finished.emit(close, OrderResult("O1", "close 0.5 BTC/USD @ 20000"))
    worker.action_failed.emit(close, "EOrder:Insufficient margin")
    worker.action_finished.emit(Acknowledge(7), None)  # an alert's new state shows in the log, no "Done"
    assert messages.shown == [("info", "close 0.5 BTC/USD @ 20000"), ("error", "EOrder:Insufficient margin")]


def test_a_real_poll_worker_not_yet_connected_reports_through_messages(qtbot, messages):
    controller = actions.ActionsController(MonitorConfig(mode="paper"), messages)
    worker = PollWorker(MonitorConfig(mode="paper"))
    worker.action_failed.connect(controller.on_action_failed)  # the session's row
    controller.requested.connect(worker.handle)  # the session's row
    controller.submit_close(CloseRequest("PAPER-00001", Decimal("0.5"), "market", None))
    assert messages.shown == [("error", "Not connected to the exchange yet.")]


def test_settings_action_saves_and_applies_sound(setup, messages, monkeypatch):
    window, controller, worker, snapshot = setup
    new = MonitorConfig(mode="paper", sound_enabled=False)
    monkeypatch.setattr(SettingsDialog, "ask", staticmethod(lambda parent, config, settings=None: new))
    changed = []
    controller.config_changed.connect(changed.append)
    messages.set_sound_enabled(True)
    window.action_settings.trigger()
    assert changed == [new] and controller.config is new and messages.sound_enabled is False


def test_no_account_yet_says_so_instead_of_opening(qtbot, messages):
    controller = actions.ActionsController(MonitorConfig(mode="paper"), messages)
    assert controller.open_close("X") is None and controller.open_add_margin() is None
    assert messages.shown[0][0] == "error" and "not been read" in messages.shown[0][1]


def test_closing_the_main_window_closes_the_popups(setup, messages):
    window, controller, worker, snapshot = setup

    alert = Alert("account", Risk.CRITICAL, None, None, Decimal("85"), None, "margin_level", NOW)
    worker.alerts_fired.emit((replace(alert, id=7),))
    popup = messages.popups()["account"]
    assert not popup.testAttribute(Qt.WidgetAttribute.WA_QuitOnClose)
    window.close()
    assert messages.popups() == {}
