"""Journal schema: tables, indexes and the ordered migrations tracked by `PRAGMA user_version`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlite_utils

# Money and levels are TEXT (exact Decimal strings); the *_f REAL columns are float shadows for charts,
# so a history read never parses strings. `res` is the row's resolution in seconds: 0 = as polled,
# 60 / 3600 = the last row of its minute / hour after retention downsampled it.


def _v1_initial(db: sqlite_utils.Database) -> None:
    db["ticks"].create(
        {"ts": float, "pair": str, "bid": str, "ask": str, "last": str, "last_f": float,
         "low_f": float, "high_f": float, "res": int},
        not_null={"ts", "pair", "res"}, defaults={"res": 0},
    )
    db["ticks"].create_index(["pair", "ts"])
    db["ticks"].create_index(["ts"])  # retention walks time windows across all pairs (dropped in v2)
    db["account_snapshots"].create(
        {"ts": float, "mode": str, "stale": int, "trade_balance": str, "equity": str, "used_margin": str,
         "free_margin": str, "margin_level": str, "margin_level_exchange": str, "risk": int,
         "margin_level_f": float, "res": int},
        not_null={"ts", "mode", "res"}, defaults={"res": 0},
    )
    db["account_snapshots"].create_index(["ts"])
    db["position_snapshots"].create(
        {"ts": float, "position_id": str, "pair": str, "side": str, "margin_mode": str, "volume": str,
         "price": str, "entry": str, "upnl": str, "net_pnl": str, "liquidation_price": str,
         "margin_call_price": str, "distance_pct": str, "risk": int, "res": int},
        not_null={"ts", "position_id", "res"}, defaults={"res": 0},
    )
    db["position_snapshots"].create_index(["ts"])  # dropped in v2
    db["alerts"].create(
        {"id": int, "key": str, "level": int, "position_id": str, "pair": str, "margin_level": str,
         "distance_pct": str, "message": str, "fired_at": float, "stale": int, "acknowledged_at": float,
         "snoozed_until": float},
        pk="id", not_null={"key", "level", "message", "fired_at"},
    )
    db["actions"].create(
        {"id": int, "ts": float, "kind": str, "request": str, "ok": int, "result": str},
        pk="id", not_null={"ts", "kind"},
    )
    db["paper_state"].create({"mode": str, "state": str, "updated_at": float}, pk="mode")
    db["meta"].create({"key": str, "value": str}, pk="key")


def _v2_drop_time_indexes(db: sqlite_utils.Database) -> None:
    """Cheaper cycle writes: the time-only indexes on ticks and positions are gone.

    Only retention read them, and it now finds time windows by binary search over the rowid (rows
    are appended cycle by cycle, so rowid order is time order). Each index entry cost ~0.5 us per
    row inside the poll cycle (250 rows). The (pair, ts) index stays for price_history and
    known_pairs; account_snapshots(ts) stays for margin_history (one row per cycle, cheap).
    """
    db.execute("DROP INDEX IF EXISTS idx_ticks_ts")
    db.execute("DROP INDEX IF EXISTS idx_position_snapshots_ts")


def _v3_alert_reasons(db: sqlite_utils.Database) -> None:
    """Alerts carry a reason code and their numbers (JSON facts) instead of a sentence made in the domain.

    Old rows keep their `message` (shown as written); new rows leave it empty: text is made at the edge.
    """
    db.execute("ALTER TABLE alerts ADD COLUMN reason TEXT")
    db.execute("ALTER TABLE alerts ADD COLUMN facts TEXT")


def _v4_candles(db: sqlite_utils.Database) -> None:
    """Kraken's (or the demo's) candles per pair and timeframe, so a restart draws the chart at once.

    Floats: candles only ever feed a chart buffer. WITHOUT ROWID on the natural key: a re-fetched
    candle replaces the kept one in place, and a range read is one index walk.
    """
    db.execute(
        "CREATE TABLE candles (pair TEXT NOT NULL, timeframe TEXT NOT NULL, ts REAL NOT NULL, open REAL NOT NULL,"
        " high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL, volume REAL NOT NULL DEFAULT 0,"
        " PRIMARY KEY (pair, timeframe, ts)) WITHOUT ROWID"
    )


def _v5_replay(db: sqlite_utils.Database) -> None:
    """What replay needs to rebuild a snapshot as it was (issue 18, item 4), added without slowing a cycle.

    The account row gains its currency, the levels it was judged against, the stale reason and
    `positions_ts` (the cycle whose position rows were current). The inputs of the figures are kept
    only when they change: a position's exchange record (`position_states`) and a pair's margin rules
    (`pair_rules_log`), JSON per row; prices are the ticks already kept. Replay recomputes the figures
    from these with the same engine, so per-position columns need not grow on every account read.
    """
    for column in ("currency TEXT", "positions_ts REAL", "stale_reason TEXT", "margin_call_level TEXT",
                   "liquidation_level TEXT", "connection TEXT"):
        db.execute(f"ALTER TABLE account_snapshots ADD COLUMN {column}")
    db.execute("CREATE TABLE position_states (ts REAL NOT NULL, position_id TEXT NOT NULL, state TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_position_states ON position_states (position_id, ts)")
    db.execute("CREATE TABLE pair_rules_log (ts REAL NOT NULL, pair TEXT NOT NULL, rules TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_pair_rules_log ON pair_rules_log (pair, ts)")


def _v6_orders_log(db: sqlite_utils.Database) -> None:
    """The account's open orders as shown (issue 16), one JSON list per change: replay attaches them again,
    so a past cycle shows its stops, take-profits and protection warnings as they were."""
    db.execute("CREATE TABLE orders_log (ts REAL NOT NULL, orders TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_orders_log ON orders_log (ts)")


Migration = Callable[[sqlite_utils.Database], None]

# Append only: migration N (1-based) brings a journal from user_version N-1 to N.
MIGRATIONS: tuple[Migration, ...] = (_v1_initial, _v2_drop_time_indexes, _v3_alert_reasons, _v4_candles,
                                  _v5_replay, _v6_orders_log)


class SchemaTooNew(RuntimeError):
    """The file was written by a newer kraken-monitor; refusing to touch it protects its history."""


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply every migration above the file's version, each in its own transaction; returns the count."""
    version = schema_version(db)
    if version > len(migrations):
        raise SchemaTooNew(f"journal schema version {version} is newer than this app ({len(migrations)})")
    for number, migration in enumerate(migrations[version:], start=version + 1):
        with db.atomic():
            migration(db)
            # user_version lives in the file header and is part of the transaction: a failed
            # migration leaves both the tables and the version untouched.
            db.execute(f"PRAGMA user_version = {number:d}")
    return len(migrations) - version
