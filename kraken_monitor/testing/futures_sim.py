"""State of a simulated Kraken Futures flex account: instruments, marks, positions, leverage preferences, payloads."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

from kraken_monitor.testing.futures_orders import FuturesOrderBook

# Kraken Futures' own error texts for leveragepreferences (docs set-leverage-settings; ccxt#19896 sample).
WOULD_LIQUIDATE = (41, "Would cause liquidation")
INSUFFICIENT_MARGIN = (92, "INSUFFICIENT_MARGIN")
NO_CONTRACT = (87, "Contract does not exist")
NOT_FLEX = (88, "Contract is not a multi-collateral futures contract")


class FuturesApiError(Exception):
    """A Kraken Futures error answer: `error` is the string form, `code` the numbered `errors[]` form."""

    def __init__(self, error: str, code: int | None = None) -> None:
        super().__init__(error)
        self.error, self.code = error, code


@dataclass(frozen=True)
class Tier:
    """One row of an instrument's marginLevels: from this notional (USD) on, these rates apply."""

    from_notional: Decimal
    initial_rate: Decimal
    maintenance_rate: Decimal


# PF_XBTUSD / PF_ETHUSD schedules shaped like Kraken's (2 % / 1 % at the bottom, i.e. 50x).
DEFAULT_TIERS = (Tier(Decimal(0), Decimal("0.02"), Decimal("0.01")),
                 Tier(Decimal(500000), Decimal("0.04"), Decimal("0.02")),
                 Tier(Decimal(2000000), Decimal("0.1"), Decimal("0.05")))


@dataclass
class SimPosition:
    symbol: str  # upper case, PF_XBTUSD
    side: str  # long | short
    size: Decimal
    price: Decimal  # average entry
    unrealized_funding: Decimal = Decimal(0)
    fill_time: str = "2026-11-30T09:15:00.000Z"

    def pnl(self, mark: Decimal) -> Decimal:
        sign = 1 if self.side == "long" else -1
        return sign * self.size * (mark - self.price)


