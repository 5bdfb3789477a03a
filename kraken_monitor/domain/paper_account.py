"""Paper margin account following Kraken's spot-margin rules: pure state, every operation returns a new account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from kraken_monitor.domain import costs, margin
from kraken_monitor.domain.errors import DomainError, InvalidAmount, NotSupported
from kraken_monitor.domain.models import Balance, MarginMode, PairRules, Position, Side

MONEY = Decimal("0.0001")  # Kraken keeps USD balances to 4 decimals (Assets: ZUSD decimals 4)
ROLLOVER_PERIOD = timedelta(hours=4)
DEFAULT_FEE_RATE = Decimal("0.0040")  # Kraken Pro taker fee at the lowest volume tier
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


@dataclass(frozen=True)
class PaperAccount:
    """Cross trade balance (isolated allocations excluded), open positions and pending events."""

    balance: Decimal
    positions: tuple[Position, ...] = ()
    currency: str = "USD"
    fee_rate: Decimal = DEFAULT_FEE_RATE
    next_id: int = 1
    margin_call_active: bool = False
    events: tuple[PaperEvent, ...] = field(default=())

    @classmethod
    def funded(cls, amount: Decimal, currency: str = "USD", fee_rate: Decimal = DEFAULT_FEE_RATE) -> PaperAccount:
        return cls(balance=_positive(amount, "Starting collateral"), currency=currency, fee_rate=fee_rate)

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
        volume, price = _positive(volume, "Volume"), _positive(price, "Price")
        if terms is None:
            terms = DEFAULT_TERMS if margin_mode is MarginMode.CROSS else ""
        pair_rules = (rules or {}).get(pair)
        if pair_rules is not None:
            allowed = pair_rules.leverage_buy if side is Side.LONG else pair_rules.leverage_sell
            if allowed and leverage not in allowed:
                raise InvalidAmount(f"{pair} {side.value} allows leverage {', '.join(map(str, allowed))}x, not {leverage}x")
        if leverage < 1:
            raise InvalidAmount("Leverage must be at least 1x")
        cost = volume * price
        used = _money(cost / leverage)
        trading_fee = _money(cost * self.fee_rate)
        opening_fee = _money(cost * costs.parse_terms(terms)) if terms else Decimal(0)
        allocated = None
        if margin_mode is MarginMode.ISOLATED:
            allocated = _positive(allocated_margin, "Allocated margin") if allocated_margin is not None else used
            if allocated < used:
                raise InsufficientMargin(f"Isolated margin must be at least {used} {self.currency} at {leverage}x")
        new_balance = self.balance - trading_fee - opening_fee - (allocated or 0)
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
        fees = trading_fee + opening_fee
        return opened._log("opened", now, f"Opened {side.value} {volume} {pair} at {price}, {leverage}x", position, -fees)

    def close_position(self, position_id: str, volume: Decimal, price: Decimal, now: datetime) -> PaperAccount:
        """Reduce-only close (full or partial): realised P&L minus the closing trading fee hits the balance."""
        p = self.position(position_id)
        volume, price = _positive(volume, "Volume"), _positive(price, "Price")
        if volume > p.remaining_volume:
            raise ReduceOnlyViolation(
                f"Reduce only: volume {volume} exceeds the open {p.remaining_volume} of {p.pair}"
            )
        fee = _money(volume * price * self.fee_rate)
        account, pnl = self._reduce(p, volume, price)
        account = replace(account, balance=account.balance - fee)
        what = "Closed" if volume == p.remaining_volume else "Partially closed"
        return account._log("closed", now, f"{what} {volume} {p.pair} at {price}: P&L {pnl}, fee {fee}", p, pnl - fee)

    def settle_position(self, position_id: str, price: Decimal, now: datetime) -> PaperAccount:
        """Settle with collateral: no trading fee, P&L realised at `price`."""
        p = self.position(position_id)
        account, pnl = self._reduce(p, p.remaining_volume, _positive(price, "Price"))
        return account._log("settled", now, f"Settled {p.remaining_volume} {p.pair} at {price}: P&L {pnl}", p, pnl)

    def deposit(self, amount: Decimal, now: datetime) -> PaperAccount:
        amount = _positive(amount, "Deposit")
        account = replace(self, balance=self.balance + amount)
        return account._log("deposit", now, f"Deposited {amount} {self.currency}", None, amount)

    def add_isolated_margin(self, position_id: str, amount: Decimal, now: datetime) -> PaperAccount:
        """Move collateral from the cross balance into one isolated position (its liquidation price moves away)."""
        p = self.position(position_id)
        amount = _positive(amount, "Amount")
        if p.margin_mode is not MarginMode.ISOLATED:
            raise NotSupported("Cross positions share the account's collateral: deposit instead of adding margin")
        if amount > self.balance:
            raise InsufficientMargin(f"Insufficient margin: only {self.balance} {self.currency} available")
        moved = replace(p, allocated_margin=(p.allocated_margin or Decimal(0)) + amount)
        account = replace(self, balance=self.balance - amount, positions=_swap(self.positions, p, moved))
        return account._log("isolated_margin_added", now, f"Added {amount} {self.currency} to {p.pair}", p, amount)

    def set_margin_mode(self, position_id: str, mode: MarginMode) -> PaperAccount:
        if self.position(position_id).margin_mode is not mode:
            raise NotSupported("A position cannot switch between isolated and cross margin while open")
        return self

    # -- time and risk --------------------------------------------------------------------------
    def charge_rollovers(self, now: datetime) -> PaperAccount:
        """Charge every rollover due up to `now` (terms rate x cost each 4 h), advancing `next_rollover`."""
        account = self
        for p in self.positions:
            due = 0
            next_at = p.next_rollover or p.opened_at + ROLLOVER_PERIOD
            while next_at <= now:
                due += 1
                next_at += ROLLOVER_PERIOD
            if not due:
                continue
            charge = _money(p.cost * costs.rollover_rate(p)) * due
            if not charge:
                account = replace(account, positions=_swap(account.positions, p, replace(p, next_rollover=next_at)))
                continue
            account = replace(
                account, balance=account.balance - charge,
                positions=_swap(account.positions, p, replace(p, next_rollover=next_at)),
            )
            account = account._log("rollover", now, f"Rollover x{due} on {p.pair}: {charge} {self.currency}", p, -charge)
        return account

    def apply_until(self, now: datetime, prices: Mapping[str, Decimal], rules: Mapping[str, PairRules]) -> PaperAccount:
        """What the venue would have done by `now`: rollovers, isolated and cross liquidations, margin call."""
        account = self.charge_rollovers(now)
        for p in account.positions:
            price = prices.get(p.pair)
            if p.margin_mode is not MarginMode.ISOLATED or price is None:
                continue
            rate = rules[p.pair].maintenance_rate if p.pair in rules else PairRules.maintenance_rate
            liq = margin.isolated_liquidation_price(p, rate)
            if liq is not None and ((price <= liq) if p.side is Side.LONG else (price >= liq)):
                # The allocated margin is gone; the cross balance is untouched.
                lost = p.allocated_margin or Decimal(0)
                account = replace(account, positions=tuple(q for q in account.positions if q.id != p.id))
                account = account._log(
                    "isolated_liquidation", now, f"Isolated {p.pair} liquidated at {price}: lost {lost}", p, -lost
                )
        return account._liquidate_cross(now, prices, rules)

    def _liquidate_cross(self, now: datetime, prices: Mapping[str, Decimal], rules: Mapping[str, PairRules]) -> PaperAccount:
        account = self
        while True:
            cross = account.cross_positions()
            if not cross or any(p.pair not in prices for p in cross):
                return account  # cannot judge without a price for every position
            figures = margin.account_figures(account.trade_balance(), cross, prices, rules)
            level, call_level, stop_level = figures.margin_level, figures.margin_call_level, figures.liquidation_level
            if level is not None and level <= stop_level:
                # Kraken liquidates the OLDEST position first, regardless of pair or profit (FIFO).
                order = margin.liquidation_order(cross)
                oldest = next(p for p in cross if order[p.id] == 1)
                price = prices[oldest.pair]
                fee = _money(oldest.remaining_volume * price * account.fee_rate)
                account, pnl = account._reduce(oldest, oldest.remaining_volume, price)
                account = replace(account, balance=account.balance - fee)
                account = account._log(
                    "liquidation", now,
                    f"Margin level {level:.2f}% <= {stop_level}%: liquidated {oldest.pair} at {price}",
                    oldest, pnl - fee,
                )
                continue
            in_call = level is not None and level <= call_level
            if in_call and not account.margin_call_active:
                account = replace(account, margin_call_active=True)
                return account._log("margin_call", now, f"Margin call: margin level {level:.2f}%", None, Decimal(0))
            if not in_call and account.margin_call_active:
                return replace(account, margin_call_active=False)
            return account

    # -- internals ------------------------------------------------------------------------------
    def _reduce(self, p: Position, volume: Decimal, price: Decimal) -> tuple[PaperAccount, Decimal]:
        """Take `volume` off `p` at `price`; returns the account with P&L (and isolated margin) released."""
        share = volume / p.remaining_volume
        closed_cost = p.cost if share == 1 else _money(p.cost * share)
        value = volume * price
        pnl = _money(value - closed_cost if p.side is Side.LONG else closed_cost - value)
        released = Decimal(0)
        if share == 1:
            positions = tuple(q for q in self.positions if q.id != p.id)
            released = p.allocated_margin or Decimal(0)
        else:
            keep = 1 - share
            allocated = None
            if p.allocated_margin is not None:
                allocated = _money(p.allocated_margin * keep)
                released = p.allocated_margin - allocated
            # cost, margin and fees describe the REMAINING volume (see Position's docstring).
            rest = replace(
                p, volume_closed=p.volume_closed + volume, cost=p.cost - closed_cost,
                margin=(p.margin * keep).quantize(Decimal("0.00000001")),
                trading_fee=_money(p.trading_fee * keep),
                opening_fee=None if p.opening_fee is None else _money(p.opening_fee * keep),
                allocated_margin=allocated,
            )
            positions = _swap(self.positions, p, rest)
        return replace(self, balance=self.balance + pnl + released, positions=positions), pnl

    def _log(self, kind: str, at: datetime, message: str, p: Position | None, amount: Decimal) -> PaperAccount:
        event = PaperEvent(kind, at, message, p.id if p else None, p.pair if p else None, amount)
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


# The demo book, sized relative to the collateral so it looks the same at any price level (paper mode
# rescales it to live prices): a losing 3x BTC long (oldest, so first in Kraken's FIFO liquidation), a
# short ETH squeezed against, a fresh 5x SOL long and an isolated 5x XRP long close to its own
# liquidation price. Together they leave the cross account a little above 100% margin level (watch),
# so the first launch already has something to watch -- without anything liquidated yet.
# (pair, side, leverage, notional / collateral, entry / today's price, hours ago, mode)
_DEMO_BOOK = (
    ("BTC/USD", Side.LONG, 3, "1.2", "1.08", 70, MarginMode.CROSS),
    ("ETH/USD", Side.SHORT, 2, "0.48", "0.94", 46, MarginMode.CROSS),
    ("SOL/USD", Side.LONG, 5, "0.32", "1.05", 21, MarginMode.CROSS),
    ("XRP/USD", Side.LONG, 5, "0.4", "1.095", 9, MarginMode.ISOLATED),
)
DEMO_BOOK_PAIRS = tuple(row[0] for row in _DEMO_BOOK)


def demo_portfolio(prices: Mapping[str, Decimal], now: datetime, collateral: Decimal = Decimal("25000")) -> PaperAccount:
    """A believable account opened over the last days, rollovers charged up to `now`, nothing liquidated."""
    account = PaperAccount.funded(collateral)
    for pair, side, leverage, share, entry_factor, hours, mode in _DEMO_BOOK:
        price = prices.get(pair)
        if price is None:
            continue
        entry = (price * Decimal(entry_factor)).quantize(price)  # keep the pair's price decimals
        volume = (collateral * Decimal(share) / entry).quantize(Decimal("0.00000001"))
        terms = "0.0100% per 4 hours" if pair == "BTC/USD" else None
        opened_at = now - timedelta(hours=hours, minutes=17)
        account = account.open_position(pair, side, volume, entry, leverage, opened_at, margin_mode=mode, terms=terms)
    return account.charge_rollovers(now)


_DECIMAL_FIELDS = {"volume", "volume_closed", "cost", "margin", "trading_fee", "opening_fee", "allocated_margin",
                   "exchange_value", "exchange_net", "amount"}
_TIME_FIELDS = {"opened_at", "next_rollover", "at"}


def _dump(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (Side, MarginMode)):
        return value.value
    return value


def _load(record: type, key: str, value: object) -> object:
    if value is None or key not in record.__dataclass_fields__:
        if key not in record.__dataclass_fields__:
            raise ValueError(f"unknown field {key!r}")
        return None
    if key in _DECIMAL_FIELDS:
        return Decimal(value)
    if key in _TIME_FIELDS:
        return datetime.fromisoformat(value)
    if key == "side":
        return Side(value)
    if key == "margin_mode":
        return MarginMode(value)
    return value


def _swap(positions: tuple[Position, ...], old: Position, new: Position) -> tuple[Position, ...]:
    return tuple(new if q.id == old.id else q for q in positions)


def _money(value: Decimal) -> Decimal:
    return value.quantize(MONEY)


def _positive(value: object, what: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise InvalidAmount(f"{what} must be a positive number")
    return value

