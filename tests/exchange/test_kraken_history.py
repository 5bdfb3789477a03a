"""Kraken's own history through ccxt against the test server: TradesHistory + ClosedOrders + Ledgers give one row
per closing trade (partial closes too), liquidations marked by ClosedOrders, fees split with their derivation."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from kraken_monitor.domain.history import ClosedPosition, FeeSplit, merged


@pytest.fixture
def kraken(make_kraken, credentials):
    return make_kraken(credentials)


def test_a_partial_close_a_full_close_and_a_liquidation_are_history_rows(server, kraken):
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    server.set_balance(D("50000"))
    server.set_prices({"ETH/USD": D("3000"), "BTC/USD": D("20000")})
    # Opened 9 h ago: the opening fee, then rollovers at the 4 h and 8 h marks (two).
    opened = time.time() - 9 * 3600
    eth = server.add_position("ETH/USD", "long", D("2"), D("3000"), leverage=4, opened_at=opened, fee=D("15.6"))
    btc = server.add_position("BTC/USD", "long", D("1"), D("20000"), leverage=5, opened_at=opened, fee=D("52"))
    server.set_prices({"ETH/USD": D("3100"), "BTC/USD": D("20000")})
    kraken.close_position(eth, D("0.5"))  # a partial close at 3100
    server.set_prices({"ETH/USD": D("3200"), "BTC/USD": D("20000")})
    kraken.close_position(eth, D("1.5"))  # the rest at 3200
    server.liquidate(btc, D("16500"))

    rows = kraken.closed_history(start)
    assert [(r.id, r.reason, r.volume, r.exit_price) for r in rows] == [
        (btc, "liquidated", D("1"), D("16500")),
        (eth, "closed", D("1.5"), D("3200")),
        (eth, "closed", D("0.5"), D("3100")),
    ]
    part = rows[2]
    assert (part.pair, part.side, part.entry_price, part.currency, part.price_places) == ("ETH/USD", "long", D("3000"),
                                                                                          "USD", 2)
    # Fees of the 0.5 closed (a quarter of the 2 opened), in USD:
    #   trading  = 15.6 x 0.25 (opening trade's share) + 3100 x 0.5 x 0.0026 (closing taker fee, 4.03) = 7.93
    #   opening  = 6000 x 0.0001 (the margin opening fee on the 6000 cost) x 0.25 = 0.15
    #   rollover = 2 marks x 0.6 x 0.25 = 0.30
    assert part.fees == FeeSplit(D("7.93"), D("0.15"), D("0.30"))
    # Realised = (3100 - 3000) x 0.5 - (7.93 + 0.15 + 0.30) = 50 - 8.38 = 41.62
    assert part.realized_pnl == D("41.62")
    assert rows[0].opened_at is not None and rows[0].opened_at < rows[0].closed_at
    assert server.requests_to("TradesHistory") and server.requests_to("Ledgers")


def test_kraken_rows_replace_the_journal_row_of_the_same_position():
    at = datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)
    fees = FeeSplit(D("1"), D("0"), D("0"))
    journal = [ClosedPosition("TX-A", "ETH/USD", "long", D("2"), None, at, D("3000"), D("3200"), D("399"), fees,
                              "closed", "USD"),
               ClosedPosition("TX-OLD", "BTC/USD", "long", D("1"), None, at - timedelta(days=40), D("1"), D("2"),
                              D("0"), fees, "closed", "USD")]
    venue = [ClosedPosition("TX-A", "ETH/USD", "long", D("0.5"), None, at - timedelta(hours=1), D("3000"),
                            D("3100"), D("41.62"), fees, "closed", "USD"),
             ClosedPosition("TX-A", "ETH/USD", "long", D("1.5"), None, at, D("3000"), D("3200"), D("290"), fees,
                            "closed", "USD")]
    rows = merged(journal, venue)
    assert [(r.id, r.volume) for r in rows] == [("TX-A", D("1.5")), ("TX-A", D("0.5")), ("TX-OLD", D("1"))]


def test_a_history_longer_than_one_page_is_read_page_by_page(server, kraken):
    # 60 positions opened and closed: 60 openings + 60 closings = 120 TradesHistory rows, which Kraken answers
    # 50 at a time (ofs 0, 50, 100: three calls); 60 closing orders in ClosedOrders (two pages). A reader that
    # took the first page only would show 50 - (openings on it) positions, not 60.
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    server.set_balance(D("500000"))
    server.set_prices({"ETH/USD": D("3000")})
    ids = [server.add_position("ETH/USD", "long", D("0.1"), D("3000"), leverage=2, opened_at=time.time() - 60)
           for _ in range(60)]
    for pid in ids:
        kraken.close_position(pid, D("0.1"))
    rows = kraken.closed_history(start)
    assert sorted(r.id for r in rows) == sorted(ids)
    offsets = [r.get("ofs", "0") for r in server.requests_to("TradesHistory")]
    assert offsets == ["0", "50", "100"]
