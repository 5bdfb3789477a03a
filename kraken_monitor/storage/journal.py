"""SQLite journal (sqlite-utils): ticks, snapshots, alerts, actions and the paper account, in one 0600 file.

Threading contract: the thread that calls `Journal.open` is the only thread that uses the journal
(sqlite3's default check_same_thread stays on, so a mistake raises instead of corrupting data).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import sqlite_utils

from kraken_monitor.domain.models import Alert, PositionFigures, Risk, Snapshot
from kraken_monitor.storage import retention
from kraken_monitor.storage.journal_file import JournalError, open_database, secure_sidecars
from kraken_monitor.storage.replay_rows import InputLog, shown_orders
from kraken_monitor.storage.retention import (
    DEFAULT_FULL_RESOLUTION_DAYS,
    HOURLY_AFTER_DAYS,
    estimated_year_size_bytes,
)

_SECRET_WORDS = ("secret", "password", "api_key", "apikey", "private_key", "token")


__all__ = ["Journal", "JournalError", "estimated_year_size_bytes"]

# Prepared once; sqlite3's statement cache then reuses the compiled statements every cycle.
_INSERT_TICKS = "INSERT INTO ticks (ts, pair, bid, ask, last, last_f) VALUES (?,?,?,?,?,?)"
_INSERT_ACCOUNT = (
    "INSERT INTO account_snapshots (ts, mode, stale, trade_balance, equity, used_margin, free_margin,"
    " margin_level, margin_level_exchange, risk, margin_level_f, currency, positions_ts, stale_reason,"
    " margin_call_level, liquidation_level, connection) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_INSERT_POSITION_STATES = "INSERT INTO position_states (ts, position_id, state) VALUES (?,?,?)"
_INSERT_ORDERS = "INSERT INTO orders_log (ts, orders) VALUES (?,?)"
_INSERT_RULES = "INSERT INTO pair_rules_log (ts, pair, rules) VALUES (?,?,?)"
_INSERT_POSITIONS = (
    "INSERT INTO position_snapshots (ts, position_id, pair, side, margin_mode, volume, price, entry, upnl,"
    " net_pnl, liquidation_price, margin_call_price, distance_pct, risk) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _ts(value: datetime | float | None) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return value
    return value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return str(value.value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _redacted(request: Mapping) -> dict:
    """Belt and braces: a request dict must never carry credentials into the file."""
    return {k: ("<redacted>" if any(w in str(k).lower() for w in _SECRET_WORDS) else v) for k, v in request.items()}


class Journal:
    """The app's history file. Use `Journal.open(path)`; every write of one cycle is one transaction."""

    def __init__(self, path: Path, db: sqlite_utils.Database):
        self.path = path
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self._last_tick_ts: dict[str, float] = dict(
            self.conn.execute("SELECT pair, MAX(ts) FROM ticks GROUP BY pair").fetchall()
        )
        self._sidecars_checked = False
        self._positions_mark: datetime | None = None
        self._positions_ts: float | None = None  # the cycle whose position rows are current (replay)
        self._inputs = InputLog()  # positions' records and pair rules: journalled when they change

    @classmethod
    def open(cls, path: Path | str) -> Journal:
        path = Path(path)
        journal = cls(path, open_database(path))
        journal._secure_sidecars()
        return journal

    def close(self) -> None:
        self.conn.close()

    def _secure_sidecars(self) -> None:
        if secure_sidecars(self.path):
            self._sidecars_checked = True

    # -- one poll cycle ------------------------------------------------------------------------

    def write_cycle(self, snapshot: Snapshot) -> None:
        """Ticks (new ones only), the account and the positions of one cycle, all or nothing.

        Position rows are written when the account was re-read (`account_as_of` changed): between
        reads only prices move, and the ticks already hold those. This keeps a year under 1 GB.
        """
        ts = snapshot.as_of.timestamp()
        account_mark = snapshot.account_as_of
        write_positions = account_mark is None or account_mark != self._positions_mark
        ticks = []
        newest: dict[str, float] = {}
        last_seen = self._last_tick_ts
        stamp, tts = None, 0.0
        for pair, t in snapshot.tickers.items():
            if t.as_of is not stamp:  # one Ticker request stamps every pair with the same datetime
                stamp = t.as_of
                tts = stamp.timestamp()
            if tts <= last_seen.get(pair, -math.inf):
                continue  # the same ticker again (account-only cycle): not a new price
            newest[pair] = tts
            last = t.last
            ticks.append((tts, pair, str(t.bid), str(t.ask), str(last), float(last)))
        positions = _position_rows(ts, snapshot.positions) if write_positions else ()
        inputs = self._inputs
        states = inputs.position_rows(ts, snapshot.positions) if write_positions else ()
        rules = inputs.rules_rows(ts, snapshot.pair_rules)
        orders = None
        if write_positions and snapshot.account is not None:  # orders are read with the account
            orders = inputs.orders_row(ts, shown_orders(snapshot.positions, snapshot.account.orders))
        positions_ts = ts if write_positions else self._positions_ts
        try:
            # One explicit transaction; plain executemany inside it, never insert_all (which would
            # manage its own transaction per batch and is slower for these fixed rows).
            with self.db.atomic():
                if ticks:
                    self.conn.executemany(_INSERT_TICKS, ticks)
                a = snapshot.account
                if a is not None:
                    self.conn.execute(_INSERT_ACCOUNT, (
                        ts, snapshot.mode, int(snapshot.stale), str(a.trade_balance), _text(a.equity),
                        _text(a.used_margin), _text(a.free_margin), _text(a.margin_level),
                        _text(a.margin_level_exchange), int(a.risk),
                        None if a.margin_level is None else float(a.margin_level), a.currency, positions_ts,
                        snapshot.stale_reason or None, str(a.margin_call_level), str(a.liquidation_level),
                        snapshot.connection))
                if positions:
                    self.conn.executemany(_INSERT_POSITIONS, positions)
                if states:
                    self.conn.executemany(_INSERT_POSITION_STATES, states)
                if rules:
                    self.conn.executemany(_INSERT_RULES, rules)
                if orders is not None:
                    self.conn.execute(_INSERT_ORDERS, orders)
                self._set_meta("last_cycle_ts", repr(ts))
        except sqlite3.Error as exc:
            inputs.forget(list(states), rules, orders)
            raise JournalError(f"journal write failed: {exc}") from None
        self._positions_ts = positions_ts
        self._last_tick_ts.update(newest)  # only after the commit: a rolled-back tick is retried
        self._positions_mark = account_mark
        if not self._sidecars_checked:
            self._secure_sidecars()

    def last_cycle_ts(self) -> float | None:
        value = self._meta("last_cycle_ts")
        return None if value is None else float(value)

    # -- alerts --------------------------------------------------------------------------------

    def write_alerts(self, alerts: Iterable[Alert]) -> list[int]:
        """Insert fired alerts (numbers, reason code, facts; no text) in one transaction; their row ids."""
        ids = []
        with self.db.atomic():
            for a in alerts:
                cur = self.conn.execute(
                    "INSERT INTO alerts (key, level, position_id, pair, margin_level, distance_pct, message,"
                    " fired_at, stale, reason, facts, acknowledged_at, snoozed_until)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (a.key, int(a.level), a.position_id, a.pair, _text(a.margin_level),
                     _text(a.distance_to_liquidation_pct), "", a.fired_at.timestamp(), int(a.stale),
                     a.reason, _facts_json(a.facts), _ts(a.acknowledged_at), _ts(a.snoozed_until)),
                )
                ids.append(int(cur.lastrowid))
        return ids

    def recent_alerts(self, limit: int = 500) -> list[Alert]:
        """Newest first, each with its id and what the trader did with it."""
        rows = self.conn.execute(
            "SELECT id, key, level, position_id, pair, margin_level, distance_pct, message, fired_at, stale,"
            " acknowledged_at, snoozed_until, reason, facts FROM alerts ORDER BY id DESC LIMIT ?", (int(limit),)
        ).fetchall()
        return [alert_from_row(r) for r in rows]

    def save_alert_state(self, alert: Alert) -> bool:
        """Persist what the engine decided about one alert (acknowledged / snoozed); False if no such row."""
        with self.db.atomic():
            cur = self.conn.execute(
                "UPDATE alerts SET acknowledged_at = ?, snoozed_until = ? WHERE id = ?",
                (_ts(alert.acknowledged_at), _ts(alert.snoozed_until), int(alert.id)),
            )
        return cur.rowcount == 1

    # -- actions and the paper account ---------------------------------------------------------

    def record_action(self, kind: str, request: Mapping, ok: bool, result: str, now: datetime | None = None) -> int:
        text = json.dumps(_redacted(request), default=_json_default, sort_keys=True)
        with self.db.atomic():
            cur = self.conn.execute(
                "INSERT INTO actions (ts, kind, request, ok, result) VALUES (?,?,?,?,?)",
                (_ts(now or datetime.now(timezone.utc)), kind, text, int(bool(ok)), result),
            )
        return int(cur.lastrowid)

    def actions(self, limit: int = 100) -> list[dict]:
        """Newest first, request decoded."""
        rows = self.conn.execute(
            "SELECT id, ts, kind, request, ok, result FROM actions ORDER BY id DESC LIMIT ?", (int(limit),)
        ).fetchall()
        return [{"id": r[0], "ts": r[1], "kind": r[2], "request": json.loads(r[3]), "ok": bool(r[4]),
                 "result": r[5]} for r in rows]

    def save_paper_state(
        self, mode: str | Mapping, state: Mapping | None = None, now: datetime | None = None
    ) -> None:
        """`save_paper_state(mode, state, now)`; the one-argument form takes an exported state whose
        "mode" key (default "paper") names the row, as the worker calls it."""
        if not isinstance(mode, str):
            state, mode = mode, str(mode.get("mode") or "paper")
        text = json.dumps(dict(state or {}), default=_json_default, sort_keys=True)
        with self.db.atomic():
            self.conn.execute(
                "INSERT INTO paper_state (mode, state, updated_at) VALUES (?,?,?)"
                " ON CONFLICT(mode) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                (mode, text, _ts(now or datetime.now(timezone.utc))),
            )

    def load_paper_state(self, mode: str = "paper") -> dict | None:
        row = self.conn.execute("SELECT state FROM paper_state WHERE mode = ?", (mode,)).fetchone()
        return None if row is None else json.loads(row[0])

    # -- chart history (floats: chart buffers only) ---------------------------------------------

    def known_pairs(self) -> list[str]:
        # Loose index scan: one index seek per distinct pair instead of reading every tick.
        rows = self.conn.execute(
            "WITH RECURSIVE p(x) AS (SELECT MIN(pair) FROM ticks UNION ALL"
            " SELECT (SELECT MIN(pair) FROM ticks WHERE pair > x) FROM p WHERE x IS NOT NULL)"
            " SELECT x FROM p WHERE x IS NOT NULL"
        ).fetchall()
        return [r[0] for r in rows]

    def price_history(
        self, pair: str, since_ts: float | datetime | None = None, limit: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ts seconds, last price) as float64, ascending; `limit` keeps the newest rows."""
        since = _ts(since_ts)
        sql = "SELECT ts, last_f FROM ticks WHERE pair = ? AND ts >= ? ORDER BY ts DESC"
        params: tuple = (pair, -math.inf if since is None else since)
        if limit is not None:
            sql += " LIMIT ?"
            params += (int(limit),)
        return _columns(self.conn.execute(sql, params).fetchall()[::-1])

    def margin_history(
        self, since_ts: float | datetime | None = None, mode: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ts, margin level %) as float64, ascending; NaN where no margin was used."""
        since = _ts(since_ts)
        sql = "SELECT ts, margin_level_f FROM account_snapshots WHERE ts >= ?"
        params: tuple = (-math.inf if since is None else since,)
        if mode is not None:
            sql += " AND mode = ?"
            params += (mode,)
        return _columns(self.conn.execute(sql + " ORDER BY ts", params).fetchall())

    # -- retention -----------------------------------------------------------------------------

    def apply_retention(
        self,
        now: datetime | float,
        full_resolution_days: float = DEFAULT_FULL_RESOLUTION_DAYS,
        *,
        hourly_after_days: float = HOURLY_AFTER_DAYS,
        budget_s: float | None = 0.25,
    ) -> dict[str, int]:
        """Downsample old history in small committed batches (see `retention.apply_retention`)."""
        return retention.apply_retention(self.db, float(_ts(now)), full_resolution_days,
                                         hourly_after_days=hourly_after_days, budget_s=budget_s)

    # -- housekeeping --------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        return retention.get_meta(self.conn, key)

    def _set_meta(self, key: str, value: str) -> None:
        retention.set_meta(self.conn, key, value)

    def size_bytes(self) -> int:
        """Bytes on disk, the write-ahead log included."""
        return sum(p.stat().st_size for p in (self.path, Path(str(self.path) + "-wal")) if p.exists())

    def row_counts(self) -> dict[str, int]:
        return {t: self.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("ticks", "account_snapshots", "position_snapshots", "alerts", "actions")}


