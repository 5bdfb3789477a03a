"""Positions quoted in BTC and EUR, accounts in USD and EUR: hand-computed figures (issue 11 items 1, 3, 4)."""

from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from kraken_monitor.domain import margin, whatif
from kraken_monitor.domain.alerts import AlertEngine
from kraken_monitor.domain.errors import UnknownRate
from kraken_monitor.domain.models import AccountState, Balance, PairRules, Position, Risk, Side, Snapshot
from kraken_monitor.text.alerts import alert_message  # the domain gives numbers; the text says them

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


def _rule(symbol: str, call: str = "80", stop: str = "40") -> PairRules:
    base, quote = symbol.split("/")
    return PairRules(symbol, base, quote, D(call), D(stop))


RULES = {s: _rule(s) for s in ("ETH/BTC", "BTC/USD", "BTC/EUR", "EUR/USD")}


def pos(pid: str, pair: str, side: Side, volume, cost, mg, **kw) -> Position:
    return Position(pid, pair, side, D(volume), D(0), D(cost), D(mg), NOW, **kw)


def close(a: D, b: D, rel: str = "1e-20") -> bool:
    return abs(a - b) <= D(rel) * max(abs(a), abs(b))


# -- ETH/XBT long 100 ETH at 5x, USD account --------------------------------------------------
# Opened at 0.05 BTC: cost 100 * 0.05 = 5 BTC, margin 5 / 5 = 1 BTC. Now ETH/BTC 0.045, BTC/USD 60,000.
# upnl = 100 * 0.045 - 5 = -0.5 BTC = -30,000 USD; used = 1 BTC = 60,000 USD; tb 70,000 USD
# e = 70,000 - 30,000 = 40,000; ml = 40,000 / 60,000 = 66.67 % (past the 80 % call; the bug read
# the BTC figures as USD: (70,000 - 0.5) / 1 = 6,999,950 %).
ETH_BTC = pos("E1", "ETH/BTC", Side.LONG, 100, 5, 1)
ETH_PRICES = {"ETH/BTC": D("0.045"), "BTC/USD": D(60000)}


def test_eth_btc_long_in_a_usd_account():
    state = AccountState(Balance("USD", D(70000)), (ETH_BTC,), NOW)
    account, (pf,) = margin.compute(state, ETH_PRICES, RULES, NOW)
    assert account.equity == D(40000)
    assert account.used_margin == D(60000)
    assert account.free_margin == D(-20000)
    assert close(account.margin_level, D(200) / 3)  # 66.666...%
    assert (pf.quote_currency, pf.account_currency, pf.fx_rate) == ("BTC", "USD", D(60000))
    assert pf.unrealized_pnl == D(-30000) and pf.used_margin == D(60000)
    assert pf.cost == D(300000)  # 5 BTC * 60,000
    assert pf.valuation == D(270000)  # 4.5 BTC * 60,000
    assert pf.pnl_pct == D(-50)  # -0.5 / 1 BTC: a ratio, the same in any currency
    assert pf.entry_price == D("0.05")  # prices stay in the quote currency
    # Margin call (80 %), BTC/USD held at 60,000: 70,000 + 60,000 * (100P - 5) = 0.8 * 60,000
    # -> 100P - 5 = -22,000 / 60,000 -> P = (5 - 0.36667) / 100 = 0.0463333...
    assert close(pf.margin_call_price, (D(5) - D(22000) / D(60000)) / 100)
    # Already passed: 0.045 is below it, so the distance is negative, -(0.046333 - 0.045)/0.045 = -2.963 %.
    assert close(pf.distance_to_margin_call_pct, (D("0.045") - pf.margin_call_price) / D("0.045") * 100)
    assert pf.distance_to_margin_call_pct < 0
    # Liquidation (40 %): 70,000 + 60,000 * (100P - 5) = 24,000 -> P = (5 - 46,000 / 60,000) / 100 = 0.042333
    assert close(pf.liquidation_price, (D(5) - D(46000) / D(60000)) / 100)
    assert close(pf.distance_to_liquidation_pct, (D("0.045") - pf.liquidation_price) / D("0.045") * 100)
    assert pf.distance_to_liquidation_pct > 0  # 5.926 % of room left


