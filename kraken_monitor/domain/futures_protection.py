"""Kraken Futures positions' protective orders: attached, priced and warned about with domain/protection.py's rules.

A futures order protects a position when it is reduce-only, on the other side, in the same contract
(Kraken Futures nets one position per contract: a reduce-only order can never open or flip one). P&L if it
fills = the position's P&L at the fill on the closed size + that share of its unrealized funding - the
taker fee on the fill's notional (a triggered order takes liquidity; a resting limit close pays the maker
fee). `stop_beyond_liquidation` compares the stop's trigger with the liquidation price judged on the mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain import protection
from kraken_monitor.domain.futures import FuturesBook, FuturesPositionFigures
from kraken_monitor.domain.futures_liquidation import pnl_at
from kraken_monitor.domain.orders import OpenOrder, OrderSpec, OrderType

# Kraken Futures' lowest-volume tier fees (futures.kraken.com/features/fee-schedule: 0.02 % maker, 0.05 % taker).
FUTURES_TAKER_FEE_RATE = Decimal("0.0005")
FUTURES_MAKER_FEE_RATE = Decimal("0.0002")


def futures_fee_rate(kind: OrderType) -> Decimal:
    return FUTURES_MAKER_FEE_RATE if kind is OrderType.LIMIT else FUTURES_TAKER_FEE_RATE


def pnl_if_filled(pf: FuturesPositionFigures, price: Decimal | None, volume: Decimal, rate: Decimal,
                  now: datetime) -> Decimal | None:
    """Net USD of closing `volume` (capped at the position) at `price`: P&L + funding share - fee."""
    p = pf.position
    if price is None or price <= 0 or volume <= 0 or p.volume <= 0:
        return None
    closed = min(volume, p.volume)  # an order larger than the position closes it (and warns)
    return (pnl_at(p.side, closed, p.entry_price, price) + p.unrealized_funding * closed / p.volume
            - rate * price * closed)


def _reduce_only(orders: Iterable[OpenOrder]) -> Iterable[OpenOrder]:
    # protection.attach also takes margin / conditional orders (spot); on futures only reduce-only ones protect.
    for order in orders:
        yield order if order.reduce_only else replace(order, margin=False, conditional=False)


def attach_orders(rows: tuple[FuturesPositionFigures, ...], orders: Iterable[OpenOrder], now: datetime,
                  ) -> tuple[tuple[FuturesPositionFigures, ...], tuple[OpenOrder, ...]]:
    """Rows with their orders, nearest stop / take-profit, P&L if they fire and warnings; plus unattached orders."""
    out, loose = protection.attach(tuple(_reduce_only(orders)), rows, now, pnl=pnl_if_filled,
                                   rate=futures_fee_rate)
    return tuple(out), loose


def with_orders(book: FuturesBook, orders: Iterable[OpenOrder]) -> FuturesBook:
    """The book with its openorders read in (a stale book stays as it is: its orders are not known either)."""
    if book.stale or book.account is None:
        return book
    rows, loose = attach_orders(book.positions, orders, book.as_of)
    return replace(book, positions=rows, orders=loose)


def preview(pf: FuturesPositionFigures, spec: OrderSpec, now: datetime, price: Decimal | None = None,
            others: Iterable[OpenOrder] = ()) -> protection.ProtectionPreview:
    """The Protect dialog's preview on a futures position: distance from the mark, P&L at the fill after the
    taker fee, and where it sits against the liquidation price (no margin call on Kraken Futures)."""
    return protection.preview(pf, spec, now, price, others, pnl=pnl_if_filled, rate=futures_fee_rate)
