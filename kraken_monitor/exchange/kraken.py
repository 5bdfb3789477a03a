"""Live Kraken spot-margin adapter over ccxt: paced calls, Decimal parsing, typed errors with secrets scrubbed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from kraken_monitor.domain.candles import Candle, timeframe_seconds
from kraken_monitor.domain.events import CloseInfo
from kraken_monitor.domain.history import ClosedPosition
from kraken_monitor.domain.models import AccountState, PairRules, Position, Side, Ticker
from kraken_monitor.domain.orders import OrderSpec
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange import kraken_orders as ko
from kraken_monitor.exchange import kraken_parse as kp
from kraken_monitor.exchange.base import Capabilities, Exchange, OrderResult
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import (
    AuthFailed,
    BadResponse,
    ExchangeError,
    RateLimited,
    Rejected,
)
from kraken_monitor.exchange.kraken_errors import map_error, scrub  # noqa: F401 (scrub: kraken_futures imports it here)
from kraken_monitor.exchange.kraken_history import all_pages, closed_from_history, oldest_opening, opening_ids
from kraken_monitor.exchange.ohlc import candles_from_ccxt, since_ms
from kraken_monitor.exchange.transport import DEFAULT_MAX_BYTES, BoundedSession

DEFAULT_API_URL = "https://api.kraken.com"
_NO_ISOLATED = ("Kraken spot margin is cross margin only: there is no per-position margin. Deposit collateral on "
                "Kraken, or reduce/settle a position, to raise the margin level.")


class KrakenExchange(Exchange):
    """Kraken spot margin through ccxt. Thread contract: public reads (prices) and private reads (account) may
    run in two threads at once; each side is used by one thread at a time.

    Two ccxt instances: public calls carry no credentials at all, and neither waits behind the other.
    ccxt's own throttle is off (it serialises everything to 1 call/s); pacing is ours: public calls at least
    `public_interval_s` apart, private calls kept under Kraken's call counter (Starter: 15, decay 0.33/s).
    """

    mode = AccountKind.LIVE

    def __init__(self, api_url: str | None = None, credentials: Credentials | None = None, timeout_s: float = 10,
                 *, public_interval_s: float = 1.0, private_counter: kp.CallCounter | None = None,
                 max_wait_s: float = 5.0, sleep: Callable[[float], None] = time.sleep,
                 max_response_bytes: int = DEFAULT_MAX_BYTES, collateral_currency: str = "USD") -> None:
        import ccxt  # lazy: ccxt takes ~0.5 s to import

        self._credentials = credentials
        self._secrets = (credentials.key, credentials.secret) if credentials else ()
        if credentials is not None and not credentials.secret_is_base64():
            raise AuthFailed("The API secret is not valid base64; copy it again from Kraken.")
        base = (api_url or DEFAULT_API_URL).rstrip("/")
        config = {"enableRateLimit": False, "timeout": int(timeout_s * 1000)}
        self._public = ccxt.kraken(dict(config))
        self._private = ccxt.kraken(dict(config, apiKey=credentials.key, secret=credentials.secret)
                                    if credentials else dict(config))
        for ex in (self._public, self._private):
            # ccxt builds URLs as urls['api'][public|private] + '/0/<api>/<Method>'; zendesk is also redirected
            # so that nothing leaves the configured host (tests: 127.0.0.1).
            ex.urls["api"] = {"public": base, "private": base, "zendesk": base}
            # `timeout_s` is a total deadline (connect + headers + body), not requests' per-read timeout;
            # each instance has its own session, so a stuck account read never holds prices up, nor the reverse.
            default_session, ex.session = ex.session, BoundedSession(timeout_s, max_response_bytes)
            if default_session is not None:
                default_session.close()
        self._pacer = kp.MinIntervalPacer(public_interval_s)
        self._counter = private_counter or kp.CallCounter()
        self._max_wait_s = max_wait_s
        self._sleep = sleep
        self._rules: dict[str, PairRules] = {}
        self._markets_lock = threading.Lock()
        self._symbols: dict[str, str] = {}  # Kraken pair id and altname -> unified symbol
        self._listed: dict[str, tuple[str, str]] = {}  # every listed pair (margin or not) -> (base, quote)
        # TradeBalance is requested in the account currency (issue 11): every account figure is in it.
        self.currency = kp.common_code(collateral_currency)

    # ----- plumbing -----
    def _call(self, fn: Callable[[], Any], *, private: bool, cost: float = 1, action: bool = False) -> Any:
        if private:
            if self._credentials is None:
                raise AuthFailed("No Kraken API key is configured (keyring or KRAKEN_API_KEY/KRAKEN_API_SECRET).")
            wait = self._counter.delay(cost)
            if wait > self._max_wait_s:
                raise RateLimited(f"Holding back to stay within Kraken's call counter ({wait:.0f} s).", wait)
            if wait > 0:
                self._sleep(wait)
            self._counter.record(cost)
        else:
            wait = self._pacer.delay()
            if wait > 0:
                self._sleep(wait)
            self._pacer.record()
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - every failure is mapped to a typed error below
            mapped = map_error(exc, action=action, secrets=self._secrets)
        if isinstance(mapped, RateLimited) and private:
            self._counter.record(self._counter.limit)  # someone else uses the key: back off a full window
        raise mapped from None  # `from None`: the ccxt exception (URL, body) never travels with ours

    @staticmethod
    def _result(response: Any, what: str) -> Any:
        if not isinstance(response, dict):
            raise BadResponse(f"Kraken {what} did not return valid JSON.")
        if response.get("error"):
            raise BadResponse(f"Kraken {what} returned errors with its result.")
        if "result" not in response:
            raise BadResponse(f"Kraken {what} response has no result.")
        return response["result"]

    def _symbol_for_id(self, pair_id: str) -> str | None:
        return self._symbols.get(pair_id)

    def _ensure_markets(self) -> None:
        if not self._rules:
            with self._markets_lock:  # held only until the first AssetPairs read succeeds
                if not self._rules:
                    self.load_pair_rules()

    # ----- reads -----
    def load_pair_rules(self) -> dict[str, PairRules]:
        markets = self._call(lambda: self._public.load_markets(reload=True), private=False)
        if not markets:
            # ccxt turns an unparsable AssetPairs body into zero markets; Kraken always lists pairs.
            raise BadResponse("Kraken AssetPairs returned no pairs (malformed or empty response).")
        try:
            rules, symbols, listed = {}, {}, {}
            for market in markets.values():
                symbols[market["id"]] = market["symbol"]
                listed[market["symbol"]] = (str(market.get("base", "")), str(market.get("quote", "")))
                symbols[str(market.get("info", {}).get("altname", market["id"]))] = market["symbol"]
                rule = kp.parse_pair_rules(market)
                if rule is not None:
                    rules[rule.symbol] = rule
            # The private instance needs markets for create_order; share them instead of fetching twice.
            self._private.set_markets_from_exchange(self._public)
        except ExchangeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise map_error(exc, secrets=self._secrets) from None
        self._rules, self._symbols, self._listed = rules, symbols, listed
        return dict(rules)

    def listed_pairs(self) -> dict[str, tuple[str, str]]:
        """Every pair Kraken lists, margin or not (FX conversion may need EUR/USD, GBP/EUR ...)."""
        self._ensure_markets()
        return dict(self._listed)

    def _asset_id(self) -> str:
        """Kraken's asset id for the account currency ("BTC" -> "XXBT"), from the Assets list ccxt loaded."""
        currencies = getattr(self._public, "currencies", None) or {}
        known = currencies.get(self.currency)
        if isinstance(known, dict) and known.get("id"):
            return str(known["id"])
        if currencies:
            raise Rejected(f"Kraken has no asset {self.currency}; choose another account currency.")
        return kp.kraken_asset(self.currency)

    def fetch_tickers(self, pairs: list[str]) -> dict[str, Ticker]:
        """One Ticker request for every known pair in `pairs`; pairs Kraken does not list are left out."""
        self._ensure_markets()
        ids = [self._public.markets[p]["id"] for p in dict.fromkeys(pairs) if p in self._public.markets]
        if not ids:
            return {}
        response = self._call(lambda: self._public.public_get_ticker({"pair": ",".join(ids)}), private=False)
        now = datetime.now(timezone.utc)
        return kp.parse_tickers(self._result(response, "Ticker"), self._symbol_for_id, now)

    def fetch_ohlcv(self, pair: str, timeframe: str, since: float | None = None) -> list[Candle]:
        """Kraken's public OHLC through ccxt `fetch_ohlcv` (at most its newest 720 candles)."""
        timeframe_seconds(timeframe)  # ValueError for a timeframe the chart does not offer
        self._ensure_markets()
        if pair not in self._public.markets:
            raise BadResponse(f"Kraken lists no pair {pair}.")
        rows = self._call(lambda: self._public.fetch_ohlcv(pair, timeframe, since_ms(since)), private=False)
        return candles_from_ccxt(rows)

    def fetch_account(self) -> AccountState:
        """TradeBalance + per-txid OpenPositions + OpenOrders (3 counter points). Any failure raises; never an empty state."""
        self._ensure_markets()
        asset = self._asset_id()
        tb = self._call(lambda: self._private.private_post_tradebalance({"asset": asset}), private=True)
        balance = kp.parse_trade_balance(self._result(tb, "TradeBalance"), asset)
        # Raw call, not fetch_positions: ccxt sends consolidation=market, which drops txid/terms/rollovertm.
        op = self._call(lambda: self._private.private_post_openpositions({"docalcs": "true"}), private=True)
        positions = kp.parse_positions(self._result(op, "OpenPositions"), self._symbol_for_id)
        orders = self._open_orders()
        return AccountState(balance=balance, positions=positions, as_of=datetime.now(timezone.utc), orders=orders)

    def _open_orders(self) -> tuple:
        # Raw call: ccxt's parse_order drops `margin`, `stopprice` and the trailing offset (shared reference 2.3).
        response = self._call(lambda: self._private.private_post_openorders({}), private=True)
        return ko.parse_open_orders(self._result(response, "OpenOrders"), self._symbol_for_id)

    def position_closes(self, positions: Sequence[Position], since: datetime) -> dict[str, CloseInfo]:
        """How positions that vanished ended, from ClosedOrders: "liquidated" when Kraken's closing order
        (same pair, opposite side, closed since `since`) says so in `misc`, else "closed"; the price is
        that order's average fill. Positions without a matching order are left out (caller: "closed")."""
        self._ensure_markets()
        start = str(int(since.timestamp()) - 60)  # a minute of slack for clock skew against Kraken
        # ClosedOrders is a history call: 2 points of the private counter.
        response = self._call(lambda: self._private.private_post_closedorders({"start": start}), private=True, cost=2)
        return closes_from_closed_orders(self._result(response, "ClosedOrders"), positions, self._symbol_for_id)

    def closed_history(self, since: datetime) -> list[ClosedPosition]:
        """Positions closed (in part or whole) since `since`, from TradesHistory + ClosedOrders + Ledgers
        (exchange/kraken_history.py): 2 counter points each, so only when the trader asks for history."""
        self._ensure_markets()
        start = {"start": str(int(since.timestamp()))}
        trades = {"trades": self._history_pages(self._private.private_post_tradeshistory, start, "trades", "TradesHistory")}
        orders = {"closed": self._history_pages(self._private.private_post_closedorders, start, "closed", "ClosedOrders")}
        # Positions opened before `since`: their opening trades by id (QueryTrades takes 20 ids a call).
        missing = sorted(opening_ids(trades) - set(trades["trades"]))
        for chunk in (missing[i:i + 20] for i in range(0, len(missing), 20)):
            found = self._call(lambda ids=",".join(chunk): self._private.private_post_querytrades({"txid": ids}),
                               private=True, cost=1)
            trades["trades"].update(self._result(found, "QueryTrades") or {})
        # Fees since the oldest of those openings: the opening fee and every rollover of each position.
        window = {"start": str(int(oldest_opening(trades, since.timestamp())) - 1)}
        ledgers = {"ledger": self._history_pages(self._private.private_post_ledgers, window, "ledger", "Ledgers")}
        places = {symbol: rules.price_decimals for symbol, rules in self._rules.items()}
        return closed_from_history(trades, orders, ledgers, self._symbol_for_id, self.currency, places)

    def _history_pages(self, method: Callable[[dict], Any], params: dict, key: str, what: str) -> dict[str, dict]:
        """Every row of a paged history call (kraken_history.all_pages), 2 counter points a page."""
        return all_pages(lambda p: self._result(self._call(lambda: method(p), private=True, cost=2), what),
                         params, key, what)

    def _position(self, position_id: str) -> Position:
        self._ensure_markets()
        response = self._call(
            lambda: self._private.private_post_openpositions({"txid": position_id, "docalcs": "false"}), private=True
        )
        for p in kp.parse_positions(self._result(response, "OpenPositions"), self._symbol_for_id):
            if p.id == position_id:
                return p
        raise Rejected(f"Position {position_id} is no longer open on Kraken.")

    @staticmethod
    def _leverage(p: Position) -> int:
        if p.margin <= 0:
            raise Rejected(f"Position {p.id} reports no margin; cannot tell its leverage.")
        return int((p.cost / p.margin).to_integral_value())

    # ----- actions -----
    def capabilities(self) -> Capabilities:
        has_key = self._credentials is not None
        return Capabilities(can_trade=has_key, can_settle=has_key, can_add_collateral=False,
                            can_add_isolated_margin=False,
                            note=_NO_ISOLATED if has_key else "Read-only: no Kraken API key configured.",
                            can_place_orders=has_key, can_trail=has_key)

    def place_order(self, spec: OrderSpec) -> OrderResult:
        """A reduce-only trigger order at the position's leverage (Kraken: reduce_only needs a leveraged order)."""
        p = self._position(spec.position_id)
        if spec.pair != p.pair:
            raise Rejected(f"Position {p.id} is on {p.pair}, not {spec.pair}.")
        if spec.volume > p.remaining_volume:
            raise Rejected(f"Cannot protect {spec.volume}: only {p.remaining_volume} of {p.id} remains open.")
        kind, price, params = ko.create_args(spec, self._leverage(p))
        volume = format(spec.volume, "f")
        order = self._call(
            lambda: self._private.create_order(p.pair, kind, spec.side.value, volume, price, params),
            private=True, cost=0, action=True,
        )
        return kp.parse_order_result(order.get("info") if isinstance(order, dict) else None)

    def cancel_order(self, order_id: str, pair: str) -> OrderResult:
        self._ensure_markets()
        self._call(lambda: self._private.cancel_order(order_id, pair), private=True, cost=0, action=True)
        return OrderResult(order_id=order_id, description="cancelled")

    def modify_order(self, order_id: str, spec: OrderSpec) -> OrderResult:
        """AmendOrder when only size or prices change (same txid, keeps its place); else cancel, then place."""
        current = next((o for o in self._open_orders() if o.id == order_id), None)
        if current is None:
            raise Rejected(f"Order {order_id} is no longer open on Kraken.")
        if not ko.can_amend(current, spec):
            self.cancel_order(order_id, spec.pair)
            return self.place_order(spec)
        kind, price, params = ko.amend_args(spec)
        volume = format(spec.volume, "f")
        self._call(lambda: self._private.edit_order(order_id, spec.pair, kind, spec.side.value, volume, price, params),
                   private=True, cost=0, action=True)
        return OrderResult(order_id=order_id, description="amended")

    def close_position(self, position_id: str, volume: Decimal, order_type: str = "market",
                       limit_price: Decimal | None = None) -> OrderResult:
        """Opposite-side order with the position's leverage and reduce_only, so it can never flip the position."""
        if order_type not in ("market", "limit"):
            raise Rejected(f"Unsupported order type {order_type!r}; use market or limit.")
        if not volume.is_finite() or volume <= 0:
            raise Rejected("The volume to close must be a positive number.")
        if order_type == "limit" and (limit_price is None or not limit_price.is_finite() or limit_price <= 0):
            raise Rejected("A limit close needs a positive limit price.")
        p = self._position(position_id)
        if volume > p.remaining_volume:
            raise Rejected(f"Cannot close {volume}: only {p.remaining_volume} of {p.id} remains open.")
        side = "sell" if p.side is Side.LONG else "buy"
        price = format(limit_price, "f") if order_type == "limit" and limit_price is not None else None
        params = {"leverage": self._leverage(p), "reduceOnly": True}
        order = self._call(
            lambda: self._private.create_order(p.pair, order_type, side, format(volume, "f"), price, params),
            private=True, cost=0, action=True,  # orders use Kraken's separate trading limiter
        )
        return kp.parse_order_result(order.get("info") if isinstance(order, dict) else None)

    def settle_position(self, position_id: str) -> OrderResult:
        """AddOrder ordertype=settle-position for the whole remaining volume, with the position's leverage.

        UNCONFIRMED: Kraken documents the `settle-position` order type but not its exact parameters; we send
        pair, opposite type, the remaining volume and the leverage, as for a closing order.
        """
        p = self._position(position_id)
        market = self._private.markets.get(p.pair) if self._private.markets else None
        if market is None:
            raise Rejected(f"Kraken does not list the pair {p.pair}.")
        request = {"pair": market["id"], "type": "sell" if p.side is Side.LONG else "buy",
                   "ordertype": "settle-position", "volume": format(p.remaining_volume.normalize(), "f"),
                   "leverage": str(self._leverage(p))}
        response = self._call(lambda: self._private.private_post_addorder(request), private=True, cost=0, action=True)
        return kp.parse_order_result(self._result(response, "AddOrder"))

    def add_collateral(self, amount: Decimal) -> OrderResult:
        raise Rejected("Collateral cannot be added from the monitor: deposit funds on Kraken; the trade balance "
                       "then rises and the margin level with it.")

    def add_isolated_margin(self, position_id: str, amount: Decimal) -> OrderResult:
        raise Rejected(_NO_ISOLATED)

    def close(self) -> None:
        for ex in (self._public, self._private):
            session = getattr(ex, "session", None)
            if session is not None:
                session.close()