def _facts_json(facts) -> str:
    """Facts as JSON; a Decimal keeps its exact digits as {"d": "61200.5"} so it reads back as a Decimal."""
    return json.dumps([[k, {"d": str(v)} if isinstance(v, Decimal) else v] for k, v in facts])


def _facts(text: str | None) -> tuple:
    if not text:
        return ()
    return tuple((k, Decimal(v["d"]) if isinstance(v, dict) else v) for k, v in json.loads(text))


def alert_from_row(r: tuple) -> Alert:
    facts = _facts(r[13])
    if not r[12] and r[7]:
        facts += (("legacy_message", r[7]),)  # written before alerts carried reason codes: keep its text
    return Alert(key=r[1], level=Risk(r[2]), position_id=r[3], pair=r[4], margin_level=_dec(r[5]),
                 distance_to_liquidation_pct=_dec(r[6]), reason=r[12] or "", fired_at=_dt(r[8]),
                 stale=bool(r[9]), facts=facts, id=int(r[0]), acknowledged_at=_dt(r[10]),
                 snoozed_until=_dt(r[11]))


def _position_rows(ts: float, figures: Iterable[PositionFigures]) -> list[tuple]:
    """Row tuples for `_INSERT_POSITIONS`: this runs for every position of every account read, so it
    avoids helper calls; str() of each Decimal is kept (exact), and enum `_value_` skips the
    `.value` descriptor (Side/MarginMode are str enums, Risk an IntEnum)."""
    rows = []
    append = rows.append
    for pf in figures:
        p = pf.position
        liq, call, dist = pf.liquidation_price, pf.margin_call_price, pf.distance_to_liquidation_pct
        append((ts, p.id, p.pair, p.side._value_, p.margin_mode._value_, str(pf.remaining_volume),
                str(pf.price), str(pf.entry_price), _text(pf.unrealized_pnl), _text(pf.net_pnl),
                None if liq is None else str(liq), None if call is None else str(call),
                None if dist is None else str(dist), pf.risk._value_))
    return rows


def _columns(rows: list) -> tuple[np.ndarray, np.ndarray]:
    # float64 conversion turns SQL NULL (None) into NaN, which charts draw as a gap.
    data = np.array(rows, dtype=np.float64).reshape(-1, 2)
    return np.ascontiguousarray(data[:, 0]), np.ascontiguousarray(data[:, 1])
