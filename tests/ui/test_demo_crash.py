"""End to end in demo mode: a scripted crash through the real worker shows exactly one popup per alert level."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Risk
from kraken_monitor.ui import actions
from kraken_monitor.ui.main_window import MainWindow
from kraken_monitor.ui.messages import AlertPopup, Messages
from kraken_monitor.ui.session import MonitorSession
from kraken_monitor.worker.runner import MonitorThread

LEVELS = [Risk.WATCH, Risk.WARNING, Risk.CRITICAL, Risk.LIQUIDATION]


def test_demo_crash_pops_up_once_per_level_in_rising_order(qtbot, tmp_path, monkeypatch):
    config = MonitorConfig(
        mode="demo",
        db_path=tmp_path / "demo.sqlite3",
        price_interval_s=0.05,
        account_interval_s=0.05,
        demo_speed=60.0,  # the 3-minute crash plays in about 3 s
        demo_scenario="crash",
        sound_enabled=False,
    )
    messages = Messages(sound_enabled=False)
    shown: list[tuple[str, Risk]] = []
    original = messages.show_alert

    def recording_show_alert(alert):
        shown.append((alert.key, alert.level))
        return original(alert)

    monkeypatch.setattr(messages, "show_alert", recording_show_alert)
    monkeypatch.setattr(Messages, "_instance", messages)
    window = MainWindow("demo")
    qtbot.addWidget(window)
    controller = actions.install(window, config)
    monitor = MonitorThread(config)
    MonitorSession(window, config, controller).attach(monitor)
    monitor.start()
    try:
        qtbot.waitUntil(lambda: ("account", Risk.LIQUIDATION) in shown, timeout=30_000)
        # The paper account then liquidates the oldest cross position (BTC) at Kraken's 40% level.
        qtbot.waitUntil(lambda: "BTC/USD" not in _pairs(window), timeout=30_000)
        # The liquidation is announced: its own popup, and the log row.
        # The demo's stop-protected BTC long closes by its stop-loss in the same crash: its "closed" event may be
        # the first event shown, so wait for the liquidation's own popup rather than for any event.
        def liquidation_popup():
            return next((p for k, p in messages.popups().items()
                         if k.startswith("event:") and "LIQUIDATED" in p.headline.text()), None)

        qtbot.waitUntil(lambda: liquidation_popup() is not None, timeout=10_000)
        event_popup = liquidation_popup()
        assert not event_popup.add_margin_button.isEnabled()
        log = window.alert_dock.model
        assert any(log.row(r).reason == "position_liquidated" for r in range(log.rowCount()))
        # The account popup no longer acts on the position that is gone: it retargets (or closed).
        account_popup = messages.popups().get("account")
        if account_popup is not None:
            qtbot.waitUntil(lambda: account_popup.target[1] != "BTC/USD", timeout=5_000)
        popups = [w for w in QApplication.topLevelWidgets() if isinstance(w, AlertPopup) and w.isVisible()]
    finally:
        assert monitor.stop()
        messages.close_all_popups()
    account_levels = [level for key, level in shown if key == "account"]
    assert account_levels == LEVELS  # the demo book starts in WATCH; then each level exactly once
    keys = [popup.alert.key for popup in popups]
    assert keys.count("account") == 1 and len(keys) == len(set(keys))  # updated in place, never a stack
    last = window.positions_model.snapshot()
    assert last is not None and not last.stale and last.account.margin_level > 40


def _pairs(window: MainWindow) -> set[str]:
    snapshot = window.positions_model.snapshot()
    return {pf.position.pair for pf in snapshot.positions} if snapshot else {"BTC/USD"}