def test_moving_the_fx_pair_also_revalues_the_position_it_converts():
    # Add BTC/USD long 1 BTC opened at 50,000 at 5x (cost 50,000, margin 10,000 USD); tb 100,000 USD.
    # "Every other price constant" for BTC/USD's own trigger: ETH/BTC stays 0.045, but BTC/USD is
    # also the ETH/BTC position's FX rate, so it moves that position too. With P = BTC/USD:
    #   e(P) = 100,000 + (P - 50,000) + P * (4.5 - 5) = 50,000 + 0.5 P
    #   m(P) = 10,000 + 1 BTC * P
    # Now (P = 60,000): e = 80,000, m = 70,000, ml = 114.29 %.
    # Level falls as BTC RISES (the ETH/BTC long is short BTC): 80 % at 50,000 + 0.5P = 8,000 + 0.8P
    # -> P = 140,000; 40 % never (e/m -> 50 % as P -> infinity).
    # Holding the FX rate fixed instead would say 56,000 (falling): that is not the account's level.
    btc = pos("B1", "BTC/USD", Side.LONG, 1, 50000, 10000)
    state = AccountState(Balance("USD", D(100000)), (ETH_BTC, btc), NOW)
    account, (eth_pf, btc_pf) = margin.compute(state, ETH_PRICES, RULES, NOW)
    assert close(account.margin_level, D(80000) / D(70000) * 100)
    assert close(btc_pf.margin_call_price, D(140000))
    assert btc_pf.liquidation_price is None
    assert close(btc_pf.distance_to_margin_call_pct, (D(140000) - D(60000)) / D(60000) * 100)  # 133.3 %
    # ETH/BTC's trigger, BTC/USD held: 110,000 + 60,000 (100P - 5) = 0.8 * 70,000 -> P = (5 - 0.9) / 100
    assert close(eth_pf.margin_call_price, D("0.041"))
    # The account's level at the reported prices is exactly the threshold.
    at_call = margin.account_figures(state.balance, state.positions, {**ETH_PRICES, "BTC/USD": btc_pf.margin_call_price}, RULES)
    assert close(at_call.margin_level, D(80), "1e-20")
    # cross_trigger_price (margin.py) gives the same answer as compute.
    assert close(margin.cross_trigger_price(state.balance, state.positions, ETH_PRICES, "BTC/USD", D(80), RULES),
                 D(140000))


# -- XBT/EUR short, USD account ----------------------------------------------------------------
# Short 2 BTC at 50,000 EUR, 5x: cost 100,000 EUR, margin 20,000 EUR. Now BTC/EUR 55,000, EUR/USD 1.10.
# upnl = 100,000 - 110,000 = -10,000 EUR = -11,000 USD. Used margin is base-denominated:
# 20,000 * 55,000 / 50,000 = 22,000 EUR = 24,200 USD. tb 30,000 USD: e = 19,000, ml = 78.51 %.
SHORT = pos("S1", "BTC/EUR", Side.SHORT, 2, 100000, 20000)
SHORT_PRICES = {"BTC/EUR": D(55000), "EUR/USD": D("1.10")}


def test_btc_eur_short_in_a_usd_account():
    state = AccountState(Balance("USD", D(30000)), (SHORT,), NOW)
    account, (pf,) = margin.compute(state, SHORT_PRICES, RULES, NOW)
    assert account.equity == D(19000) and account.used_margin == D(24200)
    assert close(account.margin_level, D(19000) / D(24200) * 100)
    assert pf.unrealized_pnl == D(-11000) and pf.used_margin == D(24200)
    # Liquidation (40 %): 30,000 + 1.1 * (100,000 - 2P) = 0.4 * 1.1 * 0.4P (used = 0.4P EUR)
    # -> 140,000 = 2.376 P -> P = 58,922.56; the closed form in EUR agrees:
    # (TB + V*E) / (V * (1 + x/L)) = (30,000/1.1 + 100,000) / (2 * 1.08).
    assert close(pf.liquidation_price, D(140000) / D("2.376"))
    assert close(pf.liquidation_price, (D(30000) / D("1.1") + D(100000)) / D("2.16"))
    # A short loses as the price rises: room left = (58,922.56 - 55,000) / 55,000 = +7.13 %.
    assert close(pf.distance_to_liquidation_pct, (pf.liquidation_price - D(55000)) / D(55000) * 100)
    # Margin call (80 %) is already passed: 140,000 - 2.2P = 0.352P -> P = 54,858.9 < 55,000: negative.
    assert close(pf.margin_call_price, D(140000) / D("2.552"))
    assert pf.distance_to_margin_call_pct < 0


