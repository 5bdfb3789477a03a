"""Replay: a past cycle's snapshot rebuilt from what the journal kept (issue 18, item 4), with the same engine.

The journal keeps the account figures shown at every cycle, the positions' exchange records and the
pair rules when they changed, and every price. `rebuild` recomputes the positions' figures from
those (margin.compute, as the poller did), takes the account's figures, staleness and risk exactly
as they were recorded, and colours the positions as the alert engine would have. Nothing here
fires an alert: the alerts of the time are the journal's own rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from kraken_monitor.domain import margin, protection
from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.alerts import AlertEngine
from kraken_monitor.domain.errors import DomainError
from kraken_monitor.domain.models import (
    AccountFigures,
    AccountState,
    Alert,
    Balance,
    MarginMode,
    PairRules,
    Position,
    PositionFigures,
    Risk,
    Snapshot,
    Ticker,
)
from kraken_monitor.domain.orders import OpenOrder


@dataclass(frozen=True)
class RecordedCycle:
    """One cycle as the journal has it: the account row, the positions then open, the prices then known."""

    mode: str
    as_of: datetime
    stale: bool
    stale_reason: str
    connection: str
    account: AccountFigures  # the figures shown (risk included), as recorded
    positions: tuple[Position, ...]  # the exchange's records of the positions open at that cycle
    tickers: dict[str, Ticker]
    rules: dict[str, PairRules]
    account_as_of: datetime | None = None
    prices_as_of: datetime | None = None
    alerts: tuple[Alert, ...] = field(default=())  # every alert fired up to `as_of`, as it stood then
    orders: tuple[OpenOrder, ...] = field(default=())  # the open orders read with the account, as shown


@dataclass(frozen=True)
class Replayed:
    """The rebuilt snapshot and the alert log as it stood at that moment (newest first)."""

    snapshot: Snapshot
    alerts: tuple[Alert, ...]


def rebuild(cycle: RecordedCycle, thresholds: AlertThresholds | None = None) -> Replayed:
    """The snapshot of `cycle`; a position set that cannot be recomputed is shown as stale, with the reason."""
    recorded = cycle.account
    failed = ""
    positions: tuple[PositionFigures, ...] = ()
    account = recorded
    if cycle.positions:
        balance = Balance(recorded.currency, recorded.trade_balance,
                          exchange_margin_level=recorded.margin_level_exchange)
        state = AccountState(balance, cycle.positions, cycle.account_as_of or cycle.as_of)
        prices = {pair: t.last for pair, t in cycle.tickers.items()}
        try:
            computed, positions = margin.compute(state, prices, cycle.rules, cycle.as_of)
            # The orders attached again as the poller did: stops, take-profits and warnings as they were.
            positions, loose = protection.attach(cycle.orders, positions, cycle.as_of)
        except (DomainError, ArithmeticError, KeyError) as exc:
            failed = f"replay cannot recompute the positions ({type(exc).__name__}: {exc})"
        else:
            # The recorded numbers are what was shown; the recomputation adds what the row does not keep.
            account = replace(recorded, unknown_reason=computed.unknown_reason,
                              fx_sensitivity=computed.fx_sensitivity, orders=loose)
    stale = cycle.stale or bool(failed)
    if failed:
        account = replace(account, risk=Risk.UNKNOWN)
    positions = _coloured(positions, cycle.mode, account.risk, stale, thresholds)
    snapshot = Snapshot(
        mode=cycle.mode, as_of=cycle.as_of, stale=stale, account=account, positions=positions,
        tickers=dict(cycle.tickers), pair_rules=dict(cycle.rules), stale_reason="; ".join(r for r in (cycle.stale_reason, failed) if r),
        prices_as_of=cycle.prices_as_of, account_as_of=cycle.account_as_of, connection=cycle.connection,
    )
    return Replayed(snapshot, tuple(as_of_then(a, cycle.as_of) for a in cycle.alerts))


def _coloured(positions: tuple[PositionFigures, ...], mode: str, account_risk: Risk, stale: bool,
              thresholds: AlertThresholds | None) -> tuple[PositionFigures, ...]:
    """Each position's risk as the engine set it: its own distance level, cross ones at least the account's."""
    if stale:
        return tuple(replace(pf, risk=Risk.UNKNOWN) for pf in positions)
    # A fresh engine on the positions alone: risk colours are a pure function of the figures and the
    # thresholds (what fired is history and stays in the journal); the account's risk is the recorded one.
    probe = Snapshot(mode=mode, as_of=datetime.now().astimezone(), stale=False, account=None, positions=positions)
    own = AlertEngine(thresholds or AlertThresholds()).apply(probe, probe.as_of).positions
    return tuple(
        replace(pf, risk=max(pf.risk, account_risk)) if pf.position.margin_mode is MarginMode.CROSS else pf
        for pf in own
    )


def as_of_then(alert: Alert, at: datetime) -> Alert:
    """An alert as the log showed it at `at`: an acknowledgement made later had not happened yet.

    (A snooze is kept as recorded: the journal does not say when it was asked for; the log judges
    its end against the replayed time.)
    """
    if alert.acknowledged_at is None or alert.acknowledged_at <= at:
        return alert
    return replace(alert, acknowledged_at=None)