def closes_from_closed_orders(result: Any, positions: Sequence[Position], symbol_for_id: Callable[[str], str | None]) -> dict[str, CloseInfo]:
    """Match each vanished position to Kraken's closing order; `misc` containing "liquidated" marks Kraken's own."""
    closed = result.get("closed") if isinstance(result, dict) else None
    if not isinstance(closed, dict):
        raise BadResponse("Kraken ClosedOrders response has no 'closed' orders.")
    found: dict[str, CloseInfo] = {}
    for p in positions:
        closing = "sell" if p.side is Side.LONG else "buy"
        orders = [o for o in closed.values() if isinstance(o, dict) and isinstance(o.get("descr"), dict)
                  and symbol_for_id(str(o["descr"].get("pair", ""))) == p.pair and o["descr"].get("type") == closing]
        if not orders:
            continue
        liquidated = [o for o in orders if "liquidated" in str(o.get("misc", "")).split(",")]
        order = max(liquidated or orders, key=lambda o: _decimal_or_none(o.get("closetm")) or Decimal(0))
        price = _decimal_or_none(order.get("price"))
        found[p.id] = CloseInfo("liquidated" if liquidated else "closed", price if price else None, None, "exchange",
                                _decimal_or_none(order.get("fee")))  # the closing order's fee, quote currency
    return found


def _decimal_or_none(value: object) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None
