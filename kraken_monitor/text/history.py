"""Every string of the history (dock columns, tooltips, the `history` table): one place for all of them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from kraken_monitor.domain.history import ClosedPosition
from kraken_monitor.text import numbers as fmt

REASON_LABELS = {"closed": "Closed", "settled": "Settled", "liquidated": "LIQUIDATED"}

# (key, header) in display order; `cell_text` knows every key.
COLUMNS: tuple[tuple[str, str], ...] = (
    # How it ended and what it earned come first: on a laptop screen they must not scroll away.
    ("pair", "Pair"), ("side", "Side"), ("reason", "Reason"), ("realized_pnl", "Realised P&L"),
    ("volume", "Volume"), ("entry_price", "Entry"), ("exit_price", "Exit"), ("opened_at", "Opened"),
    ("closed_at", "Closed"), ("fee_trading", "Trading fees"), ("fee_opening", "Opening fee"),
    ("fee_rollovers", "Rollovers"), ("fees", "Fees total"),
)
NUMERIC = frozenset({"volume", "entry_price", "exit_price", "realized_pnl", "fee_trading", "fee_opening",
                     "fee_rollovers", "fees"})
ALL_PAIRS = "All pairs"
VENUE_DAYS = 30  # how far back the dock asks Kraken's own record (2 counter points a call, on demand)
VENUE_FAILED = "Kraken's history unavailable ({reason}): the journal's rows only"
EMPTY = "No closed positions in this period."
UNKNOWN_TIP = "Not known: recorded before the monitor kept this figure, or no exchange rate at the close."


def _price(value: Decimal | None, row: ClosedPosition) -> str:
    places = row.price_places if row.price_places is not None else fmt.DEFAULT_PRICE_DECIMALS
    return fmt.fmt_decimal(value, places)


def cell_text(row: ClosedPosition, key: str) -> str:
    """The display string of one cell: prices in the pair's precision, money with its currency."""
    money = {"realized_pnl": row.realized_pnl, "fee_trading": row.fees.trading, "fee_opening": row.fees.opening,
             "fee_rollovers": row.fees.rollovers, "fees": row.fees.total}
    if key in money:
        return fmt.fmt_money(money[key], row.currency, signed=key == "realized_pnl")
    if key in ("entry_price", "exit_price"):
        return _price(getattr(row, key), row)
    if key == "volume":
        return fmt.fmt_volume(row.volume, None)
    if key in ("opened_at", "closed_at"):
        return fmt.fmt_datetime(getattr(row, key))
    if key == "reason":
        return REASON_LABELS.get(row.reason, row.reason)
    return str(getattr(row, key))


def summary(rows: Sequence[ClosedPosition]) -> str:
    """'3 positions, realised P&L -1,234.56 USD' (one total per currency; unknown figures left out and said)."""
    if not rows:
        return EMPTY
    totals: dict[str, Decimal] = {}
    unknown = 0
    for r in rows:
        if r.realized_pnl is None:
            unknown += 1
        else:
            totals[r.currency] = totals.get(r.currency, Decimal(0)) + r.realized_pnl
    parts = ", ".join(fmt.fmt_money(v, c, signed=True) for c, v in sorted(totals.items())) or fmt.DASH
    text = f"{len(rows)} position{'s' if len(rows) != 1 else ''}, realised P&L {parts}"
    return text + (f" ({unknown} unknown)" if unknown else "")


def history_table(rows: Sequence[ClosedPosition], mode: str) -> str:
    """Plain-text table for a terminal (ASCII '-' for a missing figure)."""
    lines = [f"kraken-monitor {mode} history: {summary(rows)}"]
    if not rows:
        return "\n".join(lines) + "\n"
    header = ("id", *(title for _, title in COLUMNS))
    table = [header] + [(r.id, *(cell_text(r, k).replace(fmt.DASH, "-") for k, _ in COLUMNS)) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in table]
    return "\n".join(lines) + "\n"


DOCK_TITLE = "History"
PAIR_LABEL = "Pair"
PERIOD_LABEL = "Closed"
# (key, label, days back; None = every row, 0 = the From/To dates below)
PERIODS: tuple[tuple[str, str, int | None], ...] = (
    ("all", "All time", None), ("1d", "Last 24 hours", 1), ("7d", "Last 7 days", 7), ("30d", "Last 30 days", 30),
    ("range", "From ... to ...", 0),
)
FROM_LABEL, TO_LABEL = "From", "to"
EXPORT_BUTTON = "Export CSV..."
EXPORT_ACTION = "Export history as CSV..."
EXPORT_TIP = "Save the closed positions shown (with the fee split) as a CSV file"
EXPORT_DIALOG = "Export history as CSV"
EXPORT_FILTER = "CSV files (*.csv)"
EXPORT_DONE = "Saved {count} row{s} to {path}"
EXPORT_FAILED = "Could not save the history: {reason}"
READ_FAILED = "History unavailable: {reason}"


def export_done(count: int, path: str) -> str:
    return EXPORT_DONE.format(count=count, s="" if count == 1 else "s", path=path)


def cell_tip(row: ClosedPosition, key: str) -> str:
    """Tooltip: what an unknown figure means; for the P&L, what it is net of."""
    if cell_text(row, key) == fmt.DASH:
        return UNKNOWN_TIP
    if key == "realized_pnl":
        return "After every fee: trading (opening and closing trade), margin opening fee and rollovers."
    if key == "reason" and row.reason == "liquidated":
        return "Closed by the venue at its liquidation level."
    return ""
