"""Hypothesis fuzzing: the engine, the amount validator and the close dialog take garbage and answer only with
typed errors (DomainError subclasses); garbage in the close dialog never reaches the exchange."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kraken_monitor.domain import costs, margin, whatif
from kraken_monitor.domain.errors import DomainError, InvalidAmount
from kraken_monitor.domain.models import (
    AccountState,
    Balance,
    MarginMode,
    PairRules,
    Side,
    Snapshot,
    Ticker,
)
from kraken_monitor.testing import builders

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
BTC, ETH = "BTC/USD", "ETH/USD"
RULES = {BTC: PairRules(BTC, "BTC", "USD", D(80), D(40), (2, 3, 4, 5), (2, 3, 4, 5), 1, 8, D("0.0001")),
         ETH: PairRules(ETH, "ETH", "USD", D(80), D(40), (2, 3, 4, 5), (2, 3, 4, 5), 2, 8, D("0.002"))}
PRICES = {BTC: D(19000), ETH: D(2100)}
EXAMPLES = {"count": 0}  # inputs fuzzed, reported at the end of the module
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


_pos = functools.partial(builders.position, opened=NOW - timedelta(hours=5), rollover_terms=builders.ROLLOVER_TERMS)


ACCOUNT = AccountState(Balance("USD", D(10000)), (
    _pos("L"), _pos("S", pair=ETH, side=Side.SHORT, vol="10", entry="2000"),
    _pos("I", side=Side.SHORT, margin_mode=MarginMode.ISOLATED, allocated_margin=D(4000))), NOW)

SPECIAL = [D("NaN"), D("sNaN"), D("-NaN"), D("Infinity"), D("-Infinity"), D("0"), D("-0"), D("1E+400"),
           D("-1E+400"), D("1E-400"), D("-1E-400"), D("1E+999999"), D("1E-999999"), D("0.00000001"), D("1")]
decimals = st.one_of(st.sampled_from(SPECIAL), st.decimals(allow_nan=True, allow_infinity=True),
                     st.decimals(min_value=-10**6, max_value=10**6, places=8))


def _typed(call):
    """Run `call`; a DomainError is fine, any other exception fails the test with its type."""
    EXAMPLES["count"] += 1
    try:
        return call()
    except DomainError as err:
        assert str(err), "typed errors carry a readable message"
        return None


@FUZZ
@given(amount=decimals, what=st.sampled_from(["shock", "deposit", "isolated", "close", "close_fee", "deposit_to",
                                              "close_to"]))
def test_whatif_previews_take_any_decimal(amount, what):
    calls = {
        "shock": lambda: whatif.price_shock(ACCOUNT, PRICES, RULES, BTC, amount),
        "deposit": lambda: whatif.deposit(ACCOUNT, PRICES, RULES, amount),
        "isolated": lambda: whatif.add_isolated_margin(ACCOUNT, PRICES, RULES, "I", amount),
        "close": lambda: whatif.partial_close(ACCOUNT, PRICES, RULES, "L", amount, D("0.0026")),
        "close_fee": lambda: whatif.partial_close(ACCOUNT, PRICES, RULES, "L", D("0.5"), amount),
        "deposit_to": lambda: whatif.required_deposit(ACCOUNT, PRICES, RULES, amount),
        "close_to": lambda: whatif.required_close_volume(ACCOUNT, PRICES, RULES, "L", amount),
    }
    _typed(calls[what])


@FUZZ
@given(price=decimals, balance=decimals, pair=st.sampled_from([BTC, ETH]))
def test_margin_engine_takes_any_price_and_balance(price, balance, pair):
    state = AccountState(Balance("USD", balance), ACCOUNT.positions, NOW)
    prices = dict(PRICES, **{pair: price})
    _typed(lambda: margin.compute(state, prices, RULES, NOW))
    _typed(lambda: margin.cross_trigger_price(state.balance, state.positions, prices, pair, D(40)))
    _typed(lambda: margin.distance_pct(price, D(15000)))


@FUZZ
@given(price=decimals, fee=decimals, hours=decimals, terms=st.text(max_size=40))
def test_costs_take_any_input(price, fee, hours, terms):
    p = ACCOUNT.positions[0]
    _typed(lambda: costs.net_pnl(p, price, NOW, fee))
    _typed(lambda: costs.break_even_price(p, NOW, fee))
    _typed(lambda: costs.projected_cost(p, NOW, hours))
    _typed(lambda: costs.parse_terms(terms))


# ----- the dialogs' validator -------------------------------------------------------------------------

numberish = st.text(alphabet="0123456789.,-+ '\u00a0\u202f\u2212eE", max_size=24)
words = st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "\u221e", "1e5", "1E-400", "-0", "-0,0", "0x10",
                         "1_000", "\u0661\u0662", "\uff11", "1.5.5", "1,5", "1,500", "1 500,25", "9" * 60, ""])


@settings(max_examples=1500, deadline=None)
@given(text=st.one_of(st.text(max_size=30), numberish, words), point=st.sampled_from([".", ","]),
       places=st.integers(min_value=0, max_value=10),
       maximum=st.one_of(st.none(), st.decimals(min_value=0, max_value=10**9, places=4)))
def test_parse_amount_accepts_only_clean_amounts(text, point, places, maximum):
    from kraken_monitor.ui.validators import parse_amount

    EXAMPLES["count"] += 1
    try:
        value = parse_amount(text, decimals=places, maximum=maximum, decimal_point=point)
    except InvalidAmount as err:
        assert str(err)
        return
    assert isinstance(value, D) and value.is_finite() and value > 0 and not value.is_signed()
    assert maximum is None or value <= maximum
    assert -value.normalize().as_tuple().exponent <= places or value == value.to_integral_value()


# ----- the close dialog: garbage never becomes an order ------------------------------------------------


class FixedPrices:
    def pair_rules(self):
        return dict(RULES)

    def tickers(self, pairs):
        return {p: Ticker(p, PRICES[p], PRICES[p], PRICES[p], NOW) for p in pairs if p in PRICES}


def _paper():
    from kraken_monitor.domain.paper_account import PaperAccount
    from kraken_monitor.exchange.paper import PaperExchange

    account = PaperAccount.funded(D(10000)).open_position(BTC, Side.LONG, D(1), PRICES[BTC], 5, NOW)
    exchange = PaperExchange(FixedPrices(), account=account, mode="paper", clock=lambda: NOW)
    state = exchange.fetch_account()
    tickers = exchange.fetch_tickers([BTC])
    figures, positions = margin.compute(state, {BTC: PRICES[BTC]}, RULES, NOW)
    snap = Snapshot(mode="paper", as_of=NOW, stale=False, account=figures, positions=positions, tickers=tickers,
                    pair_rules=dict(RULES), account_as_of=state.as_of)
    return exchange, snap


def test_close_dialog_with_garbage_sends_no_order(qtbot, monkeypatch):
    from kraken_monitor.ui.actions import capabilities_for_mode
    from kraken_monitor.ui.close_dialog import CloseDialog
    from kraken_monitor.ui.messages import Messages
    from kraken_monitor.ui.validators import parse_amount

    exchange, snap = _paper()
    pid = snap.positions[0].position.id
    before = exchange.fetch_account().positions
    asked = []
    messages = Messages()
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text: asked.append(text) or True)
    dialog = CloseDialog(snap, pid, "paper", capabilities_for_mode("paper"), False)
    qtbot.addWidget(dialog)

    def submit():
        """What the window does: an accepted dialog's request goes to the exchange."""
        dialog.setResult(0)
        dialog.accept()
        if dialog.result() == 1 and (req := dialog.request()) is not None:
            exchange.close_position(req.position_id, req.volume, req.order_type, req.limit_price)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=st.one_of(st.text(max_size=30), numberish, words), limit=st.booleans())
    def fuzz(text, limit):
        EXAMPLES["count"] += 1
        field = dialog.limit_edit if limit else dialog.volume_edit
        dialog.limit_radio.setChecked(limit)
        dialog.market_radio.setChecked(not limit) if hasattr(dialog, "market_radio") else None
        if limit:
            dialog.volume_edit.setText("1")  # volume valid: only the garbage limit price decides
        field.setText(text)
        places = dialog.price_decimals if limit else dialog.volume_decimals
        try:
            parse_amount(text, decimals=places, maximum=None if limit else dialog.remaining)
            return  # a clean amount: the dialog may legitimately accept it (not an order we check here)
        except InvalidAmount:
            pass
        asked.clear()
        submit()
        assert not dialog.ok_button.isEnabled() or dialog.request() is None
        assert dialog.result() != 1 and not asked, f"garbage {text!r} reached the confirmation"
        assert exchange.fetch_account().positions == before

    fuzz()
    assert exchange.fetch_account().positions == before


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\ninputs fuzzed: {EXAMPLES['count']}")
