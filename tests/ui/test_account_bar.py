"""Account bar: mode badge colours, figures, gauge levels, 'RISK UNKNOWN' when stale or no account, ticking age."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from kraken_monitor.domain.models import Risk
from kraken_monitor.testing import builders as S
from kraken_monitor.ui.account_bar import RISK_UNKNOWN, AccountBar


class Clock:
    def __init__(self):
        self.now = S.NOW

    def __call__(self):
        return self.now


def test_figures_gauge_and_risk(qtbot):
    bar = AccountBar("demo", clock=Clock())
    qtbot.addWidget(bar)
    snap = S.snapshot(account_risk=Risk.WATCH)
    bar.set_snapshot(snap)
    assert bar.mode_badge.text() == "DEMO"
    assert bar.trade_balance.value.text() == "20,000.00 USD"
    assert bar.equity.value.text() == "22,031.43 USD"
    assert bar.free_margin.value.text() == "8,390.83 USD"
    assert bar.gauge.level == snap.account.margin_level
    assert (bar.gauge.call_level, bar.gauge.liquidation_level) == (Decimal("80"), Decimal("40"))
    assert bar.risk_label.text() == "RISK: WATCH"
    assert not bar.is_risk_unknown()
    assert bar.exchange_level.isHidden()  # demo: Kraken's ml not reported


def test_live_badge_is_red_and_kraken_level_shown_beside_ours(qtbot):
    bar = AccountBar("live", clock=Clock())
    qtbot.addWidget(bar)
    bar.set_snapshot(S.snapshot(mode="live", exchange_level=Decimal("161.49")))
    assert bar.mode_badge.text() == "LIVE"
    assert "#c62828" in bar.mode_badge.styleSheet()
    assert not bar.exchange_level.isHidden()
    assert bar.exchange_level.value.text() == "161.49 %"


def test_stale_or_missing_account_is_risk_unknown(qtbot):
    bar = AccountBar("demo", clock=Clock())
    qtbot.addWidget(bar)
    assert bar.risk_label.text() == RISK_UNKNOWN  # before any snapshot
    bar.set_snapshot(S.snapshot(stale=True))
    assert bar.risk_label.text() == RISK_UNKNOWN and bar.is_risk_unknown()
    assert bar.gauge.risk is Risk.UNKNOWN
    bar.set_snapshot(S.snapshot(no_account=True))
    assert bar.risk_label.text() == RISK_UNKNOWN
    assert bar.equity.value.text() == "\u2013"  # never 0.00 for "unknown"


def test_age_ticks_every_second(qtbot):
    clock = Clock()
    bar = AccountBar("demo", clock=clock)
    qtbot.addWidget(bar)
    bar.set_snapshot(S.snapshot())
    assert bar.age.value.text() == "0 s ago"
    clock.now = S.NOW + timedelta(seconds=75)
    qtbot.waitUntil(lambda: bar.age.value.text() == "1 m 15 s ago", timeout=3000)


def test_badge_shows_the_worst_risk_anywhere_not_only_the_cross_account(qtbot):
    from dataclasses import replace

    bar = AccountBar("demo", clock=Clock())
    qtbot.addWidget(bar)
    snap = S.snapshot(account_risk=Risk.WATCH)
    isolated = replace(snap.positions[-1], risk=Risk.CRITICAL)
    bar.set_snapshot(replace(snap, positions=(*snap.positions[:-1], isolated)))
    assert bar.risk_label.text() == "RISK: CRITICAL"
    assert "Cross account: watch" in bar.risk_label.toolTip()
    assert isolated.position.pair in bar.risk_label.toolTip()
    assert bar.gauge.risk is Risk.WATCH  # the gauge stays the cross account's own level


def test_gauge_tooltip_says_how_long_rollovers_alone_take_to_the_margin_call(qtbot):
    from dataclasses import replace

    from kraken_monitor.domain import whatif
    from kraken_monitor.text import numbers as fmt

    bar = AccountBar("demo", clock=Clock())
    qtbot.addWidget(bar)
    snap = S.snapshot(account_risk=Risk.WATCH)
    bar.set_snapshot(snap)
    left = whatif.time_to_margin_call(snap.account_state(), snap.prices(), snap.pair_rules, snap.as_of)
    assert left is not None  # this book pays rollovers and sits above its call
    assert bar.carry_text() == f"At flat prices, rollover fees alone reach the margin call in {fmt.fmt_duration(left)}."
    bar.set_snapshot(replace(snap, stale=True, stale_reason="test"))
    assert bar.carry_text() == ""  # no figure from stale data


def test_a_fractional_margin_call_reads_the_same_on_the_gauge_and_its_tooltip(qtbot):
    bar = AccountBar("demo", clock=Clock())
    qtbot.addWidget(bar)
    bar.gauge.set_values(Decimal("107.31"), Decimal("82.5"), Decimal("40"), Risk.WATCH)
    assert "margin call at 82.5 %, liquidation at 40 %" in bar.gauge.toolTip()  # was "82 %"
    assert bar.gauge.mark_text(bar.gauge.call_level) == "82.5%"  # was f"{82.5:.0f}%" == "82%"
    assert "Margin level 107.3 %" in bar.gauge.toolTip()


def test_gauge_tooltip_shows_the_collateral_fx_sensitivity(qtbot):
    # The demo book holds ETH/BTC and ETH/EUR in a USD account: its level moves with BTC/USD and EUR/USD.
    from kraken_monitor.config import MonitorConfig
    from kraken_monitor.domain import fx
    from kraken_monitor.domain.fx_markets import fx_markets
    from kraken_monitor.exchange.factory import create_exchange
    from kraken_monitor.text import numbers as fmt

    exchange = create_exchange(MonitorConfig(mode="demo"), clock=lambda: S.T0)
    rules, state = exchange.load_pair_rules(), exchange.fetch_account()
    markets = fx_markets(rules, exchange.listed_pairs())
    quotes = {fx.common_currency(p.pair.split("/")[1]) for p in state.positions}
    pairs = sorted({p.pair for p in state.positions} | set(fx.fx_pairs_needed(quotes, "USD", markets)))
    tickers = exchange.fetch_tickers(pairs)
    snap = S.engine_snapshot(state, {p: t.last for p, t in tickers.items()}, rules, S.T0, tickers=tickers)
    sens = snap.account.fx_sensitivity
    assert sens is not None and set(sens.currencies) >= {"BTC", "EUR"}
    bar = AccountBar("demo", clock=lambda: S.T0)
    qtbot.addWidget(bar)
    bar.set_snapshot(snap)
    tip = bar.gauge_extra_text()
    assert f"USD against {', '.join(sens.currencies)}:" in tip
    assert f"margin call if USD moves {fmt.fmt_pct(sens.margin_call_move_pct, signed=True)}" in tip
    assert all(fmt.fmt_level(level) in tip for _, level in sens.levels)
    # A USD-only book has nothing to say about FX.
    bar.set_snapshot(S.snapshot())
    assert "against" not in bar.gauge_extra_text()


def test_a_figure_changing_every_tick_keeps_a_fixed_size_that_only_grows(qtbot):
    """Issue 17.7: a fixed size (min == max) makes QWidget::updateGeometry a no-op, so a new value repaints the
    label instead of re-laying out the window; a wider value still gets its room."""
    from kraken_monitor.ui.account_bar import _Figure

    figure = _Figure("Equity")
    qtbot.addWidget(figure)
    figure.set_text("20,123.45 USD")
    label = figure.value
    width = label.width()
    assert label.minimumSize() == label.maximumSize() and width >= label.sizeHint().width()
    figure.set_text("1.00 USD")  # narrower: the size stays
    assert label.text() == "1.00 USD" and label.width() == width and label.minimumSize() == label.maximumSize()
    figure.set_text("120,123,456.78 USD")  # wider: it grows to fit
    assert label.width() > width and label.width() >= label.sizeHint().width()
    assert label.minimumSize() == label.maximumSize()