@dataclass
class FuturesSim:
    """Thread-safe: every scenario call and every payload takes the lock."""

    marks: dict[str, Decimal] = field(default_factory=lambda: {"PF_XBTUSD": Decimal(60000), "PF_ETHUSD": Decimal(3000)})
    tiers: dict[str, tuple[Tier, ...]] = field(default_factory=lambda: {"PF_XBTUSD": DEFAULT_TIERS,
                                                                        "PF_ETHUSD": DEFAULT_TIERS})
    collateral: dict[str, Decimal] = field(default_factory=lambda: {"USD": Decimal(10000)})
    positions: list[SimPosition] = field(default_factory=list)
    leverage: dict[str, Decimal] = field(default_factory=dict)  # symbol -> maxLeverage (isolated)
    open_orders: list[dict[str, object]] = field(default_factory=list)
    cash: dict[str, Decimal] = field(default_factory=lambda: {"usd": Decimal(5000)})  # the futures cash wallet
    flex_override: dict[str, object] | None = None  # a scripted accounts.flex, verbatim
    # Data quirks Kraken is known for: lower-case symbols in openpositions, numbers as JSON numbers, no pnl.
    lower_case_symbols: bool = True
    numbers_as_strings: bool = True
    include_unrealized_pnl: bool = False
    # Last trade and index prices where a test sets them apart from the mark (else they follow it).
    lasts: dict[str, Decimal] = field(default_factory=dict)
    indexes: dict[str, Decimal] = field(default_factory=dict)
    fees_paid: Decimal = Decimal(0)
    refuse_next_order: str = ""  # scenario: the next sendorder is refused with this sendStatus word
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        self.orders = FuturesOrderBook(self)  # sendorder / openorders / cancelorder / editorder (futures_orders.py)

    # ----- scenario -----
    def set_mark(self, symbol: str, mark: Decimal, *, last: Decimal | None = None,
                 index: Decimal | None = None) -> None:
        """Move the contract's mark (and its last / index when given): trailing stops follow, triggers fire."""
        with self._lock:
            symbol = symbol.upper()
            self.marks[symbol] = Decimal(mark)
            for prices, value in ((self.lasts, last), (self.indexes, index)):
                if value is not None:
                    prices[symbol] = Decimal(value)
            self.orders.on_prices(symbol)

    def signal_price(self, symbol: str, signal: str) -> Decimal:
        with self._lock:
            mark = self.marks[symbol]
            return {"last": self.lasts.get(symbol, mark), "index": self.indexes.get(symbol, mark)}.get(signal, mark)

    def position_of(self, symbol: str) -> SimPosition | None:
        with self._lock:
            return next((p for p in self.positions if p.symbol == symbol), None)

    def can_open(self, symbol: str, side: str, size: Decimal) -> bool:
        """Kraken checks the initial margin of what an order could add against the available margin."""
        with self._lock:
            held = self.position_of(symbol)
            if held is not None and (held.side == "long") != (side == "buy") and size <= held.size:
                return True  # it only reduces
            notional = size * self._mark(symbol)
            return notional * self.tier(symbol, notional).initial_rate <= self.flex()["availableMargin"]

    def trade(self, symbol: str, side: str, size: Decimal, price: Decimal, fee_rate: Decimal) -> None:
        """A fill: reduces (realizing P&L into USD collateral) or opens / adds to the contract's one position."""
        with self._lock:
            fee = size * price * fee_rate
            self.fees_paid += fee
            self.collateral["USD"] = self.collateral.get("USD", Decimal(0)) - fee
            held = self.position_of(symbol)
            buying = side == "buy"
            if held is not None and (held.side == "long") != buying:
                closed = min(size, held.size)
                sign = 1 if held.side == "long" else -1
                self.collateral["USD"] += sign * closed * (price - held.price)
                held.size -= closed
                size -= closed
                if held.size == 0:
                    self.positions.remove(held)  # its leverage preference stays, as Kraken keeps it
                    held = None
            if size > 0:
                if held is None:
                    self.positions.append(SimPosition(symbol, "long" if buying else "short", size, price))
                else:
                    held.price = (held.price * held.size + price * size) / (held.size + size)
                    held.size += size

    def add_position(self, symbol: str, side: str, size: Decimal, price: Decimal, *,
                     leverage: Decimal | None = None, unrealized_funding: Decimal = Decimal(0)) -> None:
        with self._lock:
            self.positions.append(SimPosition(symbol.upper(), side, Decimal(size), Decimal(price),
                                              Decimal(unrealized_funding)))
            if leverage is not None:
                self.leverage[symbol.upper()] = Decimal(leverage)

    # ----- rules (the simulator's own arithmetic, kept apart from the domain it tests) -----
    def tier(self, symbol: str, notional: Decimal) -> Tier:
        rows = self.tiers[symbol]
        return [t for t in rows if notional >= t.from_notional][-1]

    def _mark(self, symbol: str) -> Decimal:
        return self.marks[symbol]

    def allocated(self, p: SimPosition, leverage: Decimal | None = None) -> Decimal:
        lev = leverage if leverage is not None else self.leverage[p.symbol]
        return p.size * p.price / lev

    def flex(self) -> dict[str, Decimal]:
        with self._lock:
            collateral = sum(self.collateral.values(), Decimal(0))
            pnl = sum((p.pnl(self._mark(p.symbol)) for p in self.positions), Decimal(0))
            funding = sum((p.unrealized_funding for p in self.positions), Decimal(0))
            initial = maintenance = Decimal(0)
            for p in self.positions:
                notional = p.size * self._mark(p.symbol)
                tier = self.tier(p.symbol, notional)
                initial += self.allocated(p) if p.symbol in self.leverage else notional * tier.initial_rate
                maintenance += notional * tier.maintenance_rate
            equity = collateral + pnl + funding
            return {"balanceValue": collateral, "collateralValue": collateral, "pnl": pnl, "totalUnrealized": pnl,
                    "totalUnrealizedAsMargin": pnl, "unrealizedFunding": funding, "marginEquity": equity,
                    "portfolioValue": collateral + pnl + funding, "initialMargin": initial,
                    "initialMarginWithOrders": initial, "maintenanceMargin": maintenance,
                    "availableMargin": equity - initial}

    def set_leverage(self, symbol: str, max_leverage: Decimal | None) -> None:
        """PUT leveragepreferences: a number makes the symbol isolated at it, none makes it cross; may refuse."""
        with self._lock:
            if symbol not in self.tiers:
                raise FuturesApiError(NO_CONTRACT[1], NO_CONTRACT[0])
            if not symbol.startswith("PF_"):
                raise FuturesApiError(NOT_FLEX[1], NOT_FLEX[0])
            held = [p for p in self.positions if p.symbol == symbol]
            if max_leverage is None:
                self._check_back_to_cross(symbol, held)
                self.leverage.pop(symbol, None)
                return
            if max_leverage <= 0:
                raise FuturesApiError("invalidArgument: maxLeverage")
            available = self.flex()["availableMargin"]
            for p in held:
                mark = self._mark(p.symbol)
                if max_leverage > 1 / self.tier(symbol, p.size * mark).initial_rate:
                    raise FuturesApiError("invalidArgument: maxLeverage")
                new_alloc = self.allocated(p, max_leverage)
                old_alloc = self.allocated(p) if symbol in self.leverage else Decimal(0)
                maintenance = p.size * mark * self.tier(symbol, p.size * mark).maintenance_rate
                if new_alloc + p.pnl(mark) <= maintenance:
                    raise FuturesApiError(WOULD_LIQUIDATE[1], WOULD_LIQUIDATE[0])
                if new_alloc - old_alloc > available:
                    raise FuturesApiError(INSUFFICIENT_MARGIN[1], INSUFFICIENT_MARGIN[0])
            self.leverage[symbol] = max_leverage

    def _check_back_to_cross(self, symbol: str, held: list[SimPosition]) -> None:
        """PUT without maxLeverage on an isolated symbol with a position: its allocation returns to the cross
        pool and it margins as cross; refused (41) when the pool would not cover the cross maintenance, (92)
        when the cross initial margin exceeds what is then available. The simulator's own arithmetic."""
        if symbol not in self.leverage or not held:
            return
        collateral = sum(self.collateral.values(), Decimal(0))
        pool, maintenance, released, cross_initial = collateral, Decimal(0), Decimal(0), Decimal(0)
        for p in self.positions:
            mark = self._mark(p.symbol)
            tier = self.tier(p.symbol, p.size * mark)
            if p.symbol in self.leverage and p.symbol != symbol:
                pool -= self.allocated(p)  # still ring-fenced
                continue
            pool += p.pnl(mark) + p.unrealized_funding
            maintenance += p.size * mark * tier.maintenance_rate
            if p.symbol == symbol:
                released += self.allocated(p)
                cross_initial += p.size * mark * tier.initial_rate
        if pool <= maintenance:
            raise FuturesApiError(WOULD_LIQUIDATE[1], WOULD_LIQUIDATE[0])
        if self.flex()["availableMargin"] + released - cross_initial < 0:
            raise FuturesApiError(INSUFFICIENT_MARGIN[1], INSUFFICIENT_MARGIN[0])

    def transfer(self, from_account: str, to_account: str, unit: str, amount: str) -> None:
        """POST transfer between the cash wallet and the flex account (Kraken's own error names)."""
        with self._lock:
            try:
                value = Decimal(amount)
            except ArithmeticError:
                raise FuturesApiError("invalidAmount") from None
            if not value.is_finite() or value <= 0:
                raise FuturesApiError("invalidAmount")
            code, unit = unit.upper(), unit.lower()
            if (from_account, to_account) == ("cash", "flex"):
                if self.cash.get(unit, Decimal(0)) < value:
                    raise FuturesApiError("insufficientFunds")
                self.cash[unit] -= value
                self.collateral[code] = self.collateral.get(code, Decimal(0)) + value
            elif (from_account, to_account) == ("flex", "cash"):
                if self.flex()["availableMargin"] < value or self.collateral.get(code, Decimal(0)) < value:
                    raise FuturesApiError("insufficientFunds")
                self.collateral[code] -= value
                self.cash[unit] = self.cash.get(unit, Decimal(0)) + value
            else:
                raise FuturesApiError("invalidAccount")

    # ----- payloads -----
    def _n(self, value: Decimal) -> object:
        if self.numbers_as_strings:
            return format(value, "f")
        return int(value) if value == value.to_integral_value() else float(value)

    def instruments_payload(self) -> list[dict[str, object]]:
        with self._lock:
            rows: list[dict[str, object]] = [
                {"symbol": symbol, "type": "flexible_futures", "underlying": "rr_" + symbol[3:].lower(),
                 "tickSize": 0.5 if symbol == "PF_XBTUSD" else 0.1, "contractSize": 1, "tradeable": True,
                 "contractValueTradePrecision": 4, "openingDate": "2022-01-01T00:00:00.000Z",
                 "marginLevels": [{"numNonContractUnits": float(t.from_notional), "initialMargin": float(t.initial_rate),
                                   "maintenanceMargin": float(t.maintenance_rate)} for t in tiers],
                 "tags": [], "category": "Layer 1"}
                for symbol, tiers in self.tiers.items()]
            rows.append({"symbol": "in_xbtusd", "type": "spot index", "tradeable": False})
            return rows

    def tickers_payload(self) -> list[dict[str, object]]:
        with self._lock:
            rows: list[dict[str, object]] = [
                {"tag": "perpetual", "pair": symbol[3:6].replace("XBT", "XBT") + ":USD", "symbol": symbol,
                 "markPrice": self._n(mark), "indexPrice": self._n(self.indexes.get(symbol, mark)),
                 "last": self._n(self.lasts.get(symbol, mark)),
                 "bid": self._n(mark - 1), "ask": self._n(mark + 1), "open24h": self._n(mark),
                 "vol24h": "1234", "lastTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                 "suspended": False, "fundingRate": "0.0001"}
                for symbol, mark in self.marks.items()]
            rows.append({"symbol": "in_xbtusd", "last": self._n(self.marks.get("PF_XBTUSD", Decimal(1)))})
            return rows

    def open_positions_payload(self) -> list[dict[str, object]]:
        with self._lock:
            rows = []
            for p in self.positions:
                row: dict[str, object] = {
                    "side": p.side, "symbol": p.symbol.lower() if self.lower_case_symbols else p.symbol,
                    "price": self._n(p.price), "fillTime": p.fill_time, "size": self._n(p.size),
                    "unrealizedFunding": self._n(p.unrealized_funding), "pnlCurrency": "USD"}
                if self.include_unrealized_pnl:
                    row["unrealizedPnl"] = self._n(p.pnl(self._mark(p.symbol)))
                if p.symbol in self.leverage:
                    row["maxFixedLeverage"] = self._n(self.leverage[p.symbol])
                rows.append(row)
            return rows

    def accounts_payload(self) -> dict[str, object]:
        with self._lock:
            if self.flex_override is not None:
                flex: dict[str, object] = dict(self.flex_override)
            else:
                flex = {k: self._n(v) for k, v in self.flex().items()}
                flex["currencies"] = {c: {"quantity": self._n(q), "value": self._n(q), "collateral": self._n(q),
                                          "available": self._n(q)} for c, q in self.collateral.items()}
            flex.setdefault("type", "multiCollateralMarginAccount")
            cash = {"type": "cashAccount", "balances": {k: self._n(v) for k, v in self.cash.items()}}
            return {"cash": cash, "flex": flex}

    def leverage_payload(self, symbol: str | None) -> list[dict[str, object]]:
        with self._lock:
            return [{"symbol": s, "maxLeverage": float(v)} for s, v in self.leverage.items()
                    if symbol is None or s == symbol.upper()]
