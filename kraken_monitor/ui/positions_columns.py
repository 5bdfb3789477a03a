"""The positions table's columns: headers, raw sort values, what each cell is made of, and its text."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from operator import attrgetter

from kraken_monitor.domain.costs import pnl_breakdown
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.models import PairRules, PositionFigures, Risk
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.pnl import NET_PNL_MEANING, net_pnl_tooltip
from kraken_monitor.ui import positions_order_columns as order_columns

FIRST_LIQUIDATED_TIP = "Kraken liquidates this position first (oldest, FIFO)"
FIRST_BADGE = "1st"


class Column(enum.IntEnum):
    PAIR = 0
    SIDE = 1
    SIZE = 2
    ENTRY = 3
    PRICE = 4
    LEVERAGE = 5
    COST = 6
    USED_MARGIN = 7
    PNL = 8
    PNL_PCT = 9
    FEES = 10
    NET_PNL = 11
    BREAK_EVEN = 12
    MARGIN_CALL_PRICE = 13
    LIQUIDATION_PRICE = 14
    DISTANCE_TO_LIQUIDATION = 15
    NEXT_ROLLOVER = 16
    RISK = 17
    # Protective orders (issue 16): ui/positions_order_columns.py makes their cells.
    STOP_LOSS = 18
    TAKE_PROFIT = 19
    PROTECTION = 20
    ACCOUNT = 21  # venue and kind: "spot margin demo", "futures live" (the model names each row's account)


_ORDER_KEYS = {Column.STOP_LOSS: "stop_loss", Column.TAKE_PROFIT: "take_profit", Column.PROTECTION: "protection"}


HEADERS = {
    Column.PAIR: "Pair",
    Column.SIDE: "Side",
    Column.SIZE: "Size",
    Column.ENTRY: "Entry",
    Column.PRICE: "Price",
    Column.LEVERAGE: "Leverage",
    Column.COST: "Cost",
    Column.USED_MARGIN: "Used margin",
    Column.PNL: "P&L",
    Column.PNL_PCT: "P&L %",
    Column.FEES: "Fees & rollovers",
    Column.NET_PNL: "Net P&L",
    Column.BREAK_EVEN: "Break-even",
    Column.MARGIN_CALL_PRICE: "Margin call at",
    Column.LIQUIDATION_PRICE: "Liquidation at",
    Column.DISTANCE_TO_LIQUIDATION: "To liquidation",
    Column.NEXT_ROLLOVER: "Next rollover",
    Column.RISK: "Risk",
    **dict(zip(_ORDER_KEYS, order_columns.HEADERS, strict=True)),
    Column.ACCOUNT: "Account",
}

# Money is in the account currency (named in the header); prices are in each row's quote currency.
MONEY_COLUMNS = (Column.COST, Column.USED_MARGIN, Column.PNL, Column.FEES, Column.NET_PNL)
PRICE_COLUMNS = (Column.ENTRY, Column.PRICE, Column.BREAK_EVEN, Column.MARGIN_CALL_PRICE, Column.LIQUIDATION_PRICE)
PASSED = "passed"


def header_text(column: Column, currency: str | None, quote: str | None = None) -> str:
    """The header with its unit: 'Cost (USD)' for account money; prices in `quote` when every row shares
    one quote currency, else '(quote)': each row's price is in its own pair's quote currency."""
    if column in MONEY_COLUMNS and currency:
        return f"{HEADERS[column]} ({currency})"
    if column in PRICE_COLUMNS:
        return f"{HEADERS[column]} ({quote or 'quote'})"
    return HEADERS[column]


def _account_cost(pf: PositionFigures) -> Decimal:
    """The opening cost in the account currency the header names; `position.cost` is in the pair's quote
    currency (0.1 BTC for an ETH/BTC position), so it is shown only for a record that predates conversion."""
    return pf.cost if pf.cost is not None else pf.position.cost


def _trigger_text(price, distance, rules: PairRules | None) -> str:
    """A margin-call / liquidation price; one the market has already crossed reads 'passed'."""
    if price is not None and distance is not None and distance < 0:
        return f"{PASSED} ({fmt.fmt_price(price, rules)})"
    return fmt.fmt_price(price, rules)


HEADER_TIPS = {
    Column.PNL: "Unrealised P&L as Kraken reports it: excludes trading, opening and rollover fees",
    Column.PNL_PCT: "Unrealised P&L in % of the margin used at opening",
    Column.FEES: "Trading fee + margin opening fee + rollovers charged so far",
    Column.NET_PNL: NET_PNL_MEANING,
    Column.MARGIN_CALL_PRICE: "Price of this pair at which the margin call level is reached (other pairs constant); "
    "'passed' when the market is already beyond it",
    Column.LIQUIDATION_PRICE: "Price of this pair at which Kraken liquidates (other pairs constant)",
    Column.DISTANCE_TO_LIQUIDATION: "Room left before the liquidation price, % of the current price",
    **dict(zip(_ORDER_KEYS, order_columns.HEADER_TIPS, strict=True)),
    Column.ACCOUNT: "The monitored account: venue (spot margin or futures) and kind (demo, paper, live)",
}

# Raw sort values per column (Decimal/str/datetime/int), indexed like _COLUMNS.
SORT_VALUE = (
    lambda pf: pf.position.pair,
    lambda pf: pf.position.side.value,
    lambda pf: pf.remaining_volume,
    lambda pf: pf.entry_price,
    lambda pf: pf.price,
    lambda pf: pf.leverage,
    _account_cost,
    lambda pf: pf.used_margin,
    lambda pf: pf.unrealized_pnl,
    lambda pf: pf.pnl_pct,
    lambda pf: pf.fees,
    lambda pf: pf.net_pnl,
    lambda pf: pf.break_even_price,
    lambda pf: pf.margin_call_price,
    lambda pf: pf.liquidation_price,
    lambda pf: pf.distance_to_liquidation_pct,
    lambda pf: pf.next_rollover,
    lambda pf: int(pf.risk),
    *order_columns.SORT_VALUE,
    lambda pf: None,  # Column.ACCOUNT: the model sorts it on the row's account name
)
# What each column's text is made of, for the smallest dataChanged range of a tick (NEXT_ROLLOVER
# also follows the snapshot's clock, RISK its staleness: both checked in positions_changes.changed_range).
FIELDS = tuple(f.split() for f in (
    "position.pair position.margin_mode liquidation_order", "position.side", "remaining_volume", "entry_price",
    "price", "leverage", "cost position.cost", "used_margin", "unrealized_pnl position.exchange_net", "pnl_pct", "fees",
    "net_pnl", "break_even_price", "margin_call_price distance_to_margin_call_pct",
    "liquidation_price distance_to_liquidation_pct", "distance_to_liquidation_pct distance_to_margin_call_pct", "next_rollover projected_cost_24h", "risk",
    *order_columns.FIELDS,
    "position.id",  # Column.ACCOUNT: a row's account never changes under the same id
))  # fmt: skip
INPUTS = tuple(attrgetter(*f) for f in FIELDS)


def cell_text(pf: PositionFigures, column: Column, rules: PairRules | None, now: datetime | None, risk: Risk) -> str:
    """The text of one cell; `risk` is the row's shown risk (UNKNOWN when the data is stale)."""
    p = pf.position
    if column in _ORDER_KEYS:
        return order_columns.cell_text(pf, _ORDER_KEYS[column], rules)
    if column is Column.PAIR:
        text = p.pair + (" \u00b7 isolated" if p.margin_mode.value == "isolated" else "")
        return f"{text}  [{FIRST_BADGE}]" if pf.liquidation_order == 1 else text
    if column is Column.SIDE:
        return p.side.value
    if column is Column.SIZE:
        return fmt.fmt_volume(pf.remaining_volume, rules)
    if column is Column.ENTRY:
        return fmt.fmt_price(pf.entry_price, rules)
    if column is Column.PRICE:
        return fmt.fmt_price(pf.price, rules)
    if column is Column.LEVERAGE:
        return fmt.fmt_leverage(pf.leverage)
    if column is Column.COST:
        return fmt.fmt_amount(_account_cost(pf), pf.account_currency)
    if column is Column.USED_MARGIN:
        return fmt.fmt_amount(pf.used_margin, pf.account_currency)
    if column is Column.PNL:
        return fmt.fmt_amount(pf.unrealized_pnl, pf.account_currency, signed=True)
    if column is Column.PNL_PCT:
        return fmt.fmt_pct(pf.pnl_pct, signed=True)
    if column is Column.FEES:
        return fmt.fmt_amount(pf.fees, pf.account_currency)
    if column is Column.NET_PNL:
        return fmt.fmt_amount(pf.net_pnl, pf.account_currency, signed=True)
    if column is Column.BREAK_EVEN:
        return fmt.fmt_price(pf.break_even_price, rules)
    if column is Column.MARGIN_CALL_PRICE:
        return _trigger_text(pf.margin_call_price, pf.distance_to_margin_call_pct, rules)
    if column is Column.LIQUIDATION_PRICE:
        return _trigger_text(pf.liquidation_price, pf.distance_to_liquidation_pct, rules)
    if column is Column.DISTANCE_TO_LIQUIDATION:
        distance = pf.distance_to_liquidation_pct
        return PASSED if distance is not None and distance < 0 else fmt.fmt_pct(distance)
    if column is Column.NEXT_ROLLOVER:
        return fmt.fmt_until(pf.next_rollover, now) if now else fmt.fmt_time(pf.next_rollover)
    return risk.label  # Column.RISK


