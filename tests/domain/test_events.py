"""Position events from two account reads: opened, partly closed, closed, settled, liquidated (null where unknown)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from kraken_monitor.domain.events import CloseInfo, position_event, position_events
from kraken_monitor.domain.models import Position, Risk, Side

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


def pos(pid: str, volume: str = "1", closed: str = "0", pair: str = "BTC/USD") -> Position:
    return Position(id=pid, pair=pair, side=Side.LONG, volume=D(volume), volume_closed=D(closed),
                    cost=D("50000") * (D(volume) - D(closed)), margin=D("10000"), opened_at=T0)


def kinds(events) -> list[tuple[str, str]]:
    return [(e.reason, e.position_id) for e in events]


def test_first_read_is_not_an_event():
    assert position_events(None, [pos("A")], T0, {"BTC/USD": D("60000")}) == ()


def test_each_change_between_two_reads_is_one_event_with_its_numbers():
    before = [pos("A"), pos("B", "2"), pos("C"), pos("D")]
    after = [pos("B", "2", "0.5"), pos("E", "0.25")]
    closes = {"C": CloseInfo("liquidated", D("41000"), D("-9000"), "exchange"), "D": CloseInfo("settled", source="paper")}
    events = position_events(before, after, T0, {"BTC/USD": D("42000")}, closes, currency="USD")
    assert kinds(events) == [("position_partially_closed", "B"), ("position_opened", "E"), ("position_closed", "A"),
                             ("position_liquidated", "C"), ("position_settled", "D")]
    by_id = {e.position_id: e for e in events}
    # Opened: its volume at its entry price (cost / volume = 50,000 * 0.25 / 0.25).
    assert (by_id["E"].fact("volume"), by_id["E"].fact("price"), by_id["E"].fact("pnl")) == (D("0.25"), D("50000"), None)
    # Partly closed: 2 -> 1.5 remaining is 0.5 closed, at the market price; P&L unknown without the venue's word.
    assert (by_id["B"].fact("volume"), by_id["B"].fact("price"), by_id["B"].fact("pnl")) == (D("0.5"), D("42000"), None)
    # Vanished without a word from the venue: "closed", last price seen, P&L unknown.
    assert (by_id["A"].fact("volume"), by_id["A"].fact("price"), by_id["A"].fact("pnl")) == (D("1"), D("42000"), None)
    assert (by_id["C"].fact("price"), by_id["C"].fact("pnl"), by_id["C"].level) == (D("41000"), D("-9000"), Risk.LIQUIDATION)
    assert by_id["A"].level is Risk.OK and all(e.is_event and e.key == f"event:{e.position_id}" for e in events)


def test_an_unchanged_book_has_no_events():
    book = [pos("A"), pos("B", "2", "0.5")]
    assert position_events(book, [replace(p) for p in book], T0, {"BTC/USD": D("1")}) == ()


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        position_event("vanished", pos("A"), T0, None, None, None)


def test_a_close_by_a_resting_order_names_it_and_a_close_by_hand_does_not():
    from kraken_monitor.text.alerts import event_message

    before = [pos("S"), pos("H")]
    closes = {"S": CloseInfo("closed", D("47500"), D("-2600"), "paper", D("190"), order="stop-loss"),
              "H": CloseInfo("closed", D("47500"), D("-2600"), "paper", D("190"))}
    by_id = {e.position_id: e for e in position_events(before, [], T0, {"BTC/USD": D("47000")}, closes, currency="USD")}
    assert by_id["S"].fact("closed_by") == "stop-loss" and by_id["H"].fact("closed_by") is None
    # Filled at the stop's price (47,500), not the last price seen (47,000).
    assert event_message(by_id["S"]) == "BTC/USD long S closed: 1 at 47,500, P&L -2,600.00 USD (stop-loss filled)"
    assert event_message(by_id["H"]) == "BTC/USD long H closed: 1 at 47,500, P&L -2,600.00 USD"
