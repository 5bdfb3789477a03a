"""Delivery through apprise to a local webhook and SMTP server; retries with backoff; status never shows the URL."""

import logging
import threading
import time

from kraken_monitor.cli import _RedactSecrets
from kraken_monitor.domain.models import Risk
from kraken_monitor.notify.channels import Channel
from kraken_monitor.notify.delivery import Notifier, check_url
from kraken_monitor.notify.service import AlertNotifications, Destination
from kraken_monitor.testing.notify_servers import SmtpServer, WebhookServer
from kraken_monitor.text.alerts import alert_headline
from tests.notify.alerts import level_alert, liquidation_event

TOKEN = "tok-9f8e7d6c5b4a"  # stands for a real service token in the URL's path


def collect():
    statuses, lock = [], threading.Lock()

    def on_status(status):
        with lock:
            statuses.append(status)

    return statuses, on_status


def test_an_alert_reaches_a_json_webhook_and_an_email_through_apprise():
    statuses, on_status = collect()
    with WebhookServer() as hook, SmtpServer() as smtp:
        service = AlertNotifications([
            Destination(Channel("hook", "Webhook"), f"json://127.0.0.1:{hook.port}/{TOKEN}"),
            Destination(Channel("mail", "Email"), f"mailto://127.0.0.1:{smtp.port}?mode=insecure"
                        "&from=monitor@example.test&to=trader@example.test"),
        ], at_desk=False, on_status=on_status)
        try:
            service.fired([level_alert(Risk.LIQUIDATION)])
            assert service.notifier.wait_idle()
            posted = hook.wait_for(1)
            mails = smtp.wait_for(1)
        finally:
            service.stop()
    assert posted[0]["title"] == "kraken-monitor: " + alert_headline(level_alert(Risk.LIQUIDATION))
    assert "Act on: PAPER-00001 (BTC/USD)" in posted[0]["message"]
    assert hook.paths == [f"/{TOKEN}"]
    assert mails[0]["to"] == ["trader@example.test"]
    assert "Subject: kraken-monitor: LIQUIDATION: Cross-margin account" in mails[0]["data"]
    assert sorted((s.label, s.ok) for s in statuses) == [("Email", True), ("Webhook", True)]


def test_liquidation_events_go_and_routing_picks_the_channel():
    with WebhookServer() as hook:
        service = AlertNotifications([
            Destination(Channel("all", "All", levels=frozenset({"warning"}), events=frozenset({"liquidated"})),
                        f"json://127.0.0.1:{hook.port}/"),
            Destination(Channel("none", "Quiet", levels=frozenset(), events=frozenset()),
                        f"json://127.0.0.1:{hook.port}/quiet"),
        ], at_desk=True)
        try:
            service.fired([liquidation_event(), level_alert(Risk.WARNING, alert_id=2)])
            assert service.notifier.wait_idle()
            posted = hook.wait_for(2)
        finally:
            service.stop()
    assert hook.paths == ["/", "/"]  # the quiet channel got nothing
    assert [p["title"] for p in posted] == ["kraken-monitor: BTC/USD LIQUIDATED", "kraken-monitor: WARNING: Cross-margin account"]
    assert "P&L -2,500.00 USD" in posted[0]["message"]


def test_a_failing_channel_is_retried_with_backoff_then_delivered():
    statuses, on_status = collect()
    waits = []
    with WebhookServer() as hook:
        hook.fail_next(2)  # HTTP 500 twice, then up again
        notifier = Notifier(on_status, delays_s=(2.0, 8.0, 30.0), sleep=waits.append)
        try:
            notifier.submit("hook", "Webhook", f"json://127.0.0.1:{hook.port}/{TOKEN}", "T", "B")
            assert notifier.wait_idle()
        finally:
            notifier.stop()
        assert len(hook.received) == 1
    assert waits == [2.0, 8.0]
    assert [(s.ok, s.final, s.attempts) for s in statuses] == [(False, False, 1), (False, False, 2), (True, True, 3)]


def test_a_channel_that_stays_down_is_reported_failed_without_its_url(tmp_path):
    statuses, on_status = collect()
    # The app's log file handler with its redaction filter, at DEBUG: apprise and urllib3 name the URL.
    log_file = tmp_path / "kraken-monitor.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.addFilter(_RedactSecrets())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    with WebhookServer() as hook:
        hook.fail_next(10)
        url = f"json://127.0.0.1:{hook.port}/{TOKEN}"
        notifier = Notifier(on_status, delays_s=(0.0, 0.0), sleep=lambda s: None)
        try:
            notifier.submit("hook", "Webhook", url, "T", "B")
            assert notifier.wait_idle()
        finally:
            notifier.stop()
            root.removeHandler(handler)
            root.setLevel(old_level)
            handler.close()
    final = statuses[-1]
    assert (final.ok, final.attempts) == (False, 3)
    assert "failed after 3 attempts: the service refused it or could not be reached" in final.text()
    logged = log_file.read_text(encoding="utf-8")
    assert "Webhook: failed after 3 attempts" in logged  # the status was logged, by label
    assert "<redacted>" in logged  # apprise's own DEBUG lines named the URL: scrubbed
    assert TOKEN not in logged and TOKEN not in final.text()


def test_submit_never_blocks_on_a_slow_channel():
    release = threading.Event()

    def slow_send(url, title, body):
        release.wait(5)
        return True, ""

    notifier = Notifier(send=slow_send)
    try:
        started = time.monotonic()
        for i in range(5):
            assert notifier.submit("c", "C", "json://127.0.0.1:9/", f"T{i}", "B")
        elapsed = time.monotonic() - started
        release.set()
        assert notifier.wait_idle()
    finally:
        notifier.stop()
    assert elapsed < 1.0  # five submits while the first send hangs: none waited for it


def test_check_url_names_an_unknown_scheme_without_sending():
    assert check_url("json://127.0.0.1:9/") == ""
    assert check_url("nonsense://whatever").startswith("not a notification URL apprise knows")
