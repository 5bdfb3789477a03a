"""`snapshot --venue futures`: one read of the futures account (never an order, transfer or leverage change)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import TextIO

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures import FuturesBook, book_figures
from kraken_monitor.domain.futures_liquidation import FuturesContract
from kraken_monitor.domain.futures_protection import with_orders
from kraken_monitor.exchange.errors import AuthFailed, ExchangeError
from kraken_monitor.exchange.futures_base import FuturesExchange
from kraken_monitor.exchange.text import printable
from kraken_monitor.text import numbers as fmt
from kraken_monitor.text import orders as orders_text
from kraken_monitor.worker.cycle import utc_now
from kraken_monitor.worker.headless import EXIT_OK, _fail
from kraken_monitor.worker.serialize import futures_snapshot_to_json

log = logging.getLogger(__name__)

SNAPSHOT_FEED_WAIT_S = 5.0  # how long a snapshot waits for the futures WebSocket before printing estimates


def read_futures_book(exchange: FuturesExchange, thresholds: AlertThresholds, now: datetime,
                      contracts: dict[str, FuturesContract] | None = None) -> FuturesBook:
    """Contracts (unless given: the instruments list is large), account and marks in one pass. A missing mark
    or contract for a held position makes the book stale with the reason: its risk is unknown, never guessed."""
    contracts = contracts or exchange.load_contracts()
    marks = exchange.fetch_marks()  # first: a simulated venue fills the triggers these marks reached
    flex, positions = exchange.fetch_account()
    # Part of the account read: a failed openorders fails the whole read (never positions without their orders).
    orders = exchange.fetch_open_orders()
    mode = str(exchange.mode)
    unpriced = sorted({p.pair for p in positions if p.pair not in marks or p.pair not in contracts})
    if unpriced:
        return FuturesBook(mode, now, None, (), stale=True,
                           stale_reason=f"no mark price or margin schedule for {', '.join(unpriced)}")
    account, rows = book_figures(flex, positions, marks, contracts, thresholds)
    return with_orders(FuturesBook(mode, now, account, rows, contracts=contracts), orders)


def run_futures_snapshot(config: MonitorConfig, as_json: bool, out: TextIO = sys.stdout,
                         err: TextIO = sys.stderr) -> int:
    """Print the futures book; exit 2 with one stderr line on any failure (never an empty position list)."""
    from kraken_monitor.exchange.futures_factory import create_futures_exchange  # lazy: imports ccxt
    from kraken_monitor.worker.futures_live import futures_feed_for

    exchange = None
    feed = futures_feed_for(config, 1.0)  # `--prices stream`: Kraken's liquidation thresholds, if it answers
    try:
        exchange = create_futures_exchange(config.mode, config.api_url)
        if feed is not None:
            exchange = feed.wrap(exchange)
        book = read_futures_book(exchange, config.thresholds, utc_now())
        if feed is not None:
            book = feed.settled_book(book, config.thresholds, SNAPSHOT_FEED_WAIT_S)
        if book.stale or book.account is None:
            return _fail(err, f"incomplete data from the {config.mode} futures exchange: {book.stale_reason}")
    except AuthFailed as exc:
        return _fail(err, f"authentication failed: {exc}")
    except ExchangeError as exc:
        return _fail(err, f"cannot read the {config.mode} futures account: {exc}")
    except Exception as exc:
        log.error("futures snapshot failed: %s: %s", type(exc).__name__, exc, exc_info=True)
        return _fail(err, f"unexpected error ({type(exc).__name__}): {exc}")
    finally:
        if feed is not None:
            feed.stop()
        if exchange is not None:
            exchange.close()
    if as_json:
        out.write(json.dumps(futures_snapshot_to_json(book)) + "\n")
    else:
        out.write("\n".join(printable(line) for line in format_futures_table(book).splitlines()) + "\n")
    out.flush()
    return EXIT_OK


def format_futures_table(book: FuturesBook) -> str:
    """Readable plain-text futures snapshot for a terminal."""
    lines = [f"kraken-monitor {book.mode} futures snapshot at {book.as_of:%Y-%m-%d %H:%M:%S %Z}"]
    a = book.account
    if a is not None:
        f = a.flex
        lines.append(f"margin equity {fmt.fmt_money(f.margin_equity, f.currency)}  "
                     f"maintenance {fmt.fmt_money(f.maintenance_margin, f.currency)}  "
                     f"available {fmt.fmt_money(f.available_margin, f.currency)}  "
                     f"margin level {fmt.fmt_level(a.margin_level)} (liquidation at 100 %)  risk {a.risk.label}")
    if not book.positions:
        lines.append("no open futures positions")
        return "\n".join(lines)
    header = ("pair", "side", "mode", "size", "entry", "mark", "lev.", "P&L", "funding", "liq. price", "dist %",
              "risk", "stop-loss", "protection")
    rows = [header]
    for pf in book.positions:
        p = pf.position
        liq = fmt.fmt_money(pf.liquidation_price)
        rows.append((p.pair, p.side.value, p.margin_mode.value, fmt.fmt_plain(p.volume, 4),
                     fmt.fmt_money(p.entry_price), fmt.fmt_money(pf.mark_price), fmt.fmt_leverage(p.leverage),
                     fmt.fmt_money(pf.unrealized_pnl, signed=True), fmt.fmt_money(p.unrealized_funding, signed=True),
                     liq + (" (est.)" if pf.liquidation_price_source == "estimate" else ""),
                     fmt.fmt_pct(pf.distance_to_liquidation_pct), pf.risk.label,
                     fmt.fmt_money(pf.stop_loss_price),
                     "not read" if pf.orders is None else orders_text.warnings_cell(pf.warnings) or "ok"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
