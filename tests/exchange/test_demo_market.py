"""Demo market: reproducible for a seed, scripted moves land exactly, volatility clusters, catch-up is capped."""

import math
from decimal import Decimal

import pytest

from kraken_monitor.exchange.demo_market import DEFAULT_PAIRS, MAX_CATCH_UP_S, DemoMarket, snapshot_prices


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def path(seed, seconds=600, pairs=DEFAULT_PAIRS):
    market = DemoMarket(pairs, seed=seed, clock=FakeClock())
    out = []
    for _ in range(seconds // 60):
        market.advance(60)
        out.append(market.last_prices())
    return out


def test_same_seed_same_prices_other_seed_other_prices():
    assert path(7) == path(7)
    assert path(7) != path(8)


def test_starts_from_the_february_2026_snapshot_and_rounds_to_pair_decimals():
    market = DemoMarket(seed=1, clock=FakeClock())
    snapshot = snapshot_prices()
    start = market.last_prices()
    assert start["BTC/USD"] == Decimal("87959.9")
    assert abs(start["XRP/USD"] - snapshot["XRP"]) < Decimal("0.00001")
    market.advance(300)
    rules = market.pair_rules()
    for pair, ticker in market.quotes().items():
        decimals = rules[pair].price_decimals
        for price in (ticker.bid, ticker.last, ticker.ask):
            assert -price.as_tuple().exponent == decimals
        assert ticker.bid <= ticker.last <= ticker.ask and ticker.bid < ticker.ask


def test_clock_drives_the_simulation_at_speed_and_caps_catch_up():
    clock = FakeClock()
    market = DemoMarket(("BTC/USD",), seed=3, clock=clock, speed=2.0)
    clock.t += 10.25
    market.tickers()
    assert market.simulated_seconds == 20  # 10.25 s x 2, whole seconds; 0.5 s carried
    clock.t += 0.25
    market.tickers()
    assert market.simulated_seconds == 21
    clock.t += 10 * 3600  # laptop suspended overnight: jump, do not replay 20 hours
    market.tickers()
    assert market.simulated_seconds == 21 + MAX_CATCH_UP_S


def test_schedule_move_reaches_its_target_exactly_and_then_walks_on():
    market = DemoMarket(seed=5, clock=FakeClock())
    eth_before = market.last_prices()["ETH/USD"]
    market.schedule_move("BTC/USD", Decimal("61000.0"), 30)
    market.advance(15)
    halfway = market.last_prices()["BTC/USD"]
    assert Decimal("61000") < halfway < Decimal("87959.9")
    market.advance(15)
    assert market.last_prices()["BTC/USD"] == Decimal("61000.0")
    # A scripted move is that pair's alone: ETH did not crash with it.
    assert abs(market.last_prices()["ETH/USD"] / eth_before - 1) < Decimal("0.05")
    market.advance(30)
    assert market.last_prices()["BTC/USD"] != Decimal("61000.0")
    with pytest.raises(ValueError):
        market.schedule_move("BTC/USD", Decimal("-1"), 10)


def _returns(prices):
    return [math.log(b / a) for a, b in zip(prices, prices[1:], strict=False)]


def _autocorr(xs, lag):
    mean = sum(xs) / len(xs)
    dev = [x - mean for x in xs]
    return sum(a * b for a, b in zip(dev, dev[lag:], strict=False)) / sum(d * d for d in dev)


def test_volatility_clusters_and_alts_follow_btc():
    market = DemoMarket(("BTC/USD", "ETH/USD"), seed=11, clock=FakeClock())
    btc, eth = [], []
    for _ in range(20000):
        market.advance(1)
        btc.append(market._walks["BTC/USD"].price)
        eth.append(market._walks["ETH/USD"].price)
    rb, re_ = _returns(btc), _returns(eth)
    abs_returns = [abs(r) for r in rb]
    assert _autocorr(abs_returns, 1) > 0.05
    assert _autocorr(abs_returns, 10) > 0.02
    # Correlated moves: ETH's returns line up with BTC's (same second and one second later).
    mb, me = sum(rb) / len(rb), sum(re_) / len(re_)
    cov = sum((a - mb) * (b - me) for a, b in zip(rb, re_, strict=True))
    corr = cov / math.sqrt(sum((a - mb) ** 2 for a in rb) * sum((b - me) ** 2 for b in re_))
    assert corr > 0.5


def test_pair_rules_follow_kraken():
    rules = DemoMarket(clock=FakeClock()).pair_rules()
    btc = rules["BTC/USD"]
    assert (btc.margin_call_level, btc.margin_stop_level) == (Decimal("80"), Decimal("40"))
    assert max(btc.leverage_buy) == 10 and btc.exchange_id == "XXBTZUSD" and btc.price_decimals == 1
    assert all(max(r.leverage_buy) <= 5 for pair, r in rules.items() if pair not in ("BTC/USD", "ETH/USD"))
    with pytest.raises(ValueError):
        DemoMarket(("FOO/USD",), clock=FakeClock())
