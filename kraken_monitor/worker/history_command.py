"""`kraken-monitor history`: closed, settled and liquidated positions from the journal (JSON, CSV or a table)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TextIO

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.text import printable
from kraken_monitor.storage.history_queries import read_history
from kraken_monitor.storage.journal import JournalError
from kraken_monitor.text.history import history_table
from kraken_monitor.worker.serialize import closed_position_to_json, write_history_csv

EXIT_OK, EXIT_FAILED = 0, 2


def run_history(config: MonitorConfig, since: datetime | None = None, fmt: str = "table",
                out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Reads the mode's journal read-only (a running app keeps writing meanwhile); exit 2 with one line on failure."""
    try:
        rows = read_history(config.journal_path(), since=since)
    except JournalError as exc:
        err.write("kraken-monitor: " + " ".join(printable(str(exc)).split()) + "\n")
        return EXIT_FAILED
    if fmt == "json":
        out.write(json.dumps([closed_position_to_json(r) for r in rows]) + "\n")
    elif fmt == "csv":
        write_history_csv(rows, out)
    else:
        out.write("\n".join(printable(line) for line in history_table(rows, config.mode.value).splitlines()) + "\n")
    out.flush()
    return EXIT_OK