def cell_tooltip(
    pf: PositionFigures, column: Column, stale_reason: str | None, now: datetime | None = None,
    rules: PairRules | None = None,
) -> str | None:
    """`stale_reason` is None while the data is fresh; `now` is the snapshot's time."""
    if column in _ORDER_KEYS:
        return order_columns.cell_tooltip(pf, _ORDER_KEYS[column], rules)
    if column is Column.NET_PNL:
        return _net_pnl_tip(pf, now)
    if column is Column.PAIR and pf.liquidation_order == 1:
        return FIRST_LIQUIDATED_TIP
    if column is Column.RISK and stale_reason is not None:
        return "Risk unknown: data is stale" + (f" ({stale_reason})" if stale_reason else "")
    if column is Column.NEXT_ROLLOVER and pf.next_rollover is not None:
        return (
            f"{fmt.fmt_datetime(pf.next_rollover)}; projected rollover cost next 24 h: "
            f"{fmt.fmt_money(pf.projected_cost_24h, pf.account_currency)}"
        )
    if column is Column.PNL and pf.position.exchange_net is not None:
        # Kraken's `net` is in the pair's quote currency (OpenPositions docalcs), not the account's.
        return f"Kraken reports {fmt.fmt_money(pf.position.exchange_net, pf.quote_currency, signed=True)}"
    if column is Column.DISTANCE_TO_LIQUIDATION and pf.distance_to_margin_call_pct is not None:
        return f"To margin call: {fmt.fmt_pct(pf.distance_to_margin_call_pct)}"
    if column in (Column.PRICE, Column.ENTRY, Column.BREAK_EVEN):
        return HEADERS[column]
    return None


def _net_pnl_tip(pf: PositionFigures, now: datetime | None) -> str:
    if now is None or pf.unknown or pf.fx_rate is None:
        return NET_PNL_MEANING
    try:
        return net_pnl_tooltip(pnl_breakdown(pf.position, pf.price, now, pf.fx_rate, pf.account_currency))
    except DomainError:  # a row the engine could not price: the cell shows a dash already
        return NET_PNL_MEANING
