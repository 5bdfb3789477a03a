"""Will a reduce-only limit close fill soon? The warning a trader must read before confirming one."""

from __future__ import annotations

from decimal import Decimal

from kraken_monitor.domain.models import Side, Ticker
from kraken_monitor.text import numbers as fmt

FAR_FROM_MARKET_PCT = Decimal(10)


def close_market_price(side: Side, ticker: Ticker | None, last: Decimal) -> Decimal:
    """The price a close fills against: the bid when selling a long, the ask when buying back a short."""
    if ticker is None:
        return last
    return ticker.bid if side is Side.LONG else ticker.ask


def is_resting(side: Side, ticker: Ticker | None, last: Decimal, limit: Decimal) -> bool:
    """True when the limit close would sit on the book instead of filling at once."""
    market = close_market_price(side, ticker, last)
    return limit > market if side is Side.LONG else limit < market


def limit_fill_warning(side: Side, ticker: Ticker | None, last: Decimal, limit: Decimal, decimals: int) -> str:
    """"" when the limit fills at once near it; otherwise why it rests, may never fill, or fills far from it.

    Closing a long sells (fills against the bid), closing a short buys (against the ask). A sell above
    the bid or a buy below the ask rests on the book until the market reaches it.
    """
    selling = side is Side.LONG
    market = close_market_price(side, ticker, last)
    if market is None or market <= 0:
        return "No current market price: cannot tell whether this limit would fill."
    gap_pct = abs(limit - market) / market * 100
    shown = fmt.fmt_decimal(market, decimals)
    if is_resting(side, ticker, last, limit):
        way = "rise" if selling else "fall"
        text = (
            f"This limit will not fill now: the market is at {shown} and must {way} {fmt.fmt_pct(gap_pct, places=1)} to reach "
            "it. The order rests on the book and the preview assumes it fills."
        )
        if gap_pct > FAR_FROM_MARKET_PCT:
            text += f" It is more than {FAR_FROM_MARKET_PCT} % away and may never fill."
        return text
    if gap_pct > FAR_FROM_MARKET_PCT:
        way = "below" if selling else "above"
        return (
            f"This limit is {fmt.fmt_pct(gap_pct, places=1)} {way} the market ({shown}): it fills at once at the market price, "
            "not near your limit."
        )
    return ""
