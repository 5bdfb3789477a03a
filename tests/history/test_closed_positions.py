"""History rows from closing events: fee split and realised P&L worked out by hand (domain, no I/O)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from kraken_monitor.domain.events import CloseInfo, position_events
from kraken_monitor.domain.history import closed_position, history
from kraken_monitor.domain.models import Side
from kraken_monitor.testing.builders import BTC, ETH, ROLLOVER_TERMS, T0, position

D = Decimal


def _long():
    # 1 BTC at 20000 (cost 20000), trading fee 52 on opening, opening fee 0.01 % x 20000 = 2.
    return position("P1", BTC, Side.LONG, "1", "20000", trading_fee=D("52"), rollover_terms=ROLLOVER_TERMS)


def test_a_live_liquidation_carries_entry_fee_split_and_net_pnl():
    p = _long()
    closed_at = T0 + timedelta(hours=9)  # two rollover marks passed (4 h and 8 h): 2 x 0.0001 x 20000 = 4
    closes = {"P1": CloseInfo("liquidated", D("11550"), None, "exchange", fee=D("30.03"))}
    (event,) = position_events([p], [], closed_at, {BTC: D("11600")}, closes, "USD", {BTC: 1}, {BTC: D(1)})
    row = closed_position(event)
    assert (row.reason, row.side, row.volume, row.entry_price, row.exit_price) == (
        "liquidated", "long", D("1"), D("20000"), D("11550"))
    assert row.opened_at == T0 and row.closed_at == closed_at and row.price_places == 1
    # trading = 52 opening trade + 30.03 closing order; opening 2; rollovers 4; total 88.03
    assert (row.fees.trading, row.fees.opening, row.fees.rollovers, row.fees.total) == (
        D("82.03"), D("2"), D("4"), D("88.03"))
    # gross (11550 - 20000) x 1 = -8450, minus 88.03 of fees
    assert row.realized_pnl == D("-8538.03")


def test_the_paper_accounts_own_pnl_is_kept_and_only_earlier_fees_come_off():
    p = _long()
    # The paper account booked -8480.03 = gross -8450 - closing fee 30.03; opening trade, opening fee and
    # rollovers (52 + 2 + 4 = 58) were charged earlier, so net = -8480.03 - 58 = -8538.03.
    closes = {"P1": CloseInfo("liquidated", D("11550"), D("-8480.03"), "paper", fee=D("30.03"))}
    (event,) = position_events([p], [], T0 + timedelta(hours=9), {}, closes, "USD", {}, {BTC: D(1)})
    assert closed_position(event).realized_pnl == D("-8538.03")


def test_a_foreign_quote_is_converted_and_an_unknown_rate_leaves_money_unknown():
    # 2 ETH short at 3000 quoted in USD, account in EUR at 0.5 EUR per USD; settled at 2900: no trading fee.
    p = position("S1", ETH, Side.SHORT, "2", "3000", trading_fee=D("10"))
    closes = {"S1": CloseInfo("settled", D("2900"), None, "exchange")}
    (event,) = position_events([p], [], T0 + timedelta(hours=1), {}, closes, "EUR", {}, {ETH: D("0.5")})
    row = closed_position(event)
    # trading: 10 opening trade + 0 (settle) = 10 USD = 5 EUR; no terms: opening fee and rollovers 0
    assert (row.fees.trading, row.fees.opening, row.fees.rollovers) == (D("5.0"), D("0"), D("0"))
    # gross (3000 - 2900) x 2 = 200 USD = 100 EUR, minus 5 EUR
    assert row.realized_pnl == D("95.0") and row.currency == "EUR"
    (unknown,) = position_events([p], [], T0 + timedelta(hours=1), {}, closes, "EUR", {}, {ETH: None})
    row = closed_position(unknown)
    assert row.realized_pnl is None and row.fees.total is None and row.entry_price == D("3000")


def test_a_plain_disappearance_has_an_unknown_closing_fee_so_no_guessed_pnl():
    (event,) = position_events([_long()], [], T0 + timedelta(hours=1), {BTC: D("21000")}, {}, "USD", {}, {BTC: D(1)})
    row = closed_position(event)
    assert row.reason == "closed" and row.exit_price == D("21000")
    assert row.fees.trading is None and row.realized_pnl is None


def test_history_keeps_endings_only_newest_first_and_filters():
    a, b = _long(), position("P2", ETH, Side.LONG, "1", "3000")
    opened = position_events([], [a], T0, {}, None, "USD")  # an opening is not history
    first = position_events([a, b], [b], T0 + timedelta(hours=1), {BTC: D("21000")}, {}, "USD")
    second = position_events([b], [], T0 + timedelta(hours=2), {ETH: D("3100")}, {}, "USD")
    events = [*opened, *first, *second]
    assert [r.id for r in history(events)] == ["P2", "P1"]
    assert [r.id for r in history(events, pair=BTC)] == ["P1"]
    assert [r.id for r in history(events, since=T0 + timedelta(hours=2))] == ["P2"]
    assert [r.id for r in history(events, until=T0 + timedelta(hours=2))] == ["P1"]