# -- EUR account currency ---------------------------------------------------------------------
# EUR account, tb 10,000 EUR; EUR/USD 1.25, BTC/USD 60,000; both positions quoted in USD, so the
# rate USD -> EUR is 1 / 1.25 = 0.8 (the inverse of EUR/USD).
#   BTC/USD long 1 at 50,000, 5x: cost 50,000 USD, margin 10,000 USD; upnl 10,000 USD = 8,000 EUR.
#   EUR/USD long 10,000 EUR at 1.20, 2x: cost 12,000 USD, margin 6,000 USD; upnl 500 USD = 400 EUR.
# e = 10,000 + 8,000 + 400 = 18,400 EUR; m = (10,000 + 6,000) * 0.8 = 12,800 EUR; ml = 143.75 %.
EUR_BOOK = (pos("B1", "BTC/USD", Side.LONG, 1, 50000, 10000), pos("F1", "EUR/USD", Side.LONG, 10000, 12000, 6000))
EUR_PRICES = {"BTC/USD": D(60000), "EUR/USD": D("1.25")}


def test_eur_account_currency():
    state = AccountState(Balance("EUR", D(10000)), EUR_BOOK, NOW)
    account, (btc, fx) = margin.compute(state, EUR_PRICES, RULES, NOW)
    assert account.currency == "EUR"
    assert account.equity == D(18400) and account.used_margin == D(12800)
    assert account.margin_level == D("143.75")
    assert btc.fx_rate == D("0.8") and btc.unrealized_pnl == D(8000)
    assert fx.unrealized_pnl == D(400) and fx.used_margin == D(4800)
    # BTC/USD trigger (EUR/USD held): 10,400 + (P - 50,000) * 0.8 = 0.8 * 12,800 -> P = 49,800;
    # 40 %: 10,400 + 0.8 (P - 50,000) = 5,120 -> P = 43,400.
    assert close(btc.margin_call_price, D(49800)) and close(btc.liquidation_price, D(43400))
    # EUR/USD trigger moves every USD amount's conversion (1/P) and its own P&L: with P = EUR/USD
    #   e(P) = 10,000 + 10,000/P + (10,000P - 12,000)/P = 20,000 - 2,000/P,  m(P) = 16,000/P
    # 80 %: 20,000 P - 2,000 = 12,800 -> P = 0.74;  40 %: 20,000 P - 2,000 = 6,400 -> P = 0.42.
    assert close(fx.margin_call_price, D("0.74")) and close(fx.liquidation_price, D("0.42"))
    assert close(fx.distance_to_liquidation_pct, (D("1.25") - D("0.42")) / D("1.25") * 100)  # 66.4 % room


# -- a missing FX pair ------------------------------------------------------------------------


