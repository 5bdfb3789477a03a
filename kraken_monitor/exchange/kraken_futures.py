"""Live Kraken Futures (flex) adapter over ccxt `krakenfutures`: paced within 500 cost / 10 s, typed errors, Decimal."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from kraken_monitor.domain.futures import FlexAccount, FuturesPosition
from kraken_monitor.domain.futures_liquidation import FuturesContract, MarginTier
from kraken_monitor.domain.models import MarginMode, Side
from kraken_monitor.domain.orders import OpenOrder, OrderSpec
from kraken_monitor.domain.venue import AccountKind
from kraken_monitor.exchange import kraken_futures_orders as kfo
from kraken_monitor.exchange import kraken_parse as kp
from kraken_monitor.exchange.base import Capabilities, OrderResult
from kraken_monitor.exchange.credentials import Credentials
from kraken_monitor.exchange.errors import (
    AuthFailed,
    BadResponse,
    CredentialsMissing,
    ExchangeError,
    ExchangeUnavailable,
    NonceRejected,
    RateLimited,
    Rejected,
)
from kraken_monitor.exchange.futures_base import FuturesExchange
from kraken_monitor.exchange.kraken import scrub
from kraken_monitor.exchange.text import printable
from kraken_monitor.exchange.transport import DEFAULT_MAX_BYTES, BoundedSession

DEFAULT_API_URL = "https://futures.kraken.com"
DEMO_API_URL = "https://demo-futures.kraken.com"  # Kraken's futures demo environment (ccxt set_sandbox_mode)
# Kraken's budget is 500 per 10 s for /derivatives (it refills continuously: 50 per second).
BUDGET, REFILL_PER_S = 500.0, 50.0
COST = {"accounts": 2, "openpositions": 2, "openorders": 2, "leveragepreferences": 2, "set_leverage": 10,
        "transfer": 10, "sendorder": 10, "editorder": 10, "cancelorder": 10}
_FLEX_FIELDS = ("marginEquity", "initialMargin", "maintenanceMargin", "availableMargin", "portfolioValue",
                "collateralValue")


def kraken_message(exc: BaseException) -> str:
    """Kraken's own error text inside a ccxt message ('krakenfutures {"result":"error","error":"..."}')."""
    text = str(exc)
    start = text.find("{")
    try:
        body = json.loads(text[start:]) if start >= 0 else {}
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    message = body.get("error")
    errors = body.get("errors")
    if not message and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code, text_ = errors[0].get("code"), errors[0].get("message")
        message = f"{text_} (error {code})" if code is not None else text_
    return printable(str(message))[:160] if message else ""


def map_futures_error(exc: BaseException, *, action: bool = False, secrets: tuple[str, ...] = ()) -> ExchangeError:
    """ccxt / transport exception -> our typed error; Kraken's message kept (scrubbed), the body never."""
    import ccxt

    where = "; the outcome is unknown: check Kraken Futures before retrying" if action else ""
    if isinstance(exc, ExchangeError):
        return exc
    # Kraken's word: the error body's, or the sendStatus word ccxt raised for ("... failed due to invalidSize").
    said = scrub(kraken_message(exc) or kfo.refusal_word(str(exc)), secrets) if isinstance(exc, ccxt.BaseError) else ""
    shown = said or type(exc).__name__
    if isinstance(exc, ccxt.InvalidNonce):
        return NonceRejected(f"Kraken Futures rejected the nonce ({shown}); another program may use this key.")
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied):
        return AuthFailed(f"Kraken Futures rejected the API credentials ({shown}). Check the futures key and "
                          "its secret (futures keys are made on futures.kraken.com).")
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimited(f"Kraken Futures rate limit exceeded ({shown}){where}.", 10.0)
    if isinstance(exc, ccxt.NetworkError):  # ExchangeNotAvailable (missing openPositions too), timeouts
        what = "timed out" if isinstance(exc, ccxt.RequestTimeout) else "is unavailable"
        return ExchangeUnavailable(f"Kraken Futures {what} ({shown}){where}.")
    if action and isinstance(exc, ccxt.ExchangeError):
        return Rejected(f"Kraken Futures refused: {shown}")
    return BadResponse(f"Kraken Futures returned an error the monitor does not understand ({shown}).")


