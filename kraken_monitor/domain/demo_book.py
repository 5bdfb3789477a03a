"""The demo portfolio: a believable multi-currency margin book on a paper account, nothing liquidated yet."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from kraken_monitor.domain.exposure import pair_currency
from kraken_monitor.domain.fx import fx_rate
from kraken_monitor.domain.models import MarginMode, Side
from kraken_monitor.domain.orders import OpenOrder, OrderSide, OrderSpec, OrderType
from kraken_monitor.domain.paper_account import PaperAccount
from kraken_monitor.domain.paper_orders import new_order

# Sized relative to the collateral so it looks the same at any price level (paper mode rescales it to
# live prices): a losing 3x BTC long (oldest, so first in Kraken's FIFO liquidation), a short ETH
# squeezed against, a 2x ETH/BTC long (quoted in BTC) and a 3x ETH/EUR long (quoted in EUR) so a
# newcomer sees the multi-currency path first (issue 11), a fresh 5x SOL long and an isolated 5x XRP
# long close to its own liquidation price. Together they leave the cross account a little above 100%
# margin level (watch), so the first launch already has something to watch. The newest, a small 3x BTC
# long bought this morning, is the one with a stop-loss (DEMO_STOPS): in the demo crash the stop sells it
# early with a bounded loss while the older, unprotected BTC long rides down to its liquidation (issue 16).
# (pair, side, leverage, notional / collateral, entry / today's price, hours ago, mode)
_DEMO_BOOK = (
    ("BTC/USD", Side.LONG, 3, "1.2", "1.08", 70, MarginMode.CROSS),
    ("ETH/USD", Side.SHORT, 2, "0.36", "0.94", 46, MarginMode.CROSS),
    ("ETH/BTC", Side.LONG, 2, "0.06", "1.03", 30, MarginMode.CROSS),
    ("SOL/USD", Side.LONG, 5, "0.32", "1.05", 21, MarginMode.CROSS),
    ("ETH/EUR", Side.LONG, 2, "0.06", "0.98", 14, MarginMode.CROSS),
    ("XRP/USD", Side.LONG, 5, "0.4", "1.095", 9, MarginMode.ISOLATED),
    ("BTC/USD", Side.LONG, 3, "0.06", "1.01", 3, MarginMode.CROSS),
)
# Protective stops of the demo book: (index in _DEMO_BOOK, trigger / today's price). 0.96: 4% below the
# price at start, about 5% below its entry -- a common trader's stop, far above any liquidation price.
DEMO_STOPS = ((6, "0.96"),)
DEMO_BOOK_PAIRS = tuple(row[0] for row in _DEMO_BOOK)
# Prices the book needs besides its own pairs: the FX rates of its BTC- and EUR-quoted positions.
DEMO_FX_PAIRS = ("BTC/USD", "EUR/USD")


def demo_portfolio(prices: Mapping[str, Decimal], now: datetime, collateral: Decimal = Decimal("25000"),
                   currency: str = "USD") -> PaperAccount:
    """A believable account opened over the last days, rollovers charged up to `now`, nothing liquidated.

    A position whose pair or FX rate has no price is left out (it cannot be sized honestly).
    """
    return demo_book(prices, now, collateral, currency)[0]


def demo_book(prices: Mapping[str, Decimal], now: datetime, collateral: Decimal = Decimal("25000"),
              currency: str = "USD", order_ids: Callable[[], str] | None = None
              ) -> tuple[PaperAccount, tuple[OpenOrder, ...]]:
    """`demo_portfolio` and its resting stop-losses (DEMO_STOPS: whole position, reduce-only, on last)."""
    account = PaperAccount.funded(collateral, currency=currency)
    stops: list[tuple[str, Decimal]] = []  # (position id, trigger)
    for row, (pair, side, leverage, share, entry_factor, hours, mode) in enumerate(_DEMO_BOOK):
        price = prices.get(pair)
        rate = fx_rate(pair_currency(pair, None), currency, prices, {})
        if price is None or rate is None:
            continue
        entry = (price * Decimal(entry_factor)).quantize(price)  # keep the pair's price decimals
        volume = (collateral / rate * Decimal(share) / entry).quantize(Decimal("0.00000001"))
        terms = "0.0100% per 4 hours" if pair == "BTC/USD" else None
        opened_at = now - timedelta(hours=hours, minutes=17)
        account = account.open_position(pair, side, volume, entry, leverage, opened_at, margin_mode=mode,
                                        terms=terms, prices=prices)
        stops.extend((account.positions[-1].id, (price * Decimal(f)).quantize(price))
                     for r, f in DEMO_STOPS if r == row)
    account = account.charge_rollovers(now, prices)
    numbers = iter(range(1, 1 + len(stops)))
    next_id = order_ids or (lambda: f"PAPER-STOP-{next(numbers):05d}")
    orders = []
    for position_id, trigger in stops:
        p = account.position(position_id)
        spec = OrderSpec(position_id=p.id, pair=p.pair, type=OrderType.STOP_LOSS, side=OrderSide.closing(p.side),
                         volume=p.remaining_volume, trigger_price=trigger)
        orders.append(new_order(next_id(), account, spec, prices[p.pair], now))
    return account, tuple(orders)
