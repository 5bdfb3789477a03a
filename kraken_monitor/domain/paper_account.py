"""Paper margin account following Kraken's spot-margin rules: pure state, every operation returns a new account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from kraken_monitor.domain import costs, margin
from kraken_monitor.domain.costs import ROLLOVER_PERIOD, TAKER_FEE_RATE
from kraken_monitor.domain.errors import DomainError, InvalidAmount, NotSupported, UnknownRate
from kraken_monitor.domain.exposure import currency_rates, pair_currency
from kraken_monitor.domain.fx import common_currency
from kraken_monitor.domain.models import Balance, MarginMode, PairRules, Position, Side
from kraken_monitor.domain.paper_booking import (
    CRYPTO_MONEY,
    FIAT,
    MONEY,
    Prices,
    Rules,
    convert,
    positive,
    quote_currency,
    swap_position,
)
from kraken_monitor.domain.paper_state import _dump, _load
from kraken_monitor.domain.paper_venue import VenueMoves

DEFAULT_FEE_RATE = TAKER_FEE_RATE  # Kraken Pro's taker fee at the lowest volume tier
DEFAULT_TERMS = "0.0200% per 4 hours"
STATE_VERSION = 1


class InsufficientMargin(DomainError):
    """Kraken `EOrder:Insufficient margin`: the action would leave too little collateral."""


class ReduceOnlyViolation(DomainError):
    """A close larger than the open volume: reduce-only orders never flip a position."""


class UnknownPosition(DomainError):
    """No open position with that id (already closed, settled or liquidated)."""


@dataclass(frozen=True)
class PaperEvent:
    """Something the account did by itself or on request, for the journal (amount in the account currency)."""

    kind: str  # opened | rollover | margin_call | liquidation | isolated_liquidation | closed | settled | deposit | isolated_margin_added
    at: datetime
    message: str
    position_id: str | None = None
    pair: str | None = None
    amount: Decimal = Decimal(0)
    price: Decimal | None = None  # closes, settles, liquidations: the fill price (quote currency)
    fee: Decimal | None = None  # the closing trade's fee in the quote currency (0 for a settle)
    order: str | None = None  # order_filled: the type of the resting order that filled (stop-loss, ...)


@dataclass(frozen=True)
class PaperAccount(VenueMoves):
    """Cross trade balance (isolated allocations excluded), open positions and pending events.

    Currencies as on Kraken (shared reference section 1b): a position's cost, margin, fees and
    allocation are in its pair's quote currency; the balance is in the account currency. Every cash
    flow between them (fees, realised P&L, rollovers, isolated allocations) is converted at the rate
    of Kraken's own FX pairs in `prices` at that moment (one collateral currency: Kraken would keep
    the quote asset and value it at today's rate; the difference is the FX move on those sums).
    A flow whose rate is unknown raises UnknownRate: nothing is booked at a guessed rate.
    """

    balance: Decimal
    positions: tuple[Position, ...] = ()
    currency: str = "USD"
    fee_rate: Decimal = DEFAULT_FEE_RATE
    next_id: int = 1
    margin_call_active: bool = False
    events: tuple[PaperEvent, ...] = field(default=())

    @classmethod
    def funded(cls, amount: Decimal, currency: str = "USD", fee_rate: Decimal = DEFAULT_FEE_RATE) -> PaperAccount:
        return cls(balance=positive(amount, "Starting collateral"), currency=currency, fee_rate=fee_rate)

    # -- reading --------------------------------------------------------------------------------
    def trade_balance(self) -> Balance:
        return Balance(currency=self.currency, trade_balance=self.balance)

    def position(self, position_id: str) -> Position:
        for p in self.positions:
            if p.id == position_id:
                return p
        raise UnknownPosition(f"No open position {position_id} (closed, settled or liquidated)")

    def cross_positions(self) -> tuple[Position, ...]:
        return tuple(p for p in self.positions if p.margin_mode is MarginMode.CROSS)

    def drain_events(self) -> tuple[PaperAccount, tuple[PaperEvent, ...]]:
        return replace(self, events=()), self.events

    # -- trading --------------------------------------------------------------------------------
    def open_position(
        self,
        pair: str,
        side: Side,
        volume: Decimal,
        price: Decimal,
        leverage: int,
        now: datetime,
        *,
        rules: Mapping[str, PairRules] | None = None,
        prices: Mapping[str, Decimal] | None = None,
        margin_mode: MarginMode = MarginMode.CROSS,
        allocated_margin: Decimal | None = None,
        terms: str | None = None,
    ) -> PaperAccount:
        """Open at `price`: trading fee and margin opening fee (terms rate x cost) leave the balance.

        With `rules` the leverage is checked against the pair's list; with `rules` and `prices` (every
        other pair held) a cross open that would leave the margin level below 100% is refused, as Kraken does.
        Isolated positions model Kraken Futures, which has no rollover: their terms default to none.
        """
        volume, price = positive(volume, "Volume"), positive(price, "Price")
        if terms is None:
            terms = DEFAULT_TERMS if margin_mode is MarginMode.CROSS else ""
        pair_rules = (rules or {}).get(pair)
        if pair_rules is not None:
            allowed = pair_rules.leverage_buy if side is Side.LONG else pair_rules.leverage_sell
            if allowed and leverage not in allowed:
                raise InvalidAmount(f"{pair} {side.value} allows leverage {', '.join(map(str, allowed))}x, not {leverage}x")
        if leverage < 1:
            raise InvalidAmount("Leverage must be at least 1x")
        quantum = self._quantum(pair, rules)
        rate = self._rate(pair, {**(prices or {}), pair: price}, rules)
        cost = volume * price
        used = (cost / leverage).quantize(quantum)
        trading_fee = (cost * self.fee_rate).quantize(quantum)
        opening_fee = (cost * costs.parse_terms(terms)).quantize(quantum) if terms else Decimal(0)
        allocated = None
        if margin_mode is MarginMode.ISOLATED:
            # `allocated_margin` is in the account currency, like every amount a trader types.
            allocated = positive(allocated_margin, "Allocated margin") if allocated_margin is not None else None
            allocated = used if allocated is None else convert(allocated, None if rate is None else 1 / rate, quantum)
            if allocated < used:
                raise InsufficientMargin(f"Isolated margin must be at least {used} {quote_currency(pair, rules)} at {leverage}x")
        new_balance = self.balance - convert(trading_fee + opening_fee + (allocated or 0), rate)
        position = Position(
            id=f"PAPER-{self.next_id:05d}",
            pair=pair,
            side=side,
            volume=volume,
            volume_closed=Decimal(0),
            cost=cost,
            margin=used,
            opened_at=now,
            trading_fee=trading_fee,
            opening_fee=opening_fee,
            rollover_terms=terms,
            next_rollover=now + ROLLOVER_PERIOD,
            margin_mode=margin_mode,
            allocated_margin=allocated,
        )
        opened = replace(self, balance=new_balance, positions=(*self.positions, position), next_id=self.next_id + 1)
        if new_balance < 0:
            raise InsufficientMargin("Insufficient margin: not enough collateral for fees and margin")
        if margin_mode is MarginMode.CROSS and rules is not None and prices is not None:
            # Kraken refuses to open a position that would leave the margin level below 100%.
            level = margin.account_figures(opened.trade_balance(), opened.cross_positions(), {**prices, pair: price}, rules).margin_level
            if level is not None and level < 100:
                raise InsufficientMargin("Insufficient margin: the margin level would fall below 100%")
        fees = convert(trading_fee + opening_fee, rate)
        return opened._log("opened", now, f"Opened {side.value} {volume} {pair} at {price}, {leverage}x", position, -fees)

    def close_position(self, position_id: str, volume: Decimal, price: Decimal, now: datetime, *,
                       prices: Prices = None, rules: Rules = None) -> PaperAccount:
        """Reduce-only close (full or partial): realised P&L minus the closing trading fee hits the balance.

        `prices` (other pairs) give the FX rate when the pair is not quoted in the account currency.
        """
        p = self.position(position_id)
        volume, price = positive(volume, "Volume"), positive(price, "Price")
        if volume > p.remaining_volume:
            raise ReduceOnlyViolation(
                f"Reduce only: volume {volume} exceeds the open {p.remaining_volume} of {p.pair}"
            )
        rate = self._rate(p.pair, {**(prices or {}), p.pair: price}, rules)
        fee_quote = (volume * price * self.fee_rate).quantize(self._quantum(p.pair, rules))
        fee = convert(fee_quote, rate)
        account, pnl = self._reduce(p, volume, price, rate, rules)
        account = replace(account, balance=account.balance - fee)
        what = "Closed" if volume == p.remaining_volume else "Partially closed"
        return account._log("closed", now, f"{what} {volume} {p.pair} at {price}: P&L {pnl}, fee {fee}", p, pnl - fee,
                            price=price, fee=fee_quote)

    def settle_position(self, position_id: str, price: Decimal, now: datetime, *,
                        prices: Prices = None, rules: Rules = None) -> PaperAccount:
        """Settle with collateral: no trading fee, P&L realised at `price` (converted as in close)."""
        p = self.position(position_id)
        price = positive(price, "Price")
        rate = self._rate(p.pair, {**(prices or {}), p.pair: price}, rules)
        account, pnl = self._reduce(p, p.remaining_volume, price, rate, rules)
        return account._log("settled", now, f"Settled {p.remaining_volume} {p.pair} at {price}: P&L {pnl}", p, pnl,
                            price=price, fee=Decimal(0))

    def deposit(self, amount: Decimal, now: datetime) -> PaperAccount:
        amount = positive(amount, "Deposit")
        account = replace(self, balance=self.balance + amount)
        return account._log("deposit", now, f"Deposited {amount} {self.currency}", None, amount)

    def add_isolated_margin(self, position_id: str, amount: Decimal, now: datetime, *,
                            prices: Prices = None, rules: Rules = None) -> PaperAccount:
        """Move collateral (account currency) from the cross balance into one isolated position (its
        liquidation price moves away); the position holds it in its quote currency."""
        p = self.position(position_id)
        amount = positive(amount, "Amount")
        if p.margin_mode is not MarginMode.ISOLATED:
            raise NotSupported("Cross positions share the account's collateral: deposit instead of adding margin")
        if amount > self.balance:
            raise InsufficientMargin(f"Insufficient margin: only {self.balance} {self.currency} available")
        rate = self._rate(p.pair, prices, rules)
        added = convert(amount, None if rate is None else 1 / rate, self._quantum(p.pair, rules))
        moved = replace(p, allocated_margin=(p.allocated_margin or Decimal(0)) + added)
        account = replace(self, balance=self.balance - amount, positions=swap_position(self.positions, p, moved))
        return account._log("isolated_margin_added", now, f"Added {amount} {self.currency} to {p.pair}", p, amount)

    def set_margin_mode(self, position_id: str, mode: MarginMode) -> PaperAccount:
        if self.position(position_id).margin_mode is not mode:
            raise NotSupported("A position cannot switch between isolated and cross margin while open")
        return self

    # -- internals ------------------------------------------------------------------------------
    def _rate(self, pair: str, prices: Prices, rules: Rules) -> Decimal | None:
        """quote -> account currency at `prices`; None when the pair is quoted in the account currency."""
        account = common_currency(self.currency)
        ccy = pair_currency(pair, rules) or account
        if ccy == account:
            return None
        rates, _, missing = currency_rates((ccy,), account, prices or {}, rules or {})
        if rates[ccy] is None:
            raise UnknownRate(f"No {missing[ccy]} price: cannot book {pair} amounts in {self.currency}")
        return rates[ccy]

    @staticmethod
    def _quantum(pair: str, rules: Rules) -> Decimal:
        return MONEY if quote_currency(pair, rules) in FIAT else CRYPTO_MONEY

    def _reduce(self, p: Position, volume: Decimal, price: Decimal, rate: Decimal | None,
                rules: Rules) -> tuple[PaperAccount, Decimal]:
        """Take `volume` off `p` at `price`; returns the account with P&L (and isolated margin) released.

        P&L is worked out in the quote currency and booked (and returned) in the account currency.
        """
        quantum = self._quantum(p.pair, rules)
        share = volume / p.remaining_volume
        closed_cost = p.cost if share == 1 else (p.cost * share).quantize(quantum)
        value = volume * price
        pnl = (value - closed_cost if p.side is Side.LONG else closed_cost - value).quantize(quantum)
        released = Decimal(0)
        if share == 1:
            positions = tuple(q for q in self.positions if q.id != p.id)
            released = p.allocated_margin or Decimal(0)
        else:
            keep = 1 - share
            allocated = None
            if p.allocated_margin is not None:
                allocated = (p.allocated_margin * keep).quantize(quantum)
                released = p.allocated_margin - allocated
            # cost, margin and fees describe the REMAINING volume (see Position's docstring).
            rest = replace(
                p, volume_closed=p.volume_closed + volume, cost=p.cost - closed_cost,
                margin=(p.margin * keep).quantize(Decimal("0.00000001")),
                trading_fee=(p.trading_fee * keep).quantize(quantum),
                opening_fee=None if p.opening_fee is None else (p.opening_fee * keep).quantize(quantum),
                allocated_margin=allocated,
            )
            positions = swap_position(self.positions, p, rest)
        booked = convert(pnl + released, rate)
        pnl = convert(pnl, rate)
        return replace(self, balance=self.balance + booked, positions=positions), pnl

    def _log(self, kind: str, at: datetime, message: str, p: Position | None, amount: Decimal, *,
             price: Decimal | None = None, fee: Decimal | None = None, order: str | None = None) -> PaperAccount:
        event = PaperEvent(kind, at, message, p.id if p else None, p.pair if p else None, amount, price, fee, order)
        return replace(self, events=(*self.events, event))

    # -- persistence ----------------------------------------------------------------------------
    def export_state(self) -> dict:
        """JSON-able dict (Decimals as strings, datetimes ISO 8601) that `from_state` restores exactly."""
        return {
            "version": STATE_VERSION,
            "currency": self.currency,
            "balance": str(self.balance),
            "fee_rate": str(self.fee_rate),
            "next_id": self.next_id,
            "margin_call_active": self.margin_call_active,
            "positions": [{k: _dump(v) for k, v in vars(p).items()} for p in self.positions],
            "events": [{k: _dump(v) for k, v in vars(e).items()} for e in self.events],
        }

    @classmethod
    def from_state(cls, state: Mapping) -> PaperAccount:
        """Inverse of `export_state`; a damaged dict raises InvalidAmount with a readable reason."""
        try:
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"unknown version {state.get('version')!r}")
            return cls(
                balance=Decimal(state["balance"]),
                currency=state["currency"],
                fee_rate=Decimal(state["fee_rate"]),
                next_id=int(state["next_id"]),
                margin_call_active=bool(state["margin_call_active"]),
                positions=tuple(Position(**{k: _load(Position, k, v) for k, v in row.items()}) for row in state["positions"]),
                events=tuple(PaperEvent(**{k: _load(PaperEvent, k, v) for k, v in row.items()}) for row in state["events"]),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            raise InvalidAmount(f"The saved paper account cannot be read ({exc})") from None
