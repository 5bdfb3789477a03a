"""The paper futures account across restarts: restored when the futures poll thread starts, saved when it changes.

Runs in the futures poll thread only (it opens, uses and closes storage/futures_paper_store.py there), like the
spot poll thread's paper state (worker/cycle.py save_paper_state): after every action that moved money, on a
changed account every `paper_save_every_cycles` reads, and at stop.
"""

from __future__ import annotations

import logging
from typing import Any

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain.futures_paper import DamagedState
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.storage.futures_paper_store import (
    FuturesPaperStore,
    FuturesStoreError,
    futures_paper_path,
)

log = logging.getLogger(__name__)


class PaperFuturesKeeper:
    """`restore(exchange)` once, `save(exchange)` when money moved, `tick(exchange)` per read, `close(exchange)`.

    A saved account that cannot be read back is left untouched in its file (nothing overwrites it this run)
    and the run starts from a fresh paper account; `problem` says why, for the window or the log.
    """

    def __init__(self, config: MonitorConfig) -> None:
        self.path = futures_paper_path(config.journal_path())
        self.mode = AccountKind.PAPER.value
        self.every = max(1, config.paper_save_every_cycles)
        self.problem = ""
        self._store: FuturesPaperStore | None = None
        self._saved: dict | None = None
        self._reads = 0

    @staticmethod
    def wanted(config: MonitorConfig) -> bool:
        """Paper only: demo is seeded and starts over; live money lives on Kraken."""
        return config.mode is AccountKind.PAPER

    def restore(self, exchange: Any) -> None:
        try:
            self._store = FuturesPaperStore.open(self.path)
            state = self._store.load(self.mode)
            if state is not None:
                exchange.import_state(state)
                self._saved = state
        except (FuturesStoreError, DamagedState) as exc:
            self.problem = f"the saved paper futures account could not be restored ({exc}); starting a fresh one"
            log.error("%s", self.problem)
            self._close_store()  # never overwrite what could not be read

    def save(self, exchange: Any) -> None:
        if self._store is None:
            return
        state = exchange.export_state()
        if state is None or state == self._saved:
            return
        try:
            self._store.save(self.mode, state)
            self._saved = state
        except FuturesStoreError as exc:
            log.error("paper futures account not saved: %s", exc)

    def tick(self, exchange: Any) -> None:
        self._reads += 1
        if self._reads % self.every == 0:
            self.save(exchange)

    def close(self, exchange: Any) -> None:
        try:
            self.save(exchange)
        finally:
            self._close_store()

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()
