"""KrakenFuturesExchange through ccxt over HTTP to the futures test server: parsing, fail closed, errors, pacing."""

from decimal import Decimal

import pytest

from kraken_monitor.domain.models import MarginMode, Side
from kraken_monitor.exchange import credentials as creds
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import AuthFailed, BadResponse, ExchangeUnavailable, RateLimited, Rejected
from kraken_monitor.exchange.kraken_futures import KrakenFuturesExchange
from kraken_monitor.exchange.kraken_parse import CallCounter
from kraken_monitor.testing.futures_server import FuturesTestServer

D = Decimal


@pytest.fixture
def server():
    with FuturesTestServer(timeout_sleep_s=2.5) as srv:
        srv.futures.add_position("PF_XBTUSD", "long", D("0.5"), D(58000), unrealized_funding=D("-1.25"))
        srv.futures.add_position("PF_ETHUSD", "short", D(2), D(3100), leverage=D("2.5"))
        yield srv


@pytest.fixture
def make(server):
    made = []

    def build(**kwargs):
        kwargs.setdefault("credentials", Credentials(server.api_key, server.api_secret))
        ex = KrakenFuturesExchange(server.url, timeout_s=1.0, **kwargs)
        made.append(ex)
        return ex

    yield build
    for ex in made:
        ex.close()


def test_reads_contracts_marks_flex_and_both_margin_modes(make):
    ex = make()
    contracts = ex.load_contracts()
    assert set(contracts) == {"BTC/USD:USD", "ETH/USD:USD"}
    assert contracts["BTC/USD:USD"].exchange_id == "PF_XBTUSD"
    assert contracts["BTC/USD:USD"].max_leverage(D(1000)) == D(50)  # 1 / 2 % initial margin
    assert ex.fetch_marks() == {"BTC/USD:USD": D(60000), "ETH/USD:USD": D(3000)}
    flex, positions = ex.fetch_account()
    # Kraken's own figures, verbatim: equity 10000 + 1000 + 200 - 1.25 = 11198.75
    assert flex.margin_equity == D("11198.75")
    assert flex.maintenance_margin == D(360)  # 0.5 x 60000 x 1 % + 2 x 3000 x 1 %
    btc, eth = positions
    assert (btc.pair, btc.side, btc.margin_mode, btc.leverage) == ("BTC/USD:USD", Side.LONG, MarginMode.CROSS, None)
    assert btc.unrealized_funding == D("-1.25") and btc.unrealized_pnl is None  # Kraken left it out
    assert (eth.margin_mode, eth.leverage) == (MarginMode.ISOLATED, D("2.5"))
    assert ex.leverage_preferences() == {"ETH/USD:USD": D("2.5")}  # ccxt's fetch_leverage would say 2


def test_numbers_as_json_numbers_parse_the_same(server, make):
    server.futures.numbers_as_strings = False
    server.futures.include_unrealized_pnl = True
    flex, (btc, _) = make().fetch_account()
    assert flex.margin_equity == D("11198.75") and btc.unrealized_pnl == D(1000)


def test_a_response_without_open_positions_is_unavailable_never_flat(server, make):
    ex = make()
    server.inject_fault("openpositions", "missing_fields")
    with pytest.raises(ExchangeUnavailable):
        ex.fetch_account()


def test_a_flex_account_without_margin_figures_is_a_bad_response(server, make):
    server.inject_fault("accounts", "missing_fields")
    with pytest.raises(BadResponse, match="marginEquity"):
        make().fetch_account()


def test_a_position_in_an_unknown_contract_fails_closed(server, make):
    ex = make()
    ex.load_contracts()
    server.futures.positions[0].symbol = "PF_NOPEUSD"  # listed after our instruments read
    server.futures.flex_override = {k: "1" for k in ("marginEquity", "initialMargin", "maintenanceMargin",
                                                     "availableMargin", "portfolioValue", "collateralValue")}
    with pytest.raises(BadResponse, match="unknown contract"):
        ex.fetch_account()


