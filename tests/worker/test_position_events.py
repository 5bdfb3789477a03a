"""Position events end to end: Kraken's ClosedOrders (misc "liquidated") via the test server, and the paper
account's own liquidation printed by `watch --json` as exactly the issue's event line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from kraken_monitor.config import MonitorConfig
from kraken_monitor.testing.exchanges import unpaced_kraken
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.text.alerts import alert_message
from kraken_monitor.worker.cycle import Poller
from kraken_monitor.worker.opening import open_poller
from kraken_monitor.worker.serialize import event_to_json

EVENT_KEYS = {"type", "kind", "position", "pair", "volume", "price", "pnl"}


def _live_poller(srv: KrakenTestServer, tmp_path) -> Poller:
    from kraken_monitor.exchange.credentials import Credentials

    config = MonitorConfig(mode="live", api_url=srv.url, db_path=tmp_path / "live.sqlite3", kraken_tier="local")
    live = unpaced_kraken(credentials=Credentials(srv.api_key, srv.api_secret))
    return open_poller(config, exchange_factory=live).poller  # the real journal at config.db_path


def _cycle(poller: Poller, now: datetime):
    poller.poll_account(now)
    poller.poll_prices(now)
    snapshot = poller.build_snapshot(now)
    return snapshot, poller.persist(snapshot)


def test_kraken_liquidation_from_closed_orders_and_a_plain_close(tmp_path):
    with KrakenTestServer() as srv:
        srv.set_balance(Decimal("10000"))
        srv.set_prices({"BTC/USD": Decimal("17000"), "ETH/USD": Decimal("3000")})
        btc = srv.add_position("BTC/USD", "long", Decimal("1"), Decimal("20000"), leverage=5, txid="TPOS1-BTC")
        eth = srv.add_position("ETH/USD", "short", Decimal("2"), Decimal("3000"), leverage=5, txid="TPOS2-ETH")
        poller = _live_poller(srv, tmp_path)
        try:
            t0 = datetime.now(timezone.utc)
            first, _ = _cycle(poller, t0)
            assert not [a for a in first.alerts if a.is_event]  # what is open at start-up was not "opened"
            srv.liquidate(btc, Decimal("11550"))  # Kraken closes it: ClosedOrders misc "liquidated"
            srv.sim.positions.pop(eth)  # gone without a liquidation mark: a plain close
            _, fired = _cycle(poller, t0 + timedelta(seconds=2))
            events = {a.position_id: a for a in fired if a.is_event}
            assert event_to_json(events[btc]) == {"type": "event", "kind": "liquidated", "position": btc,
                                                  "pair": "BTC/USD", "volume": "1", "price": "11550", "pnl": None}
            assert event_to_json(events[eth]) == {"type": "event", "kind": "closed", "position": eth,
                                                  "pair": "ETH/USD", "volume": "2", "price": "3000", "pnl": None}
            assert "LIQUIDATED" in alert_message(events[btc]) and "(by Kraken)" in alert_message(events[btc])
            assert srv.requests_to("ClosedOrders")  # asked only because positions vanished
            journalled = {a.position_id: a for a in poller.journal.recent_alerts() if a.is_event}
            assert journalled[btc] == events[btc] and journalled[eth].reason == "position_closed"
        finally:
            poller.flush()


def test_watch_json_prints_the_paper_liquidation_as_an_event_line(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KRAKEN_MONITOR_HOME=str(tmp_path / "home"),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    result = subprocess.run(
        [sys.executable, "-m", "kraken_monitor", "watch", "--mode", "demo", "--db", str(tmp_path / "demo.sqlite3"),
         "--demo-scenario", "crash", "--speed", "120", "--interval", "0.1", "--duration", "12", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    events = [line for line in lines if line["type"] == "event"]
    assert events, "no event line"
    assert all(set(e) == EVENT_KEYS | {"venue"} and e["venue"] == "spot" for e in events)  # watch lines name it
    liquidated = [e for e in events if e["kind"] == "liquidated"]
    # The crash takes the demo book to Kraken's 40 % level: the paper account liquidates the oldest
    # position (BTC/USD) itself, with its realised P&L after the closing fee.
    assert liquidated and liquidated[0]["pair"] == "BTC/USD" and liquidated[0]["position"]
    assert Decimal(liquidated[0]["volume"]) > 0 and Decimal(liquidated[0]["pnl"]) < 0
    assert Decimal(liquidated[0]["price"]) > 0
