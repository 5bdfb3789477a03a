"""Scenario state behind the Kraken test server: prices, positions, trade balance and order handling (thread-safe)."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from kraken_monitor.testing import kraken_trades
from kraken_monitor.testing.kraken_data import (
    ASSETS,
    DOCS_BTC_PRICE,
    DOCS_OPEN_POSITIONS,
    PAIRS,
    PairSpec,
    asset_pair_payload,
)
from kraken_monitor.testing.kraken_fx import NoRate, PositionCalcs, TradeBalanceKnobs, trade_balance
from kraken_monitor.testing.kraken_orders import TRIGGER_TYPES, OrderBook


class KrakenApiError(Exception):
    """A Kraken error string (e.g. 'EOrder:Reduce only:No position exists') the server returns in `error`."""


@dataclass
class SimPosition:
    """One open margin position, Decimal internally; `value`/`net` set = frozen docs calcs, None = live."""

    txid: str
    spec: PairSpec
    type: str  # "buy" | "sell"
    vol: Decimal
    vol_closed: Decimal
    cost: Decimal  # of the remaining volume
    margin: Decimal  # of the remaining volume
    fee: Decimal
    time: float
    terms: str = "0.0100% per 4 hours"
    rollovertm: str = ""
    ordertxid: str = ""
    value: Decimal | None = None
    net: Decimal | None = None

    @property
    def remaining(self) -> Decimal:
        return self.vol - self.vol_closed


def fmt_decimal(value: Decimal, places: int) -> str:
    """A Decimal as Kraken writes it: exactly `places` decimals."""
    return str(value.quantize(Decimal(1).scaleb(-places)))


def _dec(params: Mapping[str, str], key: str) -> Decimal | None:
    raw = params.get(key)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise KrakenApiError(f"EGeneral:Invalid arguments:{key}") from None
    if not value.is_finite():
        raise KrakenApiError(f"EGeneral:Invalid arguments:{key}")
    return value


class KrakenSim:
    """All mutable scenario state; every public method takes the lock (handler threads call it concurrently)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.pairs = {spec.symbol: spec for spec in PAIRS}
        self._by_name = {name: spec for spec in PAIRS for name in (spec.id, spec.altname, spec.symbol)}
        self.prices = {spec.symbol: spec.price for spec in PAIRS}
        self._scripts: dict[str, deque[Decimal]] = {}
        self.collateral: dict[str, Decimal] = {"ZUSD": Decimal("10000")}  # Kraken asset id -> amount held
        self.knobs = TradeBalanceKnobs()
        self.levels: dict[str, tuple[object, object]] = {}  # symbol -> (margin_call, margin_stop) as served
        self.positions: dict[str, SimPosition] = {}
        self.orders: list[dict[str, str]] = []
        self.closed_orders: dict[str, dict] = {}  # ClosedOrders rows (see `liquidate`)
        self.fee_rate = Decimal("0.0026")
        self.trades: dict[str, list[tuple[float, Decimal, Decimal]]] = {}  # symbol -> (ts, price, volume), for OHLC
        self._ids = itertools.count(1)
        self.book = OrderBook(self)  # resting trigger orders (testing/kraken_orders.py)

    # ----- scenario API -----
    def spec(self, name: str) -> PairSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise KrakenApiError("EQuery:Unknown asset pair") from None

    def set_prices(self, prices: Mapping[str, Decimal]) -> None:
        with self._lock:
            for pair, price in prices.items():
                self.prices[self.spec(pair).symbol] = Decimal(price)
            self.book.on_prices()

    def script_prices(self, pair: str, prices: Iterable[Decimal]) -> None:
        """Each later Ticker call (or step()) moves `pair` to the next price; the last one then sticks."""
        with self._lock:
            self._scripts[self.spec(pair).symbol] = deque(Decimal(p) for p in prices)
            self.step()

    def step(self) -> None:
        with self._lock:
            for symbol, script in self._scripts.items():
                if script:
                    self.prices[symbol] = script.popleft()
            self.book.on_prices()

    def set_balance(self, trade_balance: Decimal, asset: str = "ZUSD") -> None:
        """The account's collateral: `trade_balance` of one asset (Kraken id or altname), nothing else."""
        with self._lock:
            self.collateral = {self.asset_id(asset): Decimal(trade_balance)}

    def set_collateral(self, amounts: Mapping[str, Decimal]) -> None:
        """Collateral in several assets, e.g. {"ZEUR": 5000, "XXBT": 0.1}; TradeBalance converts them."""
        with self._lock:
            self.collateral = {self.asset_id(a): Decimal(v) for a, v in amounts.items()}

    @property
    def trade_balance(self) -> Decimal:
        """Collateral value in USD (what TradeBalance reports by default)."""
        return Decimal(self.trade_balance_payload("ZUSD")["tb"])

    def asset_id(self, name: str) -> str:
        """Kraken asset id for an id or altname ("XBT" -> "XXBT", "EUR" -> "ZEUR"); Kraken's error otherwise."""
        if name in ASSETS:
            return name
        for asset_id, row in ASSETS.items():
            if row["altname"] == name:
                return asset_id
        raise KrakenApiError("EQuery:Unknown asset")

    def set_margin_levels(self, pair: str, margin_call: object, margin_stop: object) -> None:
        """Serve these AssetPairs margin_call / margin_stop for `pair` from now on (None = leave the field out)."""
        with self._lock:
            self.levels[self.spec(pair).symbol] = (margin_call, margin_stop)

    def add_position(self, pair: str, side: str, volume: Decimal, price: Decimal, leverage: int = 5,
                     volume_closed: Decimal = Decimal(0), opened_at: float | None = None,
                     fee: Decimal | None = None, terms: str = "0.0100% per 4 hours", txid: str | None = None) -> str:
        """Open a position; `side` long/buy or short/sell. cost/margin describe the remaining volume."""
        with self._lock:
            spec = self.spec(pair)
            kind = {"long": "buy", "buy": "buy", "short": "sell", "sell": "sell"}[side]
            volume, volume_closed, price = Decimal(volume), Decimal(volume_closed), Decimal(price)
            cost = price * (volume - volume_closed)
            opened = time.time() if opened_at is None else opened_at
            txid = txid or f"T{next(self._ids):05d}-SIMUL-POSITN"
            self.positions[txid] = SimPosition(
                txid=txid, spec=spec, type=kind, vol=volume, vol_closed=volume_closed, cost=cost,
                margin=cost / leverage, fee=cost * self.fee_rate if fee is None else Decimal(fee), time=opened,
                terms=terms, rollovertm=str(int(opened + 4 * 3600)), ordertxid=f"O{next(self._ids):05d}-SIMUL-ORDER",
            )
            kraken_trades.record_opening(self, self.positions[txid])  # TradesHistory (issue 18)
            return txid

    def set_positions(self, rows: Mapping[str, Mapping[str, object]], live_calcs: bool = False) -> None:
        """Replace every position with raw Kraken OpenPositions rows; their value/net stay as given unless live_calcs."""
        with self._lock:
            self.positions = {}
            for txid, row in rows.items():
                frozen = not live_calcs and "value" in row
                self.positions[txid] = SimPosition(
                    txid=txid, spec=self.spec(str(row["pair"])), type=str(row["type"]), vol=Decimal(str(row["vol"])),
                    vol_closed=Decimal(str(row["vol_closed"])), cost=Decimal(str(row["cost"])),
                    margin=Decimal(str(row["margin"])), fee=Decimal(str(row.get("fee", "0"))),
                    time=float(row["time"]), terms=str(row.get("terms", "")), rollovertm=str(row.get("rollovertm", "")),
                    ordertxid=str(row.get("ordertxid", "")),
                    value=Decimal(str(row["value"])) if frozen else None,
                    net=Decimal(str(row["net"])) if frozen else None,
                )

    def load_docs_positions(self, live_calcs: bool = False) -> None:
        """Kraken's documented five-position OpenPositions example (BTC/USD at the price it implies)."""
        with self._lock:
            self.set_positions(DOCS_OPEN_POSITIONS, live_calcs=live_calcs)
            self.prices["BTC/USD"] = DOCS_BTC_PRICE

    # ----- figures -----
    def _calcs(self, p: SimPosition) -> tuple[Decimal, Decimal, Decimal]:
        """(value, net, used margin) at the current price; a short's margin is held in base, so it scales with price."""
        value = p.value if p.value is not None else self.prices[p.spec.symbol] * p.remaining
        live_net = value - p.cost if p.type == "buy" else p.cost - value
        net = p.net if p.net is not None else live_net
        used = p.margin if p.type == "buy" or p.cost == 0 else p.margin * value / p.cost
        return value, net, used

    def asset_prices(self) -> dict[tuple[str, str], Decimal]:
        """(base asset id, quote asset id) -> last price, for every pair the server lists (FX included)."""
        with self._lock:
            return {(s.base_id, s.quote_id): self.prices[s.symbol] for s in self.pairs.values()}

    def trade_balance_payload(self, asset: str = "ZUSD") -> dict[str, str]:
        """TradeBalance in `asset` (Kraken id or altname): quote-currency figures converted at current rates."""
        with self._lock:
            asset_id = self.asset_id(asset)
            calcs = []
            for p in self.positions.values():
                value, net, used = self._calcs(p)
                calcs.append(PositionCalcs(p.spec.quote_id, value, net, used, p.cost))
            try:
                return trade_balance(self.collateral, calcs, self.asset_prices(), asset_id,
                                     int(ASSETS[asset_id]["decimals"]), self.knobs)
            except NoRate:
                raise KrakenApiError("EQuery:Unknown asset") from None

    def positions_payload(self, params: Mapping[str, str]) -> object:
        with self._lock:
            wanted = set(filter(None, params.get("txid", "").split(",")))
            if self.knobs.hide_positions:
                return [] if params.get("consolidation") == "market" else {}
            docalcs = params.get("docalcs", "false").lower() == "true"
            rows = {}
            for p in self.positions.values():
                if wanted and p.txid not in wanted:
                    continue
                row = {
                    "ordertxid": p.ordertxid, "posstatus": "open", "pair": p.spec.id, "time": p.time, "type": p.type,
                    "ordertype": "limit", "cost": fmt_decimal(p.cost, 5), "fee": fmt_decimal(p.fee, 5), "vol": fmt_decimal(p.vol, 8),
                    "vol_closed": fmt_decimal(p.vol_closed, 8), "margin": fmt_decimal(p.margin, 5), "terms": p.terms,
                    "rollovertm": p.rollovertm, "misc": "", "oflags": "",
                }
                if docalcs:
                    value, net, _ = self._calcs(p)
                    row["value"] = fmt_decimal(value, 4)
                    row["net"] = ("+" if net >= 0 else "") + fmt_decimal(net, 4)
                rows[p.txid] = row
            if params.get("consolidation") == "market":
                return self._consolidate(rows)
            return rows

    @staticmethod
    def _consolidate(rows: Mapping[str, dict]) -> list[dict]:
        grouped: dict[tuple[str, str], dict] = {}
        for row in rows.values():
            key = (row["pair"], row["type"])
            g = grouped.setdefault(key, {"pair": row["pair"], "positions": 0, "type": row["type"], "cost": Decimal(0),
                                         "fee": Decimal(0), "vol": Decimal(0), "vol_closed": Decimal(0),
                                         "margin": Decimal(0), "value": Decimal(0), "net": Decimal(0)})
            g["positions"] += 1
            for f in ("cost", "fee", "vol", "vol_closed", "margin", "value", "net"):
                if f in row:
                    g[f] += Decimal(row[f])
        out = []
        for g in grouped.values():
            lev = g["cost"] / g["margin"] if g["margin"] else Decimal(0)
            out.append({k: (fmt_decimal(v, 8) if isinstance(v, Decimal) else str(v)) for k, v in g.items()}
                       | {"leverage": fmt_decimal(lev, 8)})
        return out

    def ticker_payload(self, pair_param: str | None) -> dict:
        with self._lock:
            self.step()
            names = [n for n in (pair_param or "").split(",") if n] or [s.id for s in self.pairs.values()]
            result = {}
            for name in names:
                spec = self.spec(name)
                last = self.prices[spec.symbol]
                tick = Decimal(1).scaleb(-spec.pair_decimals)
                px = lambda v, s=spec: fmt_decimal(v, s.pair_decimals)  # noqa: E731
                result[spec.id] = {
                    "a": [px(last + tick), "1", "1.000"], "b": [px(last), "2", "2.000"], "c": [px(last), "0.00100000"],
                    "v": ["100.00000000", "250.00000000"], "p": [px(last), px(last)], "t": [1000, 2500],
                    "l": [px(last * Decimal("0.98")), px(last * Decimal("0.97"))],
                    "h": [px(last * Decimal("1.02")), px(last * Decimal("1.03"))], "o": px(last),
                }
            return result

    def assets_payload(self) -> dict:
        return {k: dict(v) for k, v in ASSETS.items()}

    def asset_pairs_payload(self, pair_param: str | None) -> dict:
        names = [n for n in (pair_param or "").split(",") if n]
        with self._lock:
            specs = [self.spec(n) for n in names] if names else list(self.pairs.values())
            rows = {}
            for s in specs:
                if s.symbol in self.knobs.hidden_pairs:
                    continue
                row = asset_pair_payload(s)
                for key, value in zip(("margin_call", "margin_stop"), self.levels.get(s.symbol, ()), strict=False):
                    if value is None:
                        row.pop(key)
                    else:
                        row[key] = value
                rows[s.id] = row
            return rows

    def balance_ex_payload(self) -> dict:
        with self._lock:
            return {a: {"balance": fmt_decimal(v, int(ASSETS[a]["decimals"])), "hold_trade": "0.0000"}
                    for a, v in self.collateral.items()}

    # ----- orders -----
    def add_order(self, params: Mapping[str, str], json_body: bool = False) -> dict:
        """AddOrder: reduce-only and settle-position orders reduce this pair's opposite positions, oldest first;
        trigger orders (and reduce-only limits) rest in `book` until the price reaches them."""
        with self._lock:
            spec = self.spec(params.get("pair", ""))
            side, ordertype = params.get("type"), params.get("ordertype")
            if side not in ("buy", "sell"):
                raise KrakenApiError("EGeneral:Invalid arguments:type")
            if ordertype not in ("market", "limit", "settle-position", *TRIGGER_TYPES):
                raise KrakenApiError("EGeneral:Invalid arguments:ordertype")
            if ordertype in TRIGGER_TYPES:
                volume = _dec(params, "volume")
                if volume is None or volume <= 0:
                    raise KrakenApiError("EGeneral:Invalid arguments:volume")
                result = self.book.add(params, spec, json_body)
                self.orders.append(dict(params))
                return result
            volume, price, leverage = _dec(params, "volume"), _dec(params, "price"), _dec(params, "leverage")
            settle = ordertype == "settle-position"
            if volume is None or volume < 0 or (volume == 0 and not settle):
                raise KrakenApiError("EGeneral:Invalid arguments:volume")
            if ordertype == "limit" and price is None:
                raise KrakenApiError("EGeneral:Invalid arguments:price")
            if params.get("reduce_only", "false").lower() == "true" and leverage is None and not settle:
                raise KrakenApiError("EGeneral:Invalid arguments:reduce_only only valid for leveraged orders")
            reduce_only = params.get("reduce_only", "false").lower() == "true"
            order_id = f"O{next(self._ids):05d}-SIMUL-ORDERS"
            if reduce_only or settle:
                fill = price if ordertype == "limit" and price is not None else self.prices[spec.symbol]
                self._reduce(spec, "sell" if side == "buy" else "buy", volume, fill, order_id, ordertype)
            elif leverage is not None:
                self._open(spec, side, volume, price, leverage)
            self.orders.append(dict(params))
            lev = f" with {leverage}:1 leverage" if leverage is not None else ""
            at = f"limit {price}" if ordertype == "limit" else ordertype
            return {"descr": {"order": f"{side} {volume} {spec.altname} @ {at}{lev}"}, "txid": [order_id]}

    def open_orders_payload(self) -> dict:
        with self._lock:
            return self.book.payload()

    def cancel_order(self, params: Mapping[str, str]) -> dict:
        with self._lock:
            return self.book.cancel(params)

    def amend_order(self, params: Mapping[str, str]) -> dict:
        with self._lock:
            return self.book.amend(params)

    def _reduce(self, spec: PairSpec, position_type: str, volume: Decimal, fill: Decimal | None = None,
                order_id: str = "", ordertype: str = "market") -> None:
        held = sorted((p for p in self.positions.values() if p.spec is spec and p.type == position_type),
                      key=lambda p: p.time)
        if not held:
            raise KrakenApiError("EOrder:Reduce only:No position exists")
        left = volume if volume > 0 else sum((p.remaining for p in held), Decimal(0))
        for p in held:
            if left <= 0:
                break
            take = min(left, p.remaining)
            if fill is not None:
                kraken_trades.record_closing(self, p, take, fill, order_id, ordertype)
            keep = (p.remaining - take) / p.remaining
            p.cost, p.margin, p.vol_closed = p.cost * keep, p.margin * keep, p.vol_closed + take
            if p.value is not None and p.net is not None:
                p.value, p.net = p.value * keep, p.net * keep
            left -= take
            if p.remaining == 0:
                del self.positions[p.txid]

    def _open(self, spec: PairSpec, side: str, volume: Decimal, price: Decimal | None, leverage: Decimal) -> None:
        if int(leverage) != leverage or int(leverage) not in spec.leverage:
            raise KrakenApiError("EGeneral:Invalid arguments:leverage")
        fill = price if price is not None else self.prices[spec.symbol]
        balance = self.trade_balance_payload(spec.quote_id)  # free margin in the pair's quote currency
        if Decimal(balance["mf"]) < fill * volume / leverage:
            raise KrakenApiError("EOrder:Insufficient margin")
        self.add_position(spec.symbol, side, volume, fill, leverage=int(leverage))
