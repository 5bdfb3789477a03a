"""`watch --notify URL` (repeatable): the demo crash reaches a local webhook and SMTP server; no token in the log or journal."""

import json
import os
import subprocess
import sys

from kraken_monitor.testing.notify_servers import SmtpServer, WebhookServer

TOKEN = "tok-watch-5e4d3c2b1a"


def test_the_demo_crash_reaches_the_webhook_and_the_mailbox(tmp_path):
    home = tmp_path / "home"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KRAKEN_MONITOR_HOME=str(home),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    with WebhookServer() as hook, SmtpServer() as smtp:
        hook_url = f"json://127.0.0.1:{hook.port}/{TOKEN}"
        mail_url = (f"mailto://127.0.0.1:{smtp.port}?mode=insecure&from=monitor@example.test"
                    f"&to=trader@example.test")
        result = subprocess.run(
            [sys.executable, "-m", "kraken_monitor", "watch", "--mode", "demo", "--db", str(tmp_path / "demo.sqlite3"),
             "--demo-scenario", "crash", "--speed", "120", "--interval", "0.1", "--duration", "12", "--json",
             "--notify", hook_url, "--notify", mail_url],
            env=env, capture_output=True, text=True, timeout=120,
        )
        posted = list(hook.received)
        mails = list(smtp.messages)
    assert result.returncode == 0, result.stderr[-2000:]
    titles = [p["title"] for p in posted]
    # The crash fires critical (below the margin call) and liquidation alerts, then the paper account
    # liquidates BTC/USD: all three are in the default routing; watch/warning are not.
    assert any(t.startswith("kraken-monitor: CRITICAL") for t in titles), titles
    assert any(t.startswith("kraken-monitor: LIQUIDATION") for t in titles), titles
    assert "kraken-monitor: BTC/USD LIQUIDATED" in titles
    assert not any("WATCH" in t or "WARNING" in t for t in titles)
    assert len(mails) == len(posted)  # the same routing for both channels
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    delivered = [line for line in lines if line["type"] == "notify"]
    assert len(delivered) == len(posted) * 2 and all(line["ok"] for line in delivered)
    assert {line["channel"] for line in delivered} == {"--notify #1 (json)", "--notify #2 (mailto)"}
    # The token is in the command line only: never in the output, the log file or the journal.
    for path in [p for p in home.rglob("*") if p.is_file()] + list(tmp_path.glob("demo.sqlite3*")):
        assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in result.stdout and TOKEN not in result.stderr


def test_an_unknown_notify_url_is_refused_without_repeating_it(tmp_path):
    env = dict(os.environ, KRAKEN_MONITOR_HOME=str(tmp_path), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    result = subprocess.run([sys.executable, "-m", "kraken_monitor", "watch", "--notify", f"nonsense://{TOKEN}"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "not a notification URL apprise knows" in result.stderr and TOKEN not in result.stderr