def test_wrong_credentials_are_auth_failed_without_the_secret(server, make):
    bad = Credentials(server.api_key, "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==")
    with pytest.raises(AuthFailed) as info:
        make(credentials=bad).fetch_account()
    assert bad.secret not in str(info.value) and "authenticationError" in str(info.value)
    with pytest.raises(AuthFailed, match="KRAKEN_FUTURES_API_KEY"):
        make(credentials=None).fetch_account()


def test_rate_limit_from_kraken_is_rate_limited(server, make):
    server.inject_fault("accounts", "rate_limit")
    with pytest.raises(RateLimited):
        make().fetch_account()


def test_set_leverage_refusal_is_rejected_with_krakens_words(server, make):
    # Short 2 ETH from 3100 at 2.5x (allocated 2480), mark 3500: P&L -800. At 10x: 620 - 800 <= 70 -> error 41.
    server.futures.set_mark("PF_ETHUSD", D(3500))
    ex = make()
    with pytest.raises(Rejected, match=r"Would cause liquidation \(error 41\)"):
        ex.set_leverage("ETH/USD:USD", D(10))
    assert server.futures.leverage["PF_ETHUSD"] == D("2.5")
    ex.set_leverage("ETH/USD:USD", D("2"))
    assert server.requests_to("PUT leveragepreferences")[-1] == {"maxLeverage": "2", "symbol": "PF_ETHUSD"}
    ex.set_leverage("ETH/USD:USD", None)  # back to cross: the PUT without maxLeverage
    assert server.requests_to("PUT leveragepreferences")[-1] == {"symbol": "PF_ETHUSD"}
    assert "PF_ETHUSD" not in server.futures.leverage


def test_own_pacing_waits_before_the_budget_is_spent(make):
    clock = [0.0]
    slept = []
    budget = CallCounter(limit=6, decay_per_s=1, clock=lambda: clock[0])

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    ex = make(budget=budget, sleep=sleep, max_wait_s=30)
    ex.fetch_account()  # accounts 2 + openpositions 2 = 4 of 6
    ex.fetch_account()  # needs 2 + 2 more: accounts fits (6), openpositions waits 2 s for the refill
    assert [s for s in slept if s > 1e-6] == [pytest.approx(2)]  # (CallCounter adds 1e-10 of slack)
    full = CallCounter(limit=6, decay_per_s=1, clock=lambda: clock[0])
    full.record(6)
    with pytest.raises(RateLimited, match="Holding back"):  # a 2 s wait is more than this caller allows
        make(budget=full, sleep=sleep, max_wait_s=1).fetch_account()


def test_futures_credentials_have_their_own_keyring_entries_and_variables(memory_keyring, monkeypatch):
    creds.save_credentials(Credentials("spot-key-123456", "spot-secret"))
    creds.save_credentials(Credentials("fut-key-1234567", "fut-secret"), venue=creds.FUTURES)
    assert creds.load_credentials(venue=creds.FUTURES).key == "fut-key-1234567"
    assert creds.load_credentials().key == "spot-key-123456"
    creds.delete_credentials(venue=creds.FUTURES)
    assert creds.load_credentials(venue=creds.FUTURES) is None and creds.load_credentials() is not None
    monkeypatch.setenv("KRAKEN_FUTURES_API_KEY", "env-fut-key-12345")
    monkeypatch.setenv("KRAKEN_FUTURES_API_SECRET", "env-fut-secret")
    assert creds.load_credentials(venue=creds.FUTURES).key == "env-fut-key-12345"


def test_cross_add_margin_is_a_transfer_from_the_cash_wallet_into_flex(server, make):
    ex = make()
    result = ex.transfer_to_flex(D(1000))
    assert "flex" in result.description
    # cash 5000 -> 4000, flex collateral 10000 -> 11000: margin equity 11198.75 + 1000
    assert server.futures.cash["usd"] == D(4000) and server.futures.collateral["USD"] == D(11000)
    assert ex.fetch_account()[0].margin_equity == D("12198.75")
    assert server.requests_to("POST transfer")[-1] == {"amount": "1000", "fromAccount": "cash", "toAccount": "flex",
                                                      "unit": "usd"}
    with pytest.raises(Rejected, match="insufficientFunds"):
        ex.transfer_to_flex(D("4000.01"))
    with pytest.raises(Rejected, match="positive"):
        ex.transfer_to_flex(D(0))
