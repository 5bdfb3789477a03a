"""Kraken Futures rows in the one positions table: their own figures per column, a dash where a column is spot-only.

A futures position has no cost basis, break-even, margin call or rollover as Kraken spot margin defines
them; those cells read a dash, never a 0 that could look safe. Its own figures (margin mode, mark,
leverage, P&L with funding, liquidation price marked "est." when it is ours) sit in the columns that
mean the same thing for both venues.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kraken_monitor.domain.futures import FuturesBook, FuturesPositionFigures
from kraken_monitor.domain.models import FUTURES_KEY_PREFIX, MarginMode, PairRules, Risk, Side
from kraken_monitor.domain.orders import OpenOrder
from kraken_monitor.domain.venue import Venue
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text.accounts import account_name
from kraken_monitor.ui import positions_order_columns as order_columns
from kraken_monitor.ui.positions_columns import Column

ESTIMATE_MARK = " (est.)"
CROSS = "cross"
SPOT_ONLY_TIP = "Kraken spot margin only: not a Kraken Futures figure"
ORDERS_NOT_READ_TIP = "This futures account's open orders were not read: its protection is unknown"
FUNDING_AS_COST_TIP = ("Unrealized funding as a cost (paid = positive), the futures counterpart of rollovers: "
                       "Kraken {verb} {amount}. Trading fees are not included.")


@dataclass(frozen=True)
class RowPosition:
    """What the table's bookkeeping reads of a row's position (the spot Position's attribute names)."""

    id: str  # "futures:<Kraken id>": never equal to a spot position id
    pair: str
    side: Side
    margin_mode: MarginMode
    cost: None = None
    exchange_net: None = None


@dataclass(frozen=True)
class FuturesRow:
    """One futures position as a table row: the spot row's attribute names, None where spot-only.

    `risk` is the shown risk (UNKNOWN while its book is stale); `figures` keeps Kraken's own record.
    """

    figures: FuturesPositionFigures
    account: str
    position: RowPosition
    price: Decimal  # the mark: Kraken Futures liquidates on it, not on the last trade
    entry_price: Decimal
    remaining_volume: Decimal
    leverage: Decimal | None  # isolated only; cross positions share the account's margin
    used_margin: Decimal | None  # isolated: allocated margin
    unrealized_pnl: Decimal
    pnl_pct: Decimal | None
    fees: Decimal  # unrealized funding as a cost: paid funding positive
    net_pnl: Decimal
    liquidation_price: Decimal | None
    distance_to_liquidation_pct: Decimal | None
    risk: Risk
    price_decimals: int
    account_currency: str = "USD"
    cost: None = None
    break_even_price: None = None
    margin_call_price: None = None
    distance_to_margin_call_pct: None = None
    next_rollover: None = None
    projected_cost_24h: None = None
    liquidation_order: None = None
    # Protective-order columns (issue 16), from Kraken Futures openorders (domain/futures_protection.py): None =
    # not read ("not known"), never an empty tuple that would read as "unprotected".
    orders: tuple[OpenOrder, ...] | None = None
    warnings: tuple[str, ...] = ()
    stop_loss_price: Decimal | None = None
    stop_loss_distance_pct: Decimal | None = None
    stop_loss_pnl: Decimal | None = None
    take_profit_price: Decimal | None = None
    take_profit_distance_pct: Decimal | None = None
    take_profit_pnl: Decimal | None = None

    @property
    def futures_id(self) -> str:
        """Kraken's id of the position (what the leverage change and the alerts name)."""
        return self.figures.position.id

    @property
    def estimate(self) -> bool:
        return self.figures.liquidation_price_source == "estimate" and self.liquidation_price is not None


def is_futures_row(row: object) -> bool:
    return isinstance(row, FuturesRow)


def _decimals(tick: Decimal | None) -> int:
    """Places of a price on a contract with this tick size (0.5 -> 1, 0.01 -> 2)."""
    if tick is None or tick <= 0:
        return fmt.DEFAULT_PRICE_DECIMALS
    exponent = tick.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else fmt.DEFAULT_PRICE_DECIMALS


def futures_rows(book: FuturesBook, stale: bool) -> tuple[FuturesRow, ...]:
    """Rows of `book`; `stale`: the book is not fresh any more, every row's risk is unknown."""
    account = account_name(Venue.FUTURES, book.mode)
    currency = book.account.flex.currency if book.account is not None else "USD"
    rows = []
    for pf in book.positions:
        p = pf.position
        contract = book.contracts.get(p.pair)
        allocated = pf.allocated_margin
        isolated = p.margin_mode is MarginMode.ISOLATED
        rows.append(FuturesRow(
            figures=pf, account=account,
            position=RowPosition(f"{FUTURES_KEY_PREFIX}{p.id}", p.pair, p.side, p.margin_mode),
            price=pf.mark_price, entry_price=p.entry_price, remaining_volume=p.volume,
            leverage=p.leverage if isolated else None, used_margin=allocated if isolated else None,
            unrealized_pnl=pf.unrealized_pnl,
            # P&L % of the margin the position holds: only an isolated position has margin of its own.
            pnl_pct=pf.unrealized_pnl / allocated * 100 if isolated and allocated else None,
            fees=-p.unrealized_funding, net_pnl=pf.net_pnl, liquidation_price=pf.liquidation_price,
            distance_to_liquidation_pct=pf.distance_to_liquidation_pct,
            risk=Risk.UNKNOWN if stale else pf.risk,
            price_decimals=_decimals(contract.tick_size if contract is not None else None),
            account_currency=currency, orders=pf.orders, warnings=pf.warnings,
            stop_loss_price=pf.stop_loss_price, stop_loss_distance_pct=pf.stop_loss_distance_pct,
            stop_loss_pnl=pf.stop_loss_pnl, take_profit_price=pf.take_profit_price,
            take_profit_distance_pct=pf.take_profit_distance_pct, take_profit_pnl=pf.take_profit_pnl))
    return tuple(rows)


def _price(value: Decimal | None, row: FuturesRow) -> str:
    return fmt.fmt_decimal(value, row.price_decimals)


def _money(value: Decimal | None, row: FuturesRow, header_currency: str | None, *, signed: bool = False) -> str:
    """In the column's currency without a unit; with its own unit when the header names another currency."""
    if header_currency and header_currency != row.account_currency:
        return fmt.fmt_money(value, row.account_currency, signed=signed)
    return fmt.fmt_amount(value, row.account_currency, signed=signed)


def futures_cell_text(row: FuturesRow, column: Column, header_currency: str | None = None) -> str:
    """The text of one futures cell (the Account column is the model's, for both venues)."""
    p = row.position
    if column is Column.PAIR:
        return f"{p.pair} \u00b7 {p.margin_mode.value}"
    if column is Column.SIDE:
        return p.side.value
    if column is Column.SIZE:
        return fmt.fmt_plain(row.remaining_volume, 4)
    if column is Column.ENTRY:
        return _price(row.entry_price, row)
    if column is Column.PRICE:
        return _price(row.price, row)
    if column is Column.LEVERAGE:
        return fmt.fmt_leverage(row.leverage) if row.leverage is not None else CROSS
    if column is Column.USED_MARGIN:
        return _money(row.used_margin, row, header_currency)
    if column is Column.PNL:
        return _money(row.unrealized_pnl, row, header_currency, signed=True)
    if column is Column.PNL_PCT:
        return fmt.fmt_pct(row.pnl_pct, signed=True)
    if column is Column.FEES:
        return _money(row.fees, row, header_currency)
    if column is Column.NET_PNL:
        return _money(row.net_pnl, row, header_currency, signed=True)
    if column is Column.LIQUIDATION_PRICE:
        if row.liquidation_price is None:
            return fmt.DASH
        return _price(row.liquidation_price, row) + (ESTIMATE_MARK if row.estimate else "")
    if column is Column.DISTANCE_TO_LIQUIDATION:
        distance = row.distance_to_liquidation_pct
        return "passed" if distance is not None and distance < 0 else fmt.fmt_pct(distance)
    if column is Column.RISK:
        return row.risk.label
    if column in _ORDER_KEYS:
        return order_columns.cell_text(row, _ORDER_KEYS[column], format_rules(row))  # type: ignore[arg-type]
    return fmt.DASH  # cost, break-even, margin call, next rollover: spot margin only


_SPOT_ONLY = frozenset({Column.COST, Column.BREAK_EVEN, Column.MARGIN_CALL_PRICE, Column.NEXT_ROLLOVER})
_ORDER_KEYS = dict(zip((Column.STOP_LOSS, Column.TAKE_PROFIT, Column.PROTECTION), order_columns.KEYS, strict=True))


def format_rules(row: FuturesRow) -> PairRules:
    """The price / size places of the contract, in the shape the order texts format with (no margin levels)."""
    base, _, rest = row.position.pair.partition("/")
    return PairRules(row.position.pair, base, rest.split(":")[0] or "USD", Decimal(0), Decimal(0),
                     price_decimals=row.price_decimals, volume_decimals=4)


def futures_cell_tooltip(row: FuturesRow, column: Column, stale_reason: str | None) -> str | None:
    if column in _SPOT_ONLY:
        return SPOT_ONLY_TIP
    if column in _ORDER_KEYS:
        if row.orders is None:
            return ORDERS_NOT_READ_TIP
        return order_columns.cell_tooltip(row, _ORDER_KEYS[column], format_rules(row))  # type: ignore[arg-type]
    if column is Column.RISK and row.risk is Risk.UNKNOWN:
        return "Risk unknown: the futures data is stale" + (f" ({stale_reason})" if stale_reason else "")
    if column is Column.PRICE:
        return "Mark price: Kraken Futures judges liquidation on the mark, not the last trade"
    if column is Column.LEVERAGE and row.leverage is None:
        return "Cross margin: the position draws on the whole futures account's margin"
    if column is Column.USED_MARGIN and row.used_margin is None:
        return "Cross margin: no margin of its own (the account's maintenance margin covers it)"
    if column is Column.FEES:
        funding = row.figures.position.unrealized_funding
        verb = "paid" if funding < 0 else "credited"
        return FUNDING_AS_COST_TIP.format(verb=verb, amount=fmt.fmt_money(abs(funding), row.account_currency))
    if column is Column.NET_PNL:
        return (f"Unrealized P&L {fmt.fmt_money(row.unrealized_pnl, row.account_currency, signed=True)} + unrealized "
                f"funding {fmt.fmt_money(row.figures.position.unrealized_funding, row.account_currency, signed=True)}"
                "; Kraken Futures trading fees are not included")
    if column is Column.LIQUIDATION_PRICE and row.liquidation_price is not None:
        if row.estimate:
            return ("Our estimate (the futures WebSocket's liquidation_threshold is not read): the mark at which "
                    "Kraken starts liquidating, every other mark held")
        return "Kraken's liquidation threshold (mark price)"
    if column is Column.PAIR:
        return f"Kraken Futures position {row.futures_id}, {row.position.margin_mode.value} margin"
    return None


def futures_sort_value(row: FuturesRow, column: Column) -> Any:
    """The raw value a futures cell sorts on (the same kinds as the spot column: Decimal, str, int)."""
    if column is Column.RISK:
        return int(row.risk)
    if column is Column.PAIR:
        return row.position.pair
    if column is Column.SIDE:
        return row.position.side.value
    return getattr(row, _SORT_ATTR.get(column, ""), None)


_SORT_ATTR = {Column.SIZE: "remaining_volume", Column.ENTRY: "entry_price", Column.PRICE: "price",
              Column.LEVERAGE: "leverage", Column.USED_MARGIN: "used_margin", Column.PNL: "unrealized_pnl",
              Column.PNL_PCT: "pnl_pct", Column.FEES: "fees", Column.NET_PNL: "net_pnl",
              Column.LIQUIDATION_PRICE: "liquidation_price",
              Column.DISTANCE_TO_LIQUIDATION: "distance_to_liquidation_pct",
              Column.STOP_LOSS: "stop_loss_distance_pct", Column.TAKE_PROFIT: "take_profit_distance_pct"}
