"""`open_poller`: the one way the GUI's worker, `watch` and `snapshot` open journal + exchange + Poller."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kraken_monitor.config import MonitorConfig
from kraken_monitor.worker.cycle import Poller
from kraken_monitor.worker.freshness import Activity

log = logging.getLogger(__name__)

ExchangeFactory = Callable[[MonitorConfig, Any], Any]  # (config, paper_state) -> Exchange
JournalFactory = Callable[[MonitorConfig], Any]  # (config) -> Journal


def open_journal(config: MonitorConfig) -> Any:
    """The real journal: a SQLite file at the config's journal path."""
    from kraken_monitor.storage.journal import Journal

    return Journal.open(config.journal_path())


def create_exchange(config: MonitorConfig, paper_state: Any = None) -> Any:
    """The real exchange for the config's account kind (ccxt takes ~1 s to import: imported on first use)."""
    from kraken_monitor.exchange.factory import create_exchange as factory

    return factory(config, paper_state=paper_state)


class JournalRequired(Exception):
    """A simulated account lives in the journal: without it there is nothing to read."""


@dataclass(frozen=True)
class OpenedPoller:
    poller: Poller
    journal_error: Exception | None = None  # the journal could not be opened: monitoring goes on without it
    journal_held_by: int | None = None  # `snapshot` only: a running app (pid; <= 0 unknown) owns the journal


def open_poller(
    config: MonitorConfig,
    *,
    exchange_factory: ExchangeFactory = create_exchange,
    journal_factory: JournalFactory = open_journal,
    activity: Activity | None = None,
    save_paper: bool = True,
    journal_required: bool = False,
    yield_to_running_app: bool = False,
    journal_failed: Callable[[Exception], None] | None = None,
) -> OpenedPoller:
    """Open the journal (a failure is carried, not raised, unless `journal_required`), load the paper
    account from it, create the exchange, wrap both in a Poller.

    Exchange errors propagate (the caller maps AuthFailed & co. to its own message); the journal is
    closed first. `yield_to_running_app` (the one-off `snapshot`): when another process holds the
    journal's instance lock, read its paper account and write nothing (writes would interleave).
    """
    journal = None
    journal_error: Exception | None = None
    held_by: int | None = None
    try:
        journal = journal_factory(config)
    except Exception as exc:  # monitoring matters more than history: carry on without a journal
        log.error("journal unavailable: %s: %s", type(exc).__name__, exc)
        if journal_required:
            raise JournalRequired(str(exc)) from exc
        journal_error = exc
        if journal_failed is not None:  # told at once, even when the exchange then fails too
            journal_failed(exc)
    try:
        paper_state = journal.load_paper_state(config.mode.value) if journal is not None else None
        if yield_to_running_app and journal is not None:
            from kraken_monitor.storage.instance_lock import holder

            held_by = holder(config.journal_path())
            if held_by is not None:
                journal.close()
                journal = None
        if activity is not None:
            with activity.doing("the exchange connection to start"):
                exchange = exchange_factory(config, paper_state)
        else:
            exchange = exchange_factory(config, paper_state)
    except BaseException:
        if journal is not None:
            journal.close()
        raise
    poller = Poller(config, exchange, journal, activity=activity, save_paper=save_paper)
    return OpenedPoller(poller, journal_error, held_by)
