"""`--currency CUR` end to end: `snapshot --json` as a subprocess against the Kraken-protocol test server.

Issue 11's book: 100 ETH long on ETH/XBT at 5x (entry 0.05 BTC, now 0.046), BTC/USD 19,000, EUR/USD 1.25,
BTC/EUR 15,200, collateral 20,000 USD. Quote-currency (BTC) figures: cost 5, margin 1, value 4.6, net -0.4.
"""

import json
from decimal import Decimal

import pytest
from cli_support import ACCOUNT_KEYS, POSITION_KEYS, run_cli
from cli_support import live_env as _live_env

from kraken_monitor.cli import build_config, build_parser

D = Decimal


@pytest.fixture
def issue_book():
    from kraken_monitor.testing.kraken_server import KrakenTestServer

    with KrakenTestServer() as srv:
        srv.set_balance(D(20000))
        srv.set_prices({"ETH/BTC": D("0.05"), "BTC/USD": D(19000), "EUR/USD": D("1.25"), "BTC/EUR": D(15200)})
        srv.add_position("ETH/BTC", "long", D(100), D("0.05"), leverage=5, fee=D(0), txid="TETHBTC-LONG")
        srv.set_prices({"ETH/BTC": D("0.046")})
        yield srv


def test_snapshot_json_in_eur_converts_btc_money_and_keeps_btc_prices(issue_book, tmp_path):
    result = run_cli(["snapshot", "--mode", "live", "--api-url", issue_book.url, "--currency", "EUR", "--json"],
                     tmp_path, extra_env=_live_env(issue_book))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert issue_book.requests_to("TradeBalance")[-1]["asset"] == "ZEUR"
    account, (pos,) = data["account"], data["positions"]
    assert set(account) == ACCOUNT_KEYS and set(pos) == POSITION_KEYS
    # Account in EUR: tb = 20,000 USD / 1.25 = 16,000; upnl = -0.4 BTC * 15,200 = -6,080; equity 9,920;
    # used margin = 1 BTC * 15,200 = 15,200 (a long's margin is fixed in BTC, revalued at BTC/EUR);
    # level = 9,920 / 15,200 * 100 = 65.2631578947... %, Kraken's own "65.26"; below the 80 % call.
    assert account["currency"] == "EUR"
    assert (account["trade_balance"], account["equity"], account["used_margin"]) == ("16000", "9920", "15200")
    assert account["margin_level"] == "65.2632" and account["margin_level_exchange"] == "65.26"
    assert account["risk"] == "critical"
    # The position: prices in BTC (its quote currency, common code), money in EUR at BTC/EUR 15,200.
    assert pos["quote_currency"] == "BTC" and pos["pair"] == "ETH/BTC"
    assert (pos["entry_price"], pos["price"]) == ("0.05", "0.046")
    assert pos["cost"] == "76000"  # 5 BTC * 15,200
    assert (pos["used_margin"], pos["unrealized_pnl"]) == ("15200", "-6080")
    # Margin call (80 %) price P, BTC/EUR held: (16,000 + 100 * (P - 0.05) * 15,200) / 15,200 = 0.8
    # -> 100 * (P - 0.05) = 0.8 - 16,000 / 15,200 = -0.25263... -> P = 0.05 - 0.0025263157... = 0.0474736842.
    assert pos["margin_call_price"] == "0.04747368"
    assert account["fx_sensitivity"] is not None and account["fx_sensitivity"]["currencies"] == ["BTC"]


def test_the_same_book_in_usd_is_the_issue_figure_not_1999960(issue_book, tmp_path):
    result = run_cli(["snapshot", "--mode", "live", "--api-url", issue_book.url, "--json"], tmp_path,
                     extra_env=_live_env(issue_book))
    assert result.returncode == 0, result.stderr
    account = json.loads(result.stdout)["account"]
    # (20,000 - 0.4 * 19,000) / (1 * 19,000) * 100 = 12,400 / 19,000 * 100 = 65.2631...; the old code added
    # BTC amounts to USD: (20,000 - 0.4) / 1 * 100 = 1,999,960.
    assert account["currency"] == "USD" and account["margin_level"] == "65.2632"
    assert (account["equity"], account["used_margin"]) == ("12400", "19000")


def test_missing_fx_pair_fails_closed_naming_it(tmp_path):
    from kraken_monitor.testing.kraken_server import KrakenTestServer

    with KrakenTestServer() as srv:
        srv.set_balance(D(5000), "ZEUR")
        srv.set_prices({"BTC/EUR": D(20000), "EUR/USD": D("1.1")})
        srv.add_position("BTC/EUR", "short", D("0.5"), D(20000), leverage=5, fee=D(0))
        srv.sim.knobs.hidden_pairs.add("EUR/USD")  # Kraken's TradeBalance still converts; we cannot
        result = run_cli(["snapshot", "--mode", "live", "--api-url", srv.url, "--json"], tmp_path,
                         extra_env=_live_env(srv))
    assert result.returncode == 2 and result.stdout == ""  # never a number computed without the rate
    assert "EUR/USD" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_currency_flag_is_parsed_everywhere_and_validated(tmp_path):
    parser = build_parser()
    for argv in (["--currency", "xbt"], ["snapshot", "--currency", "XBT"], ["watch", "--currency", "BTC"]):
        assert build_config(parser.parse_args(argv)).collateral_currency == "BTC"  # Kraken's XBT is BTC
    assert build_config(parser.parse_args(["snapshot"])).collateral_currency == "USD"
    result = run_cli(["snapshot", "--currency", "E U R"], tmp_path)
    assert result.returncode == 2 and "not a currency code" in result.stderr
