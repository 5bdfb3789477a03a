"""Properties of the multi-currency engine: account currency changes nothing but the unit; triggers are exact."""

from datetime import datetime, timezone
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_monitor.domain import margin
from kraken_monitor.domain.models import AccountState, Balance, MarginMode, PairRules, Position, Side

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
# Quotes USD, BTC and EUR. No BTC/EUR market, so a EUR account converts BTC through USD (BTC/USD, then
# EUR/USD inverted) and a USD account through BTC/USD: both use the same BTC/USD price.
PRICE_RANGES = {
    "BTC/USD": (D(1000), D(100000)),
    "EUR/USD": (D("0.8"), D("1.5")),
    "ETH/BTC": (D("0.01"), D("0.1")),
    "ETH/EUR": (D(500), D(5000)),
    "SOL/USD": (D(10), D(500)),
}
RULES = {s: PairRules(s, s.split("/")[0], s.split("/")[1], D(80), D(40)) for s in PRICE_RANGES}


def rel_close(a: D, b: D, rel: D) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


prices_st = st.fixed_dictionaries({
    pair: st.decimals(min_value=lo, max_value=hi, places=6) for pair, (lo, hi) in PRICE_RANGES.items()
})


@st.composite
def position_st(draw, i: int, prices: dict[str, D]) -> Position:
    pair = draw(st.sampled_from(sorted(PRICE_RANGES)))
    volume = draw(st.decimals(min_value=D("0.01"), max_value=D(50), places=3))
    entry = prices[pair] * draw(st.decimals(min_value=D("0.7"), max_value=D("1.3"), places=3))
    cost = volume * entry
    leverage = draw(st.sampled_from([D(2), D(3), D(5)]))
    return Position(f"P{i}", pair, draw(st.sampled_from(list(Side))), volume, D(0), cost, cost / leverage, NOW,
                    margin_mode=MarginMode.CROSS)


@st.composite
def book_st(draw):
    prices = draw(prices_st)
    positions = tuple(draw(position_st(i, prices)) for i in range(draw(st.integers(1, 6))))
    tb = draw(st.decimals(min_value=D(100), max_value=D(10**6), places=2))
    return prices, positions, tb


@settings(max_examples=80, deadline=None)
@given(book_st())
def test_figures_in_eur_times_eur_usd_equal_figures_in_usd(book):
    prices, positions, tb_eur = book
    fx = prices["EUR/USD"]
    eur_acc, eur_pfs = margin.compute(AccountState(Balance("EUR", tb_eur), positions, NOW), prices, RULES, NOW)
    usd_acc, usd_pfs = margin.compute(AccountState(Balance("USD", tb_eur * fx), positions, NOW), prices, RULES, NOW)
    rel = D("1e-20")
    for name in ("equity", "used_margin", "free_margin"):
        assert rel_close(getattr(eur_acc, name) * fx, getattr(usd_acc, name), rel), name
    assert rel_close(eur_acc.margin_level, usd_acc.margin_level, rel)
    for e, u in zip(eur_pfs, usd_pfs, strict=True):
        for name in ("unrealized_pnl", "used_margin", "net_pnl", "cost", "valuation"):
            assert rel_close(getattr(e, name) * fx, getattr(u, name), rel), name
        assert e.quote_currency == u.quote_currency and (e.account_currency, u.account_currency) == ("EUR", "USD")
        # Prices are in the quote currency: the account currency does not change them. EUR/USD is
        # the exception: it converts the collateral itself (tb held in EUR in one, in USD in the other).
        if e.position.pair != "EUR/USD":
            for name in ("margin_call_price", "liquidation_price"):
                a, b = getattr(e, name), getattr(u, name)
                assert (a is None) == (b is None), name
                if a is not None:
                    assert rel_close(a, b, D("1e-18")), name


@settings(max_examples=80, deadline=None)
@given(book_st(), st.sampled_from(["USD", "EUR"]))
def test_margin_level_at_the_reported_trigger_price_is_the_threshold(book, account_ccy):
    """Longs and shorts, any quote currency, the FX pair itself included: set the pair to its reported
    liquidation (margin-call) price, every other price unchanged, and the account level is margin_stop
    (margin_call) to 1e-9 relative."""
    prices, positions, tb = book
    state = AccountState(Balance(account_ccy, tb), positions, NOW)
    account, pfs = margin.compute(state, prices, RULES, NOW)
    for pf in pfs:
        for price, level in ((pf.liquidation_price, account.liquidation_level),
                             (pf.margin_call_price, account.margin_call_level)):
            if price is None:
                continue
            moved = margin.account_figures(state.balance, positions, {**prices, pf.position.pair: price}, RULES)
            assert rel_close(moved.margin_level, level, D("1e-9")), (pf.position.pair, price)
        # Passed or not: the distance's sign says whether the account level is above the threshold now.
        if pf.distance_to_liquidation_pct is not None:
            assert (pf.distance_to_liquidation_pct >= 0) == (account.margin_level >= account.liquidation_level)
