"""`kraken-monitor history`: closed, settled and liquidated positions from the journal (JSON, CSV or a table)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.history import ClosedPosition, VenueHistory, merged
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange.errors import ExchangeError
from kraken_monitor.exchange.text import printable
from kraken_monitor.storage.history_queries import read_history
from kraken_monitor.storage.journal import JournalError
from kraken_monitor.text.history import history_table
from kraken_monitor.worker.serialize import closed_position_to_json, write_history_csv

EXIT_OK, EXIT_FAILED = 0, 2
LIVE_HISTORY_DAYS = 30  # Kraken's own history asked for when no --since is given (2 counter points a call)

log = logging.getLogger(__name__)


def _create_exchange(config: MonitorConfig) -> Any:
    from kraken_monitor.exchange.factory import create_exchange

    return create_exchange(config)


def kraken_rows(config: MonitorConfig, since: datetime | None,
                exchange_factory: Callable[[MonitorConfig], Any] = _create_exchange) -> list[ClosedPosition]:
    """Live only: Kraken's own closed positions (one row per closing trade) since `since` (default 30 days)."""
    start = since or datetime.now(timezone.utc) - timedelta(days=LIVE_HISTORY_DAYS)
    exchange = exchange_factory(config)
    try:
        fetch = getattr(exchange, "closed_history", None)
        return list(fetch(start)) if fetch is not None else []
    finally:
        exchange.close()


def venue_history(exchange: Any, since: datetime) -> VenueHistory:
    """The venue's own closed positions (a venue without its own history: none); a failed read says why."""
    fetch = getattr(exchange, "closed_history", None)
    if fetch is None:
        return VenueHistory()
    try:
        return VenueHistory(tuple(fetch(since)))
    except (ExchangeError, DomainError) as exc:
        return VenueHistory(error=str(exc))


def run_history(config: MonitorConfig, since: datetime | None = None, fmt: str = "table",
                out: TextIO = sys.stdout, err: TextIO = sys.stderr,
                exchange_factory: Callable[[MonitorConfig], Any] = _create_exchange) -> int:
    """Reads the mode's journal read-only (a running app keeps writing meanwhile); exit 2 with one line on failure.

    Live: Kraken's TradesHistory/ClosedOrders/Ledgers rows are merged in (they cover partial closes); when
    Kraken cannot be read the journal's rows are printed and one stderr line says what is missing.
    """
    try:
        rows = read_history(config.journal_path(), since=since)
    except JournalError as exc:
        err.write("kraken-monitor: " + " ".join(printable(str(exc)).split()) + "\n")
        return EXIT_FAILED
    if config.mode is AccountKind.LIVE:
        try:
            rows = merged(rows, kraken_rows(config, since, exchange_factory))
        except (ExchangeError, DomainError) as exc:
            log.warning("Kraken history unavailable: %s", exc)
            err.write("kraken-monitor: " + " ".join(printable(f"Kraken history unavailable, journal only: {exc}")
                                                    .split()) + "\n")
    if fmt == "json":
        out.write(json.dumps([closed_position_to_json(r) for r in rows]) + "\n")
    elif fmt == "csv":
        write_history_csv(rows, out)
    else:
        out.write("\n".join(printable(line) for line in history_table(rows, config.mode.value).splitlines()) + "\n")
    out.flush()
    return EXIT_OK
