"""Kraken's own figures and rules as a floor (issue 11, items 1, 5, 6): Poller + KrakenExchange + real ccxt + the
Kraken-protocol test server. Every expected number is derived by hand in the test."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.models import Risk
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import Rejected
from kraken_monitor.exchange.kraken import KrakenExchange
from kraken_monitor.exchange.kraken_parse import CallCounter
from kraken_monitor.testing.kraken_server import KrakenTestServer
from kraken_monitor.text.alerts import alert_message
from kraken_monitor.worker.cycle import Poller

D = Decimal
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    """Wall time and monotonic seconds that move only when told."""

    def __init__(self):
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)


@pytest.fixture
def server():
    with KrakenTestServer() as srv:
        yield srv


@pytest.fixture
def make_poller(server):
    made = []

    def make(currency="USD", clock=None):
        clock = clock or Clock()
        exchange = KrakenExchange(server.url, Credentials(server.api_key, server.api_secret), timeout_s=2,
                                  public_interval_s=0, private_counter=CallCounter(limit=10**9),
                                  collateral_currency=currency)
        config = MonitorConfig(mode="live", api_url=server.url, kraken_tier="local", collateral_currency=currency)
        poller = Poller(config, exchange)
        poller.safety.clock = clock.monotonic
        made.append(poller)
        return poller, clock

    yield make
    for poller in made:
        poller.exchange.close()


def cycle(poller, clock, step_s=1.0):
    """What the worker does per tick: account, prices (one Ticker call), snapshot."""
    clock.t += step_s
    poller.poll_account(clock.now())
    poller.poll_prices(clock.now())
    return poller.build_snapshot(clock.now())


def btc_long(server):
    """TB 10,000 USD; 1 BTC long at 20,000, 5x (margin 4,000), now 19,000.

    Ours: equity = 10,000 + (19,000 - 20,000) = 9,000; used 4,000; level 9,000 / 4,000 = 225 %.
    """
    server.set_balance(D(10000))
    server.set_prices({"BTC/USD": D(20000)})
    txid = server.add_position("BTC/USD", "long", D(1), D(20000), leverage=5, fee=D(0))
    server.set_prices({"BTC/USD": D(19000)})
    return txid


def keys(snapshot):
    return [a.key for a in snapshot.alerts]


def test_kraken_ml_below_ours_judges_risk_and_says_figures_disagree(server, make_poller):
    btc_long(server)
    server.sim.knobs.reported_ml = D(50)
    poller, clock = make_poller()
    first = cycle(poller, clock)
    # Judged on the lower level at once; the alert waits until the gap lasts 3 account reads.
    assert first.account.risk is Risk.CRITICAL and "figures_disagree" not in keys(first)
    assert "figures_disagree" not in keys(cycle(poller, clock))
    snap = cycle(poller, clock)
    assert not snap.stale
    assert snap.account.margin_level == D(225)  # ours, shown as ours
    assert snap.account.margin_level_exchange == D("50.00")
    # Judged on min(225, 50) = 50 %: at or below the 80 % margin call, above the 45 % liquidation alert.
    assert snap.account.risk is Risk.CRITICAL
    (disagree,) = [a for a in snap.alerts if a.key == "figures_disagree"]
    assert "ours 225.00 %" in alert_message(disagree) and "Kraken 50.00 %" in alert_message(disagree)
    # Kraken's m (4,000) equals ours and prices are as fresh as the account: a price, not a position.
    assert "Likely cause: stale price" in alert_message(disagree)
    assert disagree.level is Risk.CRITICAL and disagree.margin_level == D("50.00")
    account_alert = [a for a in first.alerts if a.key == "account"]
    assert account_alert and account_alert[0].level is Risk.CRITICAL
    # One alert per episode: later cycles with the same gap are quiet; 3 reads agreeing re-arm it.
    assert "figures_disagree" not in keys(cycle(poller, clock))
    server.sim.knobs.reported_ml = None
    assert not any("figures_disagree" in keys(cycle(poller, clock)) for _ in range(3))
    server.sim.knobs.reported_ml = D(50)
    assert [("figures_disagree" in keys(cycle(poller, clock))) for _ in range(3)] == [False, False, True]


def test_a_gap_that_flips_every_read_never_alerts(server, make_poller):
    btc_long(server)
    poller, clock = make_poller()
    # A fast market: Kraken's ml lags ours every other read (e.g. 50 % vs 225 %), never for 3 reads running.
    for i in range(8):
        server.sim.knobs.reported_ml = D(50) if i % 2 else None
        assert "figures_disagree" not in keys(cycle(poller, clock))


def test_small_gap_is_not_a_disagreement_and_kraken_above_ours_keeps_ours(server, make_poller):
    btc_long(server)
    # 2 pp or 2 % of 226.5, whichever is larger, is 4.53 pp: 226.5 vs 225 is within it.
    server.sim.knobs.reported_ml = D("226.5")
    poller, clock = make_poller()
    snap = cycle(poller, clock)
    assert "figures_disagree" not in keys(snap)
    assert snap.account.risk is Risk.OK  # judged on our 225 % (the lower), above the 150 % watch level


def test_margin_used_without_positions_is_unknown_not_flat(server, make_poller):
    btc_long(server)
    server.sim.knobs.hide_positions = True
    poller, clock = make_poller()
    snap = cycle(poller, clock)
    assert snap.stale and snap.account.risk is Risk.UNKNOWN and snap.positions == ()
    assert "Kraken reports used margin 4,000.00 USD but lists no open positions" in snap.stale_reason
    assert any(a.stale and "lists no open positions" in alert_message(a) for a in snap.alerts)


def test_equity_far_from_tb_plus_n_is_unknown(server, make_poller):
    btc_long(server)
    server.sim.knobs.equity_offset = D(3000)  # e = 9,000 + 3,000 = 12,000 while tb + n = 9,000
    poller, clock = make_poller()
    snap = cycle(poller, clock)
    assert snap.stale and snap.account.risk is Risk.UNKNOWN
    assert "equity 12,000.00 USD is far from trade balance + P&L 9,000.00 USD" in snap.stale_reason


def test_rules_change_mid_run_is_picked_up_within_30_minutes_and_alerts(server, make_poller):
    btc_long(server)
    poller, clock = make_poller()
    assert cycle(poller, clock).account.risk is Risk.OK  # 225 % against 80 / 40: above the 150 % watch
    server.sim.set_margin_levels("BTC/USD", 210, 100)
    reads = len(server.requests_to("AssetPairs"))
    clock.t += 29 * 60  # not due yet: the running monitor keeps its rules
    assert cycle(poller, clock).account.risk is Risk.OK
    assert len(server.requests_to("AssetPairs")) == reads
    clock.t += 60  # 30 minutes since the first read
    snap = cycle(poller, clock)
    assert len(server.requests_to("AssetPairs")) == reads + 1
    (changed,) = [a for a in snap.alerts if a.key == "rules_changed:BTC/USD"]
    assert alert_message(changed) == ("BTC/USD margin rules changed: call 80 % -> 210 %, liquidation 40 % -> 100 %. "
                               "Applied now.")
    # Applied at once: 225 % against call 210 is below the warning level 210 + 20 = 230 % (above the call).
    assert (snap.account.margin_call_level, snap.account.liquidation_level) == (D(210), D(100))
    assert snap.account.risk is Risk.WARNING and "account" in keys(snap)


def test_order_rejection_rereads_rules_at_once(server, make_poller):
    txid = btc_long(server)
    poller, clock = make_poller()
    cycle(poller, clock)
    server.sim.set_margin_levels("BTC/USD", 230, 100)
    server.inject_fault("AddOrder", "kraken_error", error="EOrder:Insufficient margin")
    with pytest.raises(Rejected):
        poller.close(txid, "0.1")
    snap = cycle(poller, clock)
    assert "rules_changed:BTC/USD" in keys(snap)
    assert snap.account.risk is Risk.CRITICAL  # 225 % is below the new 230 % margin call


def test_pair_without_levels_says_levels_unknown_once(server, make_poller):
    btc_long(server)
    server.sim.set_margin_levels("BTC/USD", None, None)
    poller, clock = make_poller()
    snap = cycle(poller, clock)
    (note,) = [a for a in snap.alerts if a.key == "levels_unknown:BTC/USD"]
    assert alert_message(note) == "BTC/USD: levels unknown, using 80/40."
    assert (snap.account.margin_call_level, snap.account.liquidation_level) == (D(80), D(40))
    assert "levels_unknown:BTC/USD" not in keys(cycle(poller, clock))


def test_failed_rules_refresh_keeps_the_last_rules(server, make_poller):
    btc_long(server)
    poller, clock = make_poller()
    cycle(poller, clock)
    server.inject_fault("AssetPairs", "unavailable", count=None)
    clock.t += 30 * 60
    snap = cycle(poller, clock)
    assert not snap.stale and snap.account.margin_call_level == D(80)
    server.clear_faults()
    server.sim.set_margin_levels("BTC/USD", 90, 45)
    clock.t += 61  # a failed refresh is retried a minute later
    assert "rules_changed:BTC/USD" in keys(cycle(poller, clock))


def test_eur_account_with_btc_eur_short_needs_no_fx(server, make_poller):
    server.set_balance(D(5000), "ZEUR")
    server.set_prices({"BTC/EUR": D(20000)})
    server.add_position("BTC/EUR", "short", D("0.5"), D(20000), leverage=5, fee=D(0))
    server.set_prices({"BTC/EUR": D(22000)})
    poller, clock = make_poller("EUR")
    snap = cycle(poller, clock)
    assert server.requests_to("TradeBalance")[-1]["asset"] == "ZEUR"
    assert server.requests_to("Ticker")[-1]["pair"] == "XXBTZEUR"  # quote = account currency: no FX pair
    # cost 10,000 EUR, margin 2,000 EUR = 0.1 BTC; at 22,000: upnl -1,000, used 0.1 * 22,000 = 2,200;
    # equity 5,000 - 1,000 = 4,000; level 4,000 / 2,200 = 181.81...% (Kraken: "181.82").
    a = snap.account
    assert (a.currency, a.trade_balance, a.equity, a.used_margin) == ("EUR", D("5000.0000"), D(4000), D(2200))
    assert a.margin_level == D(4000) / D(2200) * 100
    assert a.margin_level_exchange == D("181.82") and "figures_disagree" not in keys(snap)


def test_fx_pairs_join_the_one_ticker_call(server, make_poller):
    server.set_balance(D(20000))
    server.set_prices({"ETH/BTC": D("0.05"), "BTC/USD": D(19000), "BTC/EUR": D(20000), "EUR/USD": D("1.1")})
    server.add_position("ETH/BTC", "long", D(100), D("0.05"), leverage=5, fee=D(0))
    server.add_position("BTC/EUR", "short", D("0.1"), D(20000), leverage=5, fee=D(0))
    poller, clock = make_poller()
    cycle(poller, clock)
    calls = server.requests_to("Ticker")
    # Held: ETH/BTC (needs BTC/USD) and BTC/EUR (needs EUR/USD): four pairs, one request per cycle.
    assert len(calls) == 1
    assert sorted(calls[0]["pair"].split(",")) == ["XETHXXBT", "XXBTZEUR", "XXBTZUSD", "ZEURZUSD"]


def test_safety_net_does_not_touch_demo_figures(tmp_path):
    from kraken_monitor.exchange.factory import create_exchange

    config = MonitorConfig(mode="demo", db_path=tmp_path / "j.sqlite3")
    clock = Clock()
    poller = Poller(config, create_exchange(config, clock=clock.now))
    snap = cycle(poller, clock)
    assert snap.account.margin_level_exchange is None
    assert not [a for a in snap.alerts if a.key.startswith(("figures_disagree", "rules_changed", "levels_unknown"))]
    poller.exchange.close()
