"""Futures alerts pop up like spot ones (popup, sound, channels), with the futures action: Change leverage."""

from datetime import datetime, timezone
from decimal import Decimal

from PySide6.QtCore import QSettings

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures_alerts import REASON_POSITION
from kraken_monitor.domain.models import FUTURES_KEY_PREFIX, Alert, Risk
from kraken_monitor.testing import builders as S
from kraken_monitor.testing.fakes import FakeMonitor
from kraken_monitor.ui import actions
from kraken_monitor.ui.alert_popup import AlertPopup
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.session import MonitorSession


def futures_alert(position_id="PF_GONE:USD", level=Risk.CRITICAL):
    return Alert(key=f"{FUTURES_KEY_PREFIX}{position_id}", level=level, position_id=position_id, pair="ETH/USD:USD",
                 margin_level=Decimal("180"), distance_to_liquidation_pct=Decimal("4.2"), reason=REASON_POSITION,
                 fired_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
                 facts=(("account", "futures demo"), ("side", "short"), ("liquidation_price", Decimal("3050")),
                        ("source", "estimate")))


def test_a_futures_popup_offers_change_leverage_and_ignores_spot_snapshots(qtbot):
    popup = AlertPopup(futures_alert())
    qtbot.addWidget(popup)
    assert popup.add_margin_button.text() == "Change leverage..." and popup.add_margin_button.isEnabled()
    assert popup.close_button.isHidden() and popup.snooze_button.isHidden()
    asked = []
    popup.change_leverage_clicked.connect(asked.append)
    popup.add_margin_clicked.connect(lambda *a: asked.append(("spot", a)))
    popup.add_margin_button.click()
    assert asked == ["PF_GONE:USD"]  # to the futures dialog, never the spot add-margin one
    # A spot snapshot has no futures position: the popup stays (spot popups close when their position went).
    assert popup.follow(S.snapshot()) is True


def test_the_session_routes_futures_alerts_to_popups_and_their_button_to_the_futures_panel(qtbot, tmp_path):
    window = MainWindow("demo", settings=QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    controller = actions.install(window, MonitorConfig())
    shown = []
    controller.messages.show_alert = lambda alert: shown.append(alert)  # the popup itself: test above
    session = MonitorSession(window, MonitorConfig(), controller, monitor_factory=lambda config: FakeMonitor(),
                             futures=True, lock_journal=lambda config: None)
    session.start()
    futures = session.futures
    alert = futures_alert()
    futures.alerts_fired.emit((alert,))
    mine = lambda: [a for a in shown if a.key == alert.key]  # noqa: E731 - the demo book may fire its own
    assert mine() == [alert]  # popup, tray, sound and the notification channels, as for a spot alert
    controller.messages.change_leverage_requested.emit("PF_GONE:USD")
    # The futures controller answered: no figures for a position its book does not hold (no dialog opened).
    assert "No fresh futures figures" in window.futures_bar.outcome_label.text()
    session.stop()
    futures.alerts_fired.emit((alert,))  # a stopped futures account reaches nothing any more
    assert mine() == [alert]
