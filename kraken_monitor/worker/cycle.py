"""One poll cycle without Qt: read prices and account, compute figures, judge staleness, persist (actions: trading_actions.py).

Threading contract: a `Poller` is created and used by ONE thread (the poll worker's thread, or the
main thread of the headless `snapshot` command); the exchange and journal it owns are never shared.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from kraken_monitor.config import MonitorConfig
from kraken_monitor.domain import fx, margin, protection
from kraken_monitor.domain.alerts import AlertEngine
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.events import CloseInfo, position_events
from kraken_monitor.domain.exposure import pair_currency
from kraken_monitor.domain.fx_markets import fx_markets
from kraken_monitor.domain.models import (
    AccountFigures,
    AccountState,
    Alert,
    PairRules,
    PositionFigures,
    Risk,
    Snapshot,
    Ticker,
)
from kraken_monitor.exchange.base import Exchange
from kraken_monitor.exchange.errors import ExchangeError
from kraken_monitor.worker.alert_lifecycle import AlertLifecycle
from kraken_monitor.worker.freshness import Activity, Freshness, Monotonic
from kraken_monitor.worker.paper_events import event_fields, paper_closes
from kraken_monitor.worker.safety_net import SafetyNet
from kraken_monitor.worker.trading_actions import TradingActions

log = logging.getLogger(__name__)

RETENTION_EVERY = timedelta(hours=1)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Poller(AlertLifecycle, TradingActions):
    """Owns one Exchange, one Journal (optional) and one AlertEngine; keeps the last good data."""

    def __init__(
        self,
        config: MonitorConfig,
        exchange: Exchange,
        journal: Any | None = None,
        engine: AlertEngine | None = None,
        save_paper: bool = True,
        monotonic: Monotonic = time.monotonic,
        activity: Activity | None = None,
    ):
        self.config = config
        self.freshness = Freshness(monotonic)  # ages; prices_at / account_at are for display only
        self.activity = activity if activity is not None else Activity(monotonic)
        self.exchange = exchange
        self.journal = journal
        self.engine = engine if engine is not None else AlertEngine(config.thresholds)
        self.save_paper = save_paper
        self.pair_rules: dict[str, PairRules] = {}
        self.listed_pairs: dict[str, tuple[str, str]] = {}  # non-margin pairs too (FX conversion)
        self.safety = SafetyNet()  # Kraken's own figures and rules as a floor (issue 11, items 5 and 6)
        self.tickers: dict[str, Ticker] = {}
        self.prices_at: datetime | None = None
        self.account: AccountState | None = None
        self.account_at: datetime | None = None
        self.connection = "starting"
        self.last_error = ""  # message of the most recent failed read, cleared by a success
        self.last_write_s: float | None = None  # duration of the last journal write (diagnostics)
        self._figures: tuple[AccountFigures, tuple[PositionFigures, ...]] | None = None
        self._persisted_marks: tuple[datetime | None, datetime | None] = (None, None)
        self._cycles = 0
        self._last_retention: datetime | None = None
        self._retention_pending = False
        self._events: list[Alert] = []  # position events seen by account reads, out with the next snapshot
        self._paper_events: list[Any] = []  # the paper account's own events, for the action log
        # Closes the paper account made between account reads (a stop filling on a price read): kept
        # until the next account read sees the position gone, so it is told how it ended.
        self._paper_closes: dict[str, CloseInfo] = {}

    # -- reads -------------------------------------------------------------------------------

    def ensure_rules(self, now: datetime | None = None) -> dict[str, PairRules]:
        """AssetPairs at start, then again every 30 minutes and after an order rejection."""
        if not self.pair_rules or self.safety.rules_due():
            self._load_rules(now or utc_now())
        return self.pair_rules

    def _load_rules(self, now: datetime) -> None:
        """A failed re-read keeps the last rules (retried soon); only the first read's failure is raised."""
        try:
            with self.activity.doing("the pair rules (AssetPairs)"):
                rules = dict(self.exchange.load_pair_rules())
                listed = dict(self.exchange.listed_pairs())
        except ExchangeError as exc:
            if not self.pair_rules:
                raise
            log.warning("AssetPairs re-read failed, keeping the last rules: %s", exc)
            self.safety.rules_failed()
            return
        held = [p.pair for p in self.account.positions] if self.account is not None else []
        self.safety.rules_loaded(self.pair_rules, rules, held, now)
        self.pair_rules, self.listed_pairs = rules, listed

    def watched_pairs(self) -> list[str]:
        pairs = set(self.config.watch_pairs)
        if self.account is not None:
            pairs.update(p.pair for p in self.account.positions)
            pairs.update(self.fx_pairs())
        return sorted(pairs)

    def fx_pairs(self) -> tuple[str, ...]:
        """The FX pairs that convert every held position's quote currency into the account currency."""
        if self.account is None or not self.account.positions:
            return ()
        markets = fx_markets(self.pair_rules, self.listed_pairs)
        quotes = {pair_currency(p.pair, markets) for p in self.account.positions} - {""}
        return fx.fx_pairs_needed(quotes, self.account.balance.currency, markets)

    def poll_prices(self, now: datetime, only: Sequence[str] | None = None) -> dict[str, Ticker]:
        """One Ticker request for every pair held or watched (or `only` these); raises typed ExchangeErrors."""
        self.ensure_rules(now)
        # After the rules: a first AssetPairs load (seconds at start) is not part of the prices' age.
        mark = self.freshness.monotonic()
        pairs = self.watched_pairs() if only is None else list(only)
        with self.activity.doing("prices for " + (", ".join(pairs) or "no pairs")):
            tickers = dict(self.exchange.fetch_tickers(pairs)) if pairs else {}
        self.tickers.update(tickers)
        self.freshness.prices_read(tickers, mark)
        self.prices_at = now
        self.last_error = ""
        return tickers

    def prices_pushed(self, tickers: dict[str, Ticker], arrived: float, now: datetime) -> None:
        """Prices the stream pushed (worker/stream_worker.py), as old as their arrival on the monotonic clock."""
        self.tickers.update(tickers)
        self.freshness.prices_read(tickers, arrived)
        self.prices_at = now
        observe = getattr(self.exchange, "observe_tickers", None)  # the paper account fills at these prices
        if observe is not None:
            observe(tickers)

    def poll_account(self, now: datetime) -> AccountState:
        """Balance + positions; on failure the previous state is kept (never replaced by 'flat')."""
        self.ensure_rules(now)
        # The data is as old as its request (when it was asked), which goes out after the rules are in.
        mark = self.freshness.monotonic()
        with self.activity.doing("the account (balance and positions)"):
            state = self.exchange.fetch_account()
        self._events.extend(self._position_events(self.account, state, now))
        self.account = state
        self.freshness.account_read(mark)
        self.account_at = now
        self.last_error = ""
        return state

    def account_read_moved(self, before: AccountState | None) -> bool:
        """Whether the account as last read differs from `before` in anything a snapshot shows or records:
        the balance, a position, an order, or an event (a position's, the paper account's) waiting to go out."""
        after = self.account
        if before is None or after is None or self._events or self._paper_events:
            return True
        return (after.balance, after.positions, after.orders) != (before.balance, before.positions, before.orders)

    def _position_events(self, before: AccountState | None, after: AccountState, now: datetime) -> tuple[Alert, ...]:
        """Opened / partly closed / closed / settled / liquidated between two reads, with the venue's word
        on how a position ended: the paper account reports its own; live asks ClosedOrders."""
        drain = getattr(self.exchange, "drain_events", None)
        paper = tuple(drain()) if drain is not None else ()
        self._paper_events.extend(paper)
        closes = {**self._paper_closes, **paper_closes(paper)}
        self._paper_closes = {}
        gone = [p for p in (before.positions if before else ()) if p.id not in {q.id for q in after.positions}]
        explain = getattr(self.exchange, "position_closes", None)
        if gone and explain is not None and not paper:
            try:
                closes.update(explain(gone, before.as_of if before else now))
            except (ExchangeError, DomainError) as exc:  # unknown how it ended: reported as "closed"
                log.warning("closed orders unavailable: %s", exc)
        prices = {pair: t.last for pair, t in self.tickers.items()}
        places = {pair: r.price_decimals for pair, r in self.pair_rules.items()}
        markets = fx_markets(self.pair_rules, self.listed_pairs)
        currency = after.balance.currency
        rates = {p.pair: fx.fx_rate(pair_currency(p.pair, markets) or currency, currency, prices, markets)
                 for p in gone}
        return position_events(before.positions if before else None, after.positions, now, prices, closes,
                               currency, places, rates)

    def candles(self, pair: str, timeframe: str) -> Any:
        """The chart's candles (worker/candle_sync.py): kept ones topped up from the venue."""
        from kraken_monitor.worker.candle_sync import sync_candles

        return sync_candles(self.exchange, self.journal, pair, timeframe)

    def closed_history(self, since: datetime) -> Any:
        """The history dock's venue rows (worker/history_command.venue_history): Kraken's, or none."""
        from kraken_monitor.worker.history_command import venue_history

        return venue_history(self.exchange, since)

    # -- snapshot ----------------------------------------------------------------------------

    def needed_pairs(self) -> set[str]:
        """Pairs whose price the figures depend on: every pair held plus the FX pairs that convert them."""
        if self.account is None:
            return set()
        return {p.pair for p in self.account.positions} | set(self.fx_pairs())

    def _stale_reasons(self, now: datetime) -> list[str]:
        # Monotonic ages (freshness.py); `now` is the wall-clock time shown with the snapshot.
        return self.freshness.reasons(
            self.config.price_stale_after_s(), self.config.account_stale_after_s(), self.needed_pairs()
        )

    def _compute(self, now: datetime, reasons: list[str]):
        """Fresh figures when every held pair has a price, else the last good figures (or none)."""
        if self.account is None:
            return None
        prices = {pair: t.last for pair, t in self.tickers.items()}
        missing = sorted({p.pair for p in self.account.positions} - prices.keys())
        if missing:
            reasons.append("no price for " + ", ".join(missing))
            return self._figures
        try:
            account, positions = margin.compute(self.account, prices, self.pair_rules, now)
            positions, loose = protection.attach(self.account.orders, positions, now)
            self._figures = (replace(account, orders=loose) if loose else account), positions
        except (DomainError, ArithmeticError, KeyError) as exc:
            # A pair without rules or a degenerate position must not hide the rest of the account.
            log.warning("margin computation failed: %s: %s", type(exc).__name__, exc)
            reasons.append(f"cannot compute margin figures ({type(exc).__name__})")
        return self._figures

    def build_snapshot(self, now: datetime | None = None, force_stale: str = "") -> Snapshot:
        """Compute figures, judge staleness, run the alert engine; stale -> every risk UNKNOWN."""
        now = now or utc_now()
        reasons = self._stale_reasons(now)
        figures = self._compute(now, reasons)
        reasons.extend(self._unknown_reasons(figures))
        if force_stale:
            reasons.insert(0, force_stale)
        elif reasons and self.last_error:
            reasons.append(f"last error: {self.last_error}")
        stale = bool(reasons)
        account, positions = figures if figures is not None else (None, ())
        snapshot = Snapshot(
            mode=self.config.mode,
            as_of=now,
            stale=stale,
            account=account,
            positions=tuple(positions),
            tickers=dict(self.tickers),
            pair_rules=dict(self.pair_rules),
            stale_reason="; ".join(reasons),
            prices_as_of=self.prices_at,
            account_as_of=self.account_at,
            connection=self.connection,
        )
        snapshot = self._judge(snapshot, now)
        if self._events:  # facts, whatever the staleness: they go out once, with this snapshot
            snapshot = replace(snapshot, alerts=snapshot.alerts + tuple(self._events))
            self._events.clear()
        if stale:
            snapshot = _unknown_risk(snapshot)
        return snapshot

    def _apply_alerts(self, snapshot: Snapshot, now: datetime) -> Snapshot:
        return self.engine.apply(snapshot, now)

    def _unknown_reasons(self, figures) -> list[str]:
        """Fail closed: Kraken contradicting itself, or figures that cannot be known (a missing FX rate)."""
        reasons = []
        contradiction = self.safety.contradiction(self.account)
        if contradiction:
            reasons.append(contradiction)
        account = figures[0] if figures is not None else None
        unknown = account.unknown_reason if account is not None else ""
        if unknown and unknown not in reasons:
            reasons.append(unknown)
        return reasons

    def _judge(self, snapshot: Snapshot, now: datetime) -> Snapshot:
        """The alert engine on the lower of ours and Kraken's margin level, plus the safety-net alerts."""
        balance = self.account.balance if self.account is not None else None
        older = self.prices_at is not None and self.account_at is not None and self.prices_at < self.account_at
        return self.safety.judge(snapshot, now, self._apply_alerts, balance, older)

    # -- persistence -------------------------------------------------------------------------

    def persist(self, snapshot: Snapshot) -> tuple[Alert, ...]:
        """Journal the cycle (only when new data arrived), its alerts, paper state and paper events.

        Returns the cycle's alerts with their journal ids (what acknowledge/snooze take).
        """
        if self.journal is None:
            return self.engine.recorded(snapshot.alerts)
        started = time.perf_counter()
        with self.activity.doing("the journal write"):
            fired = self._persist(snapshot)
        self.last_write_s = time.perf_counter() - started
        return fired

    def _persist(self, snapshot: Snapshot) -> tuple[Alert, ...]:
        marks = (snapshot.prices_as_of, snapshot.account_as_of)
        if marks != self._persisted_marks and (snapshot.account is not None or snapshot.tickers):
            self.journal.write_cycle(snapshot)
            self._persisted_marks = marks
        fired: tuple[Alert, ...] = ()
        if snapshot.alerts:
            fired = self.engine.recorded(snapshot.alerts, self.journal.write_alerts(snapshot.alerts))
        self._cycles += 1
        every = max(1, self.config.paper_save_every_cycles)
        if self._cycles % every == 0:
            self.save_paper_state()
        self._journal_paper_events()
        self._retention(snapshot.as_of)
        return fired

    def _retention(self, now: datetime) -> None:
        """Hourly; the journal works in small time-boxed steps, so keep calling until it reports done."""
        due = self._last_retention is None or now - self._last_retention >= RETENTION_EVERY
        if not (due or self._retention_pending):
            return
        self._last_retention = now
        result = self.journal.apply_retention(now, self.config.full_resolution_days)
        self._retention_pending = isinstance(result, dict) and not result.get("done", 1)

    def save_paper_state(self) -> None:
        export = getattr(self.exchange, "export_state", None)
        if self.save_paper and self.journal is not None and export is not None:
            self.journal.save_paper_state(export())

    def _journal_paper_events(self) -> None:
        """Paper fills the simulator made on its own (liquidations, rollovers) go to the action log."""
        drain = getattr(self.exchange, "drain_events", None)
        fresh = tuple(drain()) if drain is not None else ()
        self._paper_closes.update(paper_closes(fresh))  # not yet seen by an account read
        events = [*self._paper_events, *fresh]
        self._paper_events.clear()
        for event in events:
            kind = getattr(event, "kind", "event")
            self._record(f"paper:{kind}", event_fields(event), ok=True, result=str(getattr(event, "message", "")))

    def flush(self) -> None:
        """Called before shutdown, in the owning thread: last paper state, then close the journal."""
        try:
            self.save_paper_state()
            self._journal_paper_events()
        finally:
            if self.journal is not None:
                self.journal.close()
                self.journal = None
            self.exchange.close()


def _unknown_risk(snapshot: Snapshot) -> Snapshot:
    """Stale data can say nothing about safety: every risk becomes UNKNOWN, figures stay visible."""
    account = replace(snapshot.account, risk=Risk.UNKNOWN) if snapshot.account is not None else None
    positions = tuple(replace(pf, risk=Risk.UNKNOWN) for pf in snapshot.positions)
    return replace(snapshot, account=account, positions=positions)
