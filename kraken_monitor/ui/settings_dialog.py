"""Settings dialog: mode, API URL and credentials (keyring), intervals, currency, theme, pairs, thresholds, live trading, notifications."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
from decimal import Decimal

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kraken_monitor.config import KRAKEN_TIERS, MODES, THEMES, MonitorConfig
from kraken_monitor.domain.alerts import AlertThresholds
from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.exchange.urls import DEFAULT_API_URL
from kraken_monitor.ui.dialog_footer import DialogFooter
from kraken_monitor.ui.messages import Messages
from kraken_monitor.ui.notify_bridge import NotifyBridge
from kraken_monitor.ui.settings_fields import check_api_url, check_currency, check_watch_pairs
from kraken_monitor.ui.settings_notify import NotifySection
from kraken_monitor.ui.settings_store import save_config
from kraken_monitor.ui.validators import parse_amount, to_input_text

log = logging.getLogger(__name__)

THRESHOLD_LABELS = {
    "watch_above_call_pp": "Watch: margin level above margin call by (pp)",
    "warning_above_call_pp": "Warning: above margin call by (pp)",
    "critical_above_call_pp": "Critical: above margin call by (pp)",
    "liquidation_above_stop_pp": "Liquidation alert: above margin stop by (pp)",
    "watch_distance_pct": "Watch: price within (%) of liquidation",
    "warning_distance_pct": "Warning: within (%)",
    "critical_distance_pct": "Critical: within (%)",
    "liquidation_distance_pct": "Liquidation alert: within (%)",
    "rearm_margin_pp": "Re-arm after recovering (pp)",
    "rearm_distance_pct": "Re-arm after moving away (%)",
}
THRESHOLD_DECIMALS = 4
LIVE_TRADING_WARNING = (
    "Live trading lets this app send real reduce-only close and settle orders to Kraken with your API "
    "key. Give the key only the permissions you need. Every order is confirmed first."
)
ENV_FALLBACK = "KRAKEN_API_KEY / KRAKEN_API_SECRET environment variables"
# The command-line flag behind each field a flag can set (shown when this run uses one).
SESSION_FLAGS = {
    "mode": "--mode",
    "api_url": "--api-url",
    "db_path": "--db",
    "demo_scenario": "--demo-scenario",
    "price_interval_s": "--interval",
    "account_interval_s": "--interval",
    "demo_speed": "--speed",
}


def keyring_text() -> tuple[bool, str]:
    """(keyring usable, sentence for the dialog); never raises."""
    try:
        from kraken_monitor.exchange import credentials
    except ImportError:
        return False, f"Credential storage is not available in this build; use the {ENV_FALLBACK}."
    try:
        status = credentials.keyring_status()
    except Exception as exc:  # a broken keyring backend must not stop the dialog opening
        log.warning("keyring status failed: %s", type(exc).__name__)
        return False, f"No OS keyring available; the {ENV_FALLBACK} are the fallback."
    # keyring_status() is "ok" or a sentence saying why not (which already names the env-var fallback).
    if status == "ok":
        return True, "Key and secret are saved in the OS keyring, never in a file."
    return False, status if "KRAKEN_API_KEY" in status else f"{status} Fallback: the {ENV_FALLBACK}."


class SettingsDialog(QDialog):
    """Edits a MonitorConfig; OK disabled with the reason shown until every field is valid."""

    def __init__(self, config: MonitorConfig, parent: QWidget | None = None, settings: QSettings | None = None):
        super().__init__(parent)
        self.base = config
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        self.session_label = QLabel(session_text(config))
        self.session_label.setObjectName("sessionLabel")
        self.session_label.setWordWrap(True)
        self.session_label.setStyleSheet("color: #ef6c00;")
        self.session_label.setVisible(bool(config.session_only))
        layout.addWidget(self.session_label)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)

        general_page = QWidget()
        general = QFormLayout(general_page)
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(list(MODES))
        self.mode_combo.setCurrentText(config.mode.value)
        general.addRow("Mode:", self.mode_combo)
        self.price_interval = self._seconds(config.price_interval_s, 0.2, 3600)
        self.account_interval = self._seconds(config.account_interval_s, 1.0, 3600)
        self.stale_after = self._seconds(config.stale_after_intervals, 1.0, 100, suffix=" intervals")
        general.addRow("Price poll every:", self.price_interval)
        general.addRow("Account poll every:", self.account_interval)
        self.tier_combo = QComboBox()
        self.tier_combo.addItems([t for t in KRAKEN_TIERS if t != "local"])
        self.tier_combo.setCurrentText(config.kraken_tier if config.kraken_tier != "local" else "starter")
        self.tier_combo.setToolTip(
            "Live: account polls are never scheduled faster than your Kraken verification tier's private "
            "API counter sustains (Starter: one every 9.1 s: TradeBalance, OpenPositions and OpenOrders)."
        )
        general.addRow("Kraken tier:", self.tier_combo)
        general.addRow("Data is stale after:", self.stale_after)
        self.currency_edit = QLineEdit(config.collateral_currency)
        self.currency_edit.setToolTip("Every account money figure is shown in this Kraken asset (USD, EUR, XBT, ...).")
        self.currency_edit.textChanged.connect(self._refresh)
        general.addRow("Account currency:", self.currency_edit)
        self.pairs_edit = QLineEdit(", ".join(config.watch_pairs))
        self.pairs_edit.setPlaceholderText("e.g. BTC/USD, ETH/EUR (priced even without a position)")
        self.pairs_edit.textChanged.connect(self._refresh)
        general.addRow("Watch pairs:", self.pairs_edit)
        self.history_spin = QSpinBox()
        self.history_spin.setRange(1, 24 * 90)
        self.history_spin.setSuffix(" h")
        self.history_spin.setValue(max(1, round(config.history_hours)))
        self.history_spin.setToolTip("How much price and margin history the chart loads from the journal.")
        general.addRow("Chart history:", self.history_spin)
        self.theme_combo = QComboBox()
        self.theme_combo.addItems(list(THEMES))
        self.theme_combo.setCurrentText(config.theme if config.theme in THEMES else "system")
        general.addRow("Theme:", self.theme_combo)
        self.sound_check = QCheckBox("Play a sound with alerts")
        self.sound_check.setChecked(config.sound_enabled)
        general.addRow("", self.sound_check)
        self.tabs.addTab(general_page, "General")

        creds_page = QWidget()
        creds_layout = QVBoxLayout(creds_page)
        url_row = QHBoxLayout()
        self.url_edit = QLineEdit(config.api_url or "")
        self.url_edit.setPlaceholderText(f"Kraken: {DEFAULT_API_URL}")
        self.url_edit.textChanged.connect(self._refresh)
        self.url_reset = QPushButton("Reset to Kraken")
        self.url_reset.setToolTip(f"Use Kraken's own API ({DEFAULT_API_URL})")
        self.url_reset.clicked.connect(self.url_edit.clear)
        url_row.addWidget(self.url_edit, 1)
        url_row.addWidget(self.url_reset)
        url_form = QFormLayout()
        url_form.addRow("API URL:", url_row)
        creds_layout.addLayout(url_form)
        creds = QGroupBox("Kraken API credentials (live mode)")
        creds_form = QFormLayout(creds)
        self.key_edit = QLineEdit()
        self.secret_edit = QLineEdit()
        for edit in (self.key_edit, self.secret_edit):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText("leave empty to keep the stored value")
            edit.textChanged.connect(self._refresh)
        creds_form.addRow("API key:", self.key_edit)
        creds_form.addRow("API secret:", self.secret_edit)
        self.keyring_ok, text = keyring_text()
        self.keyring_label = QLabel(text)
        self.keyring_label.setWordWrap(True)
        if not self.keyring_ok:
            self.keyring_label.setStyleSheet("color: #c62828; font-weight: bold;")
        creds_form.addRow(self.keyring_label)
        self.live_check = QCheckBox("Live trading enabled (close/settle real positions)")
        self.live_check.setChecked(config.live_trading_enabled)
        self.live_check.toggled.connect(self._on_live_toggled)
        creds_form.addRow(self.live_check)
        self.live_warning = QLabel(LIVE_TRADING_WARNING)
        self.live_warning.setWordWrap(True)
        self.live_warning.setStyleSheet("color: #ef6c00;")
        creds_form.addRow(self.live_warning)
        creds_layout.addWidget(creds)
        creds_layout.addStretch(1)
        self.tabs.addTab(creds_page, "Kraken connection")

        alerts = QWidget()
        alerts_form = QFormLayout(alerts)
        self.threshold_edits: dict[str, QLineEdit] = {}
        for f in dataclasses.fields(AlertThresholds):
            edit = QLineEdit(
                to_input_text(getattr(config.thresholds, f.name), _places(getattr(config.thresholds, f.name)))
            )
            edit.textChanged.connect(self._refresh)
            self.threshold_edits[f.name] = edit
            alerts_form.addRow(THRESHOLD_LABELS.get(f.name, f.name) + ":", edit)
        self.tabs.addTab(alerts, "Alert thresholds")
        self.notify_section = NotifySection(config, settings, NotifyBridge.instance())
        self.tabs.addTab(self.notify_section, "Notifications")

        self.footer = DialogFooter(self, layout)
        self.reason_label, self.buttons, self.ok_button = self.footer.reason_label, self.footer.buttons, self.footer.ok_button
        self._refresh()

    @staticmethod
    def _seconds(value: float, low: float, high: float, suffix: str = " s") -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setDecimals(1)
        spin.setSingleStep(0.5)
        spin.setSuffix(suffix)
        spin.setValue(value)
        return spin

    def _on_live_toggled(self, checked: bool) -> None:
        if checked and not Messages.instance().confirm(self, "Enable live trading?", LIVE_TRADING_WARNING):
            self.live_check.setChecked(False)

    # -- validation -----------------------------------------------------------------------------
    def thresholds(self) -> tuple[AlertThresholds | None, str]:
        values: dict[str, Decimal] = {}
        for name, edit in self.threshold_edits.items():
            try:
                values[name] = parse_amount(
                    edit.text(), decimals=THRESHOLD_DECIMALS, maximum=Decimal(1000), allow_zero=True
                )
            except InvalidAmount as err:
                return None, f"{THRESHOLD_LABELS.get(name, name)}: {err}"
        t = AlertThresholds(**values)
        # Levels must nest, or a lower level would fire after a higher one.
        if not t.watch_above_call_pp >= t.warning_above_call_pp >= t.critical_above_call_pp:
            return None, "Margin thresholds must satisfy watch >= warning >= critical."
        if (
            not t.watch_distance_pct
            >= t.warning_distance_pct
            >= t.critical_distance_pct
            >= t.liquidation_distance_pct
        ):
            return None, "Distance thresholds must satisfy watch >= warning >= critical >= liquidation."
        return t, ""

    def credentials(self) -> tuple[tuple[str, str] | None, str]:
        """((key, secret), "") to save, (None, "") to keep what is stored, or (None, reason)."""
        key, secret = self.key_edit.text().strip(), self.secret_edit.text().strip()
        if not key and not secret:
            return None, ""
        if not key or not secret:
            return None, "Enter both the API key and the API secret (or neither to keep the stored ones)."
        try:
            base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError):
            return None, "The API secret is not valid base64: copy it again from Kraken's API settings."
        if not self.keyring_ok:
            return None, f"No OS keyring: credentials cannot be saved. Use the {ENV_FALLBACK}."
        return (key, secret), ""

    def validate(self) -> tuple[MonitorConfig | None, str]:
        thresholds, reason = self.thresholds()
        if thresholds is None:
            return None, reason
        _, reason = self.credentials()
        if reason:
            return None, reason
        api_url, reason = check_api_url(self.url_edit.text())
        if reason:
            return None, reason
        currency, reason = check_currency(self.currency_edit.text())
        if currency is None:
            return None, reason
        pairs, reason = check_watch_pairs(self.pairs_edit.text())
        if pairs is None:
            return None, reason
        config = dataclasses.replace(
            self.base,
            mode=self.mode_combo.currentText(),
            api_url=api_url,
            collateral_currency=currency,
            watch_pairs=pairs,
            history_hours=float(self.history_spin.value()),
            theme=self.theme_combo.currentText(),
            price_interval_s=self.price_interval.value(),
            account_interval_s=self.account_interval.value(),
            kraken_tier=self.tier_combo.currentText(),
            stale_after_intervals=self.stale_after.value(),
            sound_enabled=self.sound_check.isChecked(),
            live_trading_enabled=self.live_check.isChecked(),
            thresholds=thresholds,
            **self.notify_section.values(),
        )
        # A flag's field stays session-only (never saved) unless the trader changed it here.
        kept = frozenset(f for f in self.base.session_only if getattr(config, f) == getattr(self.base, f))
        return dataclasses.replace(config, session_only=kept), ""

    def config(self) -> MonitorConfig | None:
        config, reason = self.validate()
        return config if not reason else None

    def _refresh(self) -> None:
        _, reason = self.validate()
        self.footer.show_reason(reason)

    def accept(self) -> None:
        if self.config() is None:
            return
        super().accept()

    def save(self, settings: QSettings | None = None) -> MonitorConfig | None:
        """Persist the config (QSettings) and any new credentials (keyring only); None on failure."""
        config = self.config()
        if config is None:
            return None
        pair, _ = self.credentials()
        if pair is not None:
            try:
                from kraken_monitor.exchange import credentials

                credentials.save_credentials(credentials.Credentials(*pair))
            except Exception as exc:  # KeyringUnavailable or a backend error: say so, keep the rest
                # Only our own typed error's text is shown; a backend's text could echo what it was given.
                typed = type(exc).__name__ == "KeyringUnavailable"
                detail = str(exc) if typed and str(exc) else type(exc).__name__
                Messages.instance().error(
                    self,
                    "Credentials not saved",
                    f"Could not save the API key to the OS keyring: {detail}. Set the {ENV_FALLBACK} instead.",
                )
        new_urls = dict(self.notify_section.new_urls)
        problem = self.notify_section.save(settings)
        if problem:
            Messages.instance().error(self, "Notification channel not saved", problem)
        save_config(config, settings)
        bridge = NotifyBridge.instance()
        if bridge is not None:
            bridge.reload(config, settings, extra=new_urls)
        return config

    @classmethod
    def ask(
        cls, parent: QWidget | None, config: MonitorConfig, settings: QSettings | None = None
    ) -> MonitorConfig | None:
        """Run the dialog; the saved config, or None if cancelled."""
        dialog = cls(config, parent, settings)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.save(settings)
        finally:
            dialog.deleteLater()


def session_text(config: MonitorConfig) -> str:
    """Which values this run takes from the command line (they are not saved); "" when none."""
    shown: dict[str, str] = {}
    for name in sorted(config.session_only):
        flag = SESSION_FLAGS.get(name, name)
        value = getattr(config, name, None)
        shown.setdefault(flag, f"{flag} {value}" if flag != "--interval" else f"{flag} {config.price_interval_s:g} s")
    if not shown:
        return ""
    return (
        "This run uses command-line options that Settings does not save: "
        + ", ".join(shown.values())
        + ". The next plain launch uses the saved values; change a field here to save it."
    )


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