def _dec(row: dict[str, Any], name: str, what: str) -> Decimal:
    value = row.get(name) if isinstance(row, dict) else None
    if value is None or isinstance(value, bool):
        raise BadResponse(f"Kraken Futures {what} has no {name}.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadResponse(f"Kraken Futures {what} has a non-numeric {name}.") from None
    if not number.is_finite():
        raise BadResponse(f"Kraken Futures {what} has a non-finite {name}.")
    return number


def _optional(row: dict[str, Any], name: str, what: str) -> Decimal | None:
    return _dec(row, name, what) if row.get(name) is not None else None


def parse_flex(flex: Any) -> FlexAccount:
    if not isinstance(flex, dict):
        raise BadResponse("Kraken Futures accounts has no flex account.")
    what = "accounts.flex"
    funding = _optional(flex, "unrealizedFunding", what)
    return FlexAccount(
        margin_equity=_dec(flex, "marginEquity", what), initial_margin=_dec(flex, "initialMargin", what),
        maintenance_margin=_dec(flex, "maintenanceMargin", what),
        available_margin=_dec(flex, "availableMargin", what), portfolio_value=_dec(flex, "portfolioValue", what),
        collateral_value=_dec(flex, "collateralValue", what),
        unrealized_funding=funding if funding is not None else Decimal(0),
        initial_margin_with_orders=_optional(flex, "initialMarginWithOrders", what))


def parse_contract(market: dict[str, Any]) -> FuturesContract:
    info = market.get("info") or {}
    levels = info.get("marginLevels")
    if not isinstance(levels, list) or not levels:
        raise BadResponse(f"Kraken Futures instrument {printable(str(info.get('symbol')))} has no marginLevels.")
    what = "marginLevels"
    # Flex contracts count tiers in USD notional (numNonContractUnits); older ones in contracts.
    tiers = tuple(MarginTier(_dec(row, "numNonContractUnits" if "numNonContractUnits" in row else "contracts", what),
                             _dec(row, "initialMargin", what), _dec(row, "maintenanceMargin", what))
                  for row in levels)
    tick = info.get("tickSize")
    return FuturesContract(market["symbol"], str(info["symbol"]).upper(), tiers,
                           Decimal(str(tick)) if tick is not None else Decimal("0.1"))


class KrakenFuturesExchange(FuturesExchange):
    """Kraken Futures through ccxt. ccxt's throttle is off; our budget mirror keeps us inside 500 per 10 s."""

    mode = AccountKind.LIVE

    def __init__(self, api_url: str | None = None, credentials: Credentials | None = None, timeout_s: float = 10,
                 *, budget: kp.CallCounter | None = None, max_wait_s: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep, max_response_bytes: int = DEFAULT_MAX_BYTES) -> None:
        import ccxt

        self._credentials = credentials
        self._secrets = (credentials.key, credentials.secret) if credentials else ()
        if credentials is not None and not credentials.secret_is_base64():
            raise AuthFailed("The futures API secret is not valid base64; copy it again from Kraken.")
        base = (api_url or DEFAULT_API_URL).rstrip("/")
        config: dict[str, Any] = {"enableRateLimit": False, "timeout": int(timeout_s * 1000)}
        if credentials is not None:
            config.update(apiKey=credentials.key, secret=credentials.secret)
        self._ccxt = ccxt.krakenfutures(config)
        # Everything goes to the configured host (tests: 127.0.0.1), charts and history included.
        self._ccxt.urls["api"] = {"public": base + "/derivatives/api/", "private": base + "/derivatives/api/",
                                  "charts": base + "/api/charts/", "history": base + "/api/history/",
                                  "feeschedules": base + "/api/feeschedules/"}
        default_session, self._ccxt.session = self._ccxt.session, BoundedSession(timeout_s, max_response_bytes)
        if default_session is not None:
            default_session.close()
        self._budget = budget or kp.CallCounter(limit=BUDGET, decay_per_s=REFILL_PER_S)
        self._max_wait_s, self._sleep = max_wait_s, sleep
        self._contracts: dict[str, FuturesContract] = {}
        self._by_id: dict[str, str] = {}  # PF_XBTUSD -> BTC/USD:USD

    # ----- plumbing -----
    def _call(self, fn: Callable[[], Any], *, cost: float = 0, action: bool = False) -> Any:
        if cost:
            if self._credentials is None:
                raise CredentialsMissing("No Kraken Futures API key is configured (keyring or "
                                         "KRAKEN_FUTURES_API_KEY/KRAKEN_FUTURES_API_SECRET).")
            wait = self._budget.delay(cost)
            if wait > self._max_wait_s:
                raise RateLimited(f"Holding back to stay within Kraken Futures' rate budget ({wait:.0f} s).", wait)
            if wait > 0:
                self._sleep(wait)
            self._budget.record(cost)
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a typed error
            mapped = map_futures_error(exc, action=action, secrets=self._secrets)
        if isinstance(mapped, RateLimited):
            self._budget.record(self._budget.limit)  # someone else spends this key's budget: back off a window
        raise mapped from None  # the ccxt exception (URL, body) never travels with ours

    def _ensure_contracts(self) -> None:
        if not self._contracts:
            self.load_contracts()

    def _unified(self, raw_symbol: object) -> str:
        # openpositions may spell pf_xbtusd where instruments say PF_XBTUSD.
        symbol = self._by_id.get(str(raw_symbol).upper())
        if symbol is None:
            raise BadResponse(f"Kraken Futures reported a position in an unknown contract "
                              f"{printable(str(raw_symbol))[:40]}.")
        return symbol

    # ----- reads -----
    def load_contracts(self) -> dict[str, FuturesContract]:
        markets = self._call(lambda: self._ccxt.load_markets(reload=True))
        contracts = {}
        for market in (markets or {}).values():
            info = market.get("info") or {}
            if market.get("swap") and str(info.get("symbol", "")).upper().startswith("PF_"):
                contracts[market["symbol"]] = parse_contract(market)
        if not contracts:
            raise BadResponse("Kraken Futures instruments listed no flex perpetuals.")
        self._contracts = contracts
        self._by_id = {c.exchange_id: s for s, c in contracts.items()}
        return dict(contracts)

    def fetch_marks(self) -> dict[str, Decimal]:
        self._ensure_contracts()
        response = self._call(lambda: self._ccxt.public_get_tickers())
        rows = response.get("tickers") if isinstance(response, dict) else None
        if not isinstance(rows, list):
            raise BadResponse("Kraken Futures tickers has no tickers list.")
        marks = {}
        for row in rows:
            symbol = self._by_id.get(str(row.get("symbol", "")).upper()) if isinstance(row, dict) else None
            if symbol is not None and row.get("markPrice") is not None:  # a missing mark stays missing
                marks[symbol] = _dec(row, "markPrice", "ticker")
        return marks

    def fetch_account(self) -> tuple[FlexAccount, list[FuturesPosition]]:
        self._ensure_contracts()
        balance = self._call(lambda: self._ccxt.fetch_balance(), cost=COST["accounts"])
        flex = parse_flex(((balance.get("info") or {}).get("accounts") or {}).get("flex"))
        raw = self._call(lambda: self._ccxt.fetch_positions(), cost=COST["openpositions"])
        return flex, [self._position(p.get("info") or {}) for p in raw]

    def _position(self, row: dict[str, Any]) -> FuturesPosition:
        what = "openpositions"
        symbol = self._unified(row.get("symbol"))
        side = row.get("side")
        if side not in ("long", "short"):
            raise BadResponse("Kraken Futures openpositions has a position without a side.")
        leverage = _optional(row, "maxFixedLeverage", what)  # present only for isolated positions
        funding = _optional(row, "unrealizedFunding", what)
        return FuturesPosition(
            id=self._contracts[symbol].exchange_id, pair=symbol, side=Side(side), volume=_dec(row, "size", what),
            entry_price=_dec(row, "price", what),
            margin_mode=MarginMode.ISOLATED if leverage is not None else MarginMode.CROSS, leverage=leverage,
            unrealized_funding=funding if funding is not None else Decimal(0),
            unrealized_pnl=_optional(row, "unrealizedPnl", what))

    def leverage_preferences(self) -> dict[str, Decimal]:
        self._ensure_contracts()
        response = self._call(lambda: self._ccxt.private_get_leveragepreferences(), cost=COST["leveragepreferences"])
        rows = response.get("leveragePreferences") if isinstance(response, dict) else None
        if not isinstance(rows, list):
            raise BadResponse("Kraken Futures leveragepreferences has no list.")
        # ccxt's fetch_leverage reads maxLeverage as an integer (2.5 -> 2); the raw number is the truth.
        return {self._unified(r.get("symbol")): _dec(r, "maxLeverage", "leveragepreferences")
                for r in rows if isinstance(r, dict) and r.get("maxLeverage") is not None}

    # ----- action -----
    def set_leverage(self, pair: str, leverage: Decimal | None) -> OrderResult:
        self._ensure_contracts()
        contract = self._contracts.get(pair)
        if contract is None:
            raise Rejected(f"{printable(pair)[:40]} is not a Kraken Futures flex contract.")
        if leverage is None:  # no maxLeverage = back to cross (ccxt has no unified call for it)
            self._call(lambda: self._ccxt.private_put_leveragepreferences({"symbol": contract.exchange_id}),
                       cost=COST["set_leverage"], action=True)
            return OrderResult(contract.exchange_id, f"{pair} set to cross margin")
        text = format(leverage.normalize(), "f")
        self._call(lambda: self._ccxt.set_leverage(text, pair), cost=COST["set_leverage"], action=True)
        return OrderResult(contract.exchange_id, f"{pair} isolated at {text}x")

    def transfer_to_flex(self, amount: Decimal, currency: str = "USD") -> OrderResult:
        if not amount.is_finite() or amount <= 0:
            raise Rejected("The transfer amount must be a positive number.")
        self._ensure_contracts()
        if currency not in (self._ccxt.currencies or {}):  # ccxt would refuse it without asking Kraken
            raise Rejected(f"Kraken Futures lists no {printable(currency)[:12]} collateral; nothing was sent.")
        text = format(amount.normalize(), "f")
        self._call(lambda: self._ccxt.transfer(currency, text, "cash", "flex"), cost=COST["transfer"], action=True)
        return OrderResult("transfer", f"{text} {currency} moved from the futures cash wallet into the flex account")

    # ----- protective orders (exchange/kraken_futures_orders.py builds and reads them) -----
    def fetch_open_orders(self) -> tuple[OpenOrder, ...]:
        self._ensure_contracts()
        answer = self._call(lambda: self._ccxt.private_get_openorders(), cost=COST["openorders"])
        return kfo.parse_open_orders(answer, lambda raw: self._by_id.get(str(raw).upper()))

    def order_capabilities(self) -> Capabilities:
        has_key = self._credentials is not None
        return Capabilities(can_trade=has_key, can_settle=False, can_add_collateral=False,
                            can_add_isolated_margin=False, can_place_orders=has_key, can_trail=has_key,
                            trailing_note=kfo.TRAILING_UNCONFIRMED,
                            note="" if has_key else "Read-only: no Kraken Futures API key configured.")

    def _order_call(self, fn: Callable[[], Any], endpoint: str, key: str) -> str:
        """Run an order action; its status word checked (ccxt returns a "rejected" order for words it does not know)."""
        answer = self._call(fn, cost=COST[endpoint], action=True)
        info = answer.get("info") if isinstance(answer, dict) else None
        body = info if isinstance(info, dict) and "status" in info else (info or {}).get(key)
        return kfo.check_status({key: body}, endpoint, key)

    def place_order(self, spec: OrderSpec) -> OrderResult:
        """A reduce-only order on the position's contract, sized to at most the position."""
        self._ensure_contracts()
        if spec.pair not in self._contracts:
            raise Rejected(f"{printable(spec.pair)[:40]} is not a Kraken Futures flex contract.")
        kind, price, params = kfo.create_args(spec)
        size = format(spec.volume, "f")
        order_id = self._order_call(
            lambda: self._ccxt.create_order(spec.pair, kind, spec.side.value, size, price, params),
            "sendorder", "sendStatus")
        return OrderResult(order_id, f"{spec.type.value} {spec.side.value} {size} {spec.pair} placed")

    def cancel_order(self, order_id: str, pair: str) -> OrderResult:
        self._ensure_contracts()
        self._order_call(lambda: self._ccxt.cancel_order(order_id), "cancelorder", "cancelStatus")
        return OrderResult(order_id, "cancelled")

    def modify_order(self, order_id: str, spec: OrderSpec) -> OrderResult:
        """editorder when only size or prices change (same order id); else cancel, then place."""
        current = next((o for o in self.fetch_open_orders() if o.id == order_id), None)
        if current is None:
            raise Rejected(f"Order {printable(order_id)[:80]} is no longer open on Kraken Futures.")
        if not kfo.can_edit(current, spec):
            self.cancel_order(order_id, spec.pair)
            return self.place_order(spec)
        params = kfo.edit_params(spec)
        self._order_call(lambda: self._ccxt.edit_order(order_id, spec.pair, "market", spec.side.value, None, None,
                                                       params), "editorder", "editStatus")
        return OrderResult(order_id, "edited")

    def close(self) -> None:
        session = getattr(self._ccxt, "session", None)
        if session is not None:
            session.close()
