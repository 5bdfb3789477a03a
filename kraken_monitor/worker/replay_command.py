"""`kraken-monitor replay --at TIME`: the snapshot as it was (same JSON as `snapshot --json`), from the journal."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TextIO

from kraken_monitor.config import MonitorConfig
from kraken_monitor.exchange.text import printable
from kraken_monitor.storage.journal import JournalError
from kraken_monitor.storage.replay_queries import read_replay
from kraken_monitor.text import replay as text
from kraken_monitor.text.alerts import alert_message
from kraken_monitor.text.numbers import fmt_datetime
from kraken_monitor.worker.headless import format_table
from kraken_monitor.worker.serialize import snapshot_to_json

EXIT_OK, EXIT_FAILED = 0, 2
ALERTS_LISTED = 10  # the table's tail: the latest alerts of that moment, newest first


def run_replay(config: MonitorConfig, at: datetime, as_json: bool, out: TextIO = sys.stdout,
               err: TextIO = sys.stderr) -> int:
    """Reads the mode's journal read-only; a stale moment prints as stale (it is history), exit 2 only when
    nothing can be replayed."""
    try:
        replayed = read_replay(config.journal_path(), at, config.thresholds)
    except JournalError as exc:
        err.write("kraken-monitor: " + " ".join(printable(str(exc)).split()) + "\n")
        return EXIT_FAILED
    snapshot = replayed.snapshot
    if as_json:
        out.write(json.dumps(snapshot_to_json(snapshot)) + "\n")
    else:
        lines = [text.command_header(snapshot.as_of, snapshot.mode.value), *format_table(snapshot).splitlines()]
        if replayed.alerts:
            lines.append("alerts up to then (newest first):")
            lines.extend(f"  {fmt_datetime(a.fired_at)}  {alert_message(a)}" for a in replayed.alerts[:ALERTS_LISTED])
        out.write("\n".join(printable(line) for line in lines) + "\n")
    out.flush()
    return EXIT_OK
