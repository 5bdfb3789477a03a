"""Demo/paper `--currency CUR`: the USD paper account seen in another currency, converted at the demo's own FX."""

from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain import margin
from kraken_monitor.exchange.currency_view import InCurrency
from kraken_monitor.exchange.factory import create_exchange

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_demo_account_in_eur_is_the_usd_account_divided_by_eur_usd():
    usd = create_exchange(MonitorConfig(mode="demo"), clock=lambda: NOW)
    eur = create_exchange(MonitorConfig(mode="demo", collateral_currency="EUR"), clock=lambda: NOW)
    assert isinstance(eur, InCurrency) and not isinstance(usd, InCurrency)
    a, b = usd.fetch_account(), eur.fetch_account()
    rate = eur.fetch_tickers(["EUR/USD"])["EUR/USD"].last  # USD per EUR; same seed and clock: same price
    assert b.balance.currency == "EUR" and a.balance.currency == "USD"
    # tb_EUR = tb_USD / (EUR/USD): the same collateral in the other currency.
    assert abs(b.balance.trade_balance - a.balance.trade_balance / rate) <= Decimal("1e-20") * b.balance.trade_balance
    assert [p.id for p in b.positions] == [p.id for p in a.positions]  # quote-currency positions untouched
    # Property: every account figure in EUR times EUR/USD is the figure in USD (ratios are the same).
    rules = usd.load_pair_rules()
    pairs = sorted({p.pair for p in a.positions} | {"EUR/USD"})
    prices = {p: t.last for p, t in usd.fetch_tickers(pairs).items()}
    fig_usd, _ = margin.compute(a, prices, rules, NOW)
    fig_eur, _ = margin.compute(b, prices, rules, NOW)
    assert abs(fig_eur.equity * rate - fig_usd.equity) <= Decimal("1e-18") * abs(fig_usd.equity)
    assert abs(fig_eur.used_margin * rate - fig_usd.used_margin) <= Decimal("1e-18") * fig_usd.used_margin
    assert abs(fig_eur.margin_level - fig_usd.margin_level) <= Decimal("1e-18") * fig_usd.margin_level


def test_amounts_typed_in_eur_reach_the_usd_account_converted():
    eur = create_exchange(MonitorConfig(mode="demo", collateral_currency="EUR"), clock=lambda: NOW)
    before = eur.inner.fetch_account().balance.trade_balance
    rate = eur.fetch_tickers(["EUR/USD"])["EUR/USD"].last
    eur.add_collateral(Decimal(100))
    # 100 EUR = 100 * (EUR/USD) USD into the USD paper account.
    added = eur.inner.fetch_account().balance.trade_balance - before
    assert abs(added - Decimal(100) * rate) <= Decimal("1e-20")