def test_missing_fx_pair_makes_the_position_and_the_account_unknown():
    # The XBT/EUR short of the next test plus a BTC/USD long, with no EUR/USD price this cycle.
    usd = pos("B1", "BTC/USD", Side.LONG, 1, 50000, 10000)
    state = AccountState(Balance("USD", D(70000)), (SHORT, usd), NOW)
    account, (short, btc) = margin.compute(state, {"BTC/EUR": D(55000), "BTC/USD": D(60000)}, RULES, NOW)
    assert account.unknown and "EUR/USD" in account.unknown_reason
    assert account.equity is None and account.used_margin is None and account.margin_level is None
    assert short.unknown and "EUR/USD" in short.unknown_reason
    assert short.unrealized_pnl is None and short.used_margin is None and short.net_pnl is None
    assert short.liquidation_price is None  # needs the account, which needs the rate
    assert short.entry_price == D(50000)  # quote-currency facts stay known
    # The USD position's own money is known, but its triggers need the account: unknown, not guessed.
    assert not btc.unknown and btc.unrealized_pnl == D(10000) and btc.liquidation_price is None
    # margin.account_figures agrees; what-if previews refuse to guess.
    assert margin.account_figures(state.balance, state.positions, {"BTC/EUR": D(55000), "BTC/USD": D(60000)},
                                  RULES).unknown_reason == account.unknown_reason
    with pytest.raises(UnknownRate, match="EUR/USD"):
        whatif.required_deposit(state, {"BTC/EUR": D(55000), "BTC/USD": D(60000)}, RULES, D(150))
    # The alert engine: risk UNKNOWN everywhere, one alert naming the pair.
    snap = Snapshot("live", NOW, False, account, (short, btc))
    judged = AlertEngine().apply(snap, NOW)
    assert judged.account.risk is Risk.UNKNOWN and {pf.risk for pf in judged.positions} == {Risk.UNKNOWN}
    assert len(judged.alerts) == 1 and "EUR/USD" in alert_message(judged.alerts[0])


# -- FX sensitivity (item 4) -------------------------------------------------------------------


def test_fx_sensitivity_of_a_btc_quoted_position():
    # ETH/BTC book above: E_A = tb = 70,000, M_A = 0; E_f = -30,000, M_f = 60,000 (USD at today's rate).
    # USD moving by `move` % divides the BTC rate by k' = 1 + move/100: level = (70,000 - 30,000 k)/(60,000 k)
    # with k = 1/k'. Margin call (80 %): 70,000 = 78,000 k -> k = 0.897436 -> move = 78/70 - 1 = +11.43 %
    # (the level is below the call now; USD must gain 11.43 % for it to recover).
    # Liquidation (40 %): 70,000 = 54,000 k -> move = 54/70 - 1 = -22.86 %.
    # At -10 %: k = 1/0.9: 70,000 * 0.9 / 60,000 - 0.5 = 55 %; at +5 %: 70,000 * 1.05 / 60,000 - 0.5 = 72.5 %.
    state = AccountState(Balance("USD", D(70000)), (ETH_BTC,), NOW)
    account, _ = margin.compute(state, ETH_PRICES, RULES, NOW)
    fx = account.fx_sensitivity
    assert fx.account_currency == "USD" and fx.currencies == ("BTC",)
    assert close(fx.margin_call_move_pct, (D(78) / D(70) - 1) * 100, "1e-25")
    assert close(fx.liquidation_move_pct, (D(54) / D(70) - 1) * 100, "1e-25")
    levels = dict(fx.levels)
    assert close(levels[D(-10)], D(55)) and close(levels[D(5)], D("72.5"))
    assert close(levels[D(-5)], D(70000) * D("0.95") / D(600) - 50)
    assert close(levels[D(10)], D(70000) * D("1.1") / D(600) - 50)


def test_no_fx_sensitivity_when_everything_is_in_the_account_currency():
    state = AccountState(Balance("USD", D(100000)), (pos("B1", "BTC/USD", Side.LONG, 1, 50000, 10000),), NOW)
    account, _ = margin.compute(state, {"BTC/USD": D(60000)}, RULES, NOW)
    assert account.fx_sensitivity is None


# -- what-if in the account currency ------------------------------------------------------------


def test_partial_close_of_a_btc_quoted_position_credits_usd():
    # Close 50 of the 100 ETH at 0.045 BTC, fee 0.26 %: realised = -0.5 BTC * 50 % = -0.25 BTC = -15,000 USD;
    # fee = 0.0026 * 50 * 0.045 BTC = 0.00585 BTC = 351 USD; net -15,351 USD credited to tb 70,000.
    state = AccountState(Balance("USD", D(70000)), (ETH_BTC,), NOW)
    result = whatif.partial_close(state, ETH_PRICES, RULES, "E1", D(50), D("0.0026"))
    assert result.realized_pnl == D(-15000) and result.fees == D(351) and result.net_realized == D(-15351)
    # After: tb 54,649; the remaining 50 ETH: upnl -0.25 BTC = -15,000, used 0.5 BTC = 30,000 USD.
    assert result.account.equity == D(39649) and result.account.used_margin == D(30000)
