"""Pure Kraken REST payload -> domain parsing (Decimal from strings) and client-side request pacing; no ccxt."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from kraken_monitor.domain.decimals import to_decimal
from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.domain.kernels import DEFAULT_LIQUIDATION_LEVEL, DEFAULT_MARGIN_CALL_LEVEL
from kraken_monitor.domain.models import Balance, MarginMode, PairRules, Position, Side, Ticker
from kraken_monitor.exchange.base import OrderResult
from kraken_monitor.exchange.errors import BadResponse

LEVELS_UNKNOWN = "levels unknown, using 80/40"

# Kraken's legacy asset names -> the common code (what ccxt, the UI and the JSON use) and back.
# Used when Kraken's own Assets list is not at hand; the adapter prefers that list (ccxt currencies).
_COMMON = {"XBT": "BTC", "XXBT": "BTC", "XDG": "DOGE", "XXDG": "DOGE", "ZUSD": "USD", "ZEUR": "EUR",
           "ZGBP": "GBP", "ZCAD": "CAD", "ZJPY": "JPY", "ZAUD": "AUD", "ZCHF": "CHF", "XETH": "ETH",
           "XLTC": "LTC", "XXRP": "XRP", "XXLM": "XLM", "XXMR": "XMR", "XZEC": "ZEC", "XETC": "ETC"}
_KRAKEN = {"BTC": "XXBT", "DOGE": "XXDG", "USD": "ZUSD", "EUR": "ZEUR", "GBP": "ZGBP", "CAD": "ZCAD",
           "JPY": "ZJPY", "AUD": "ZAUD", "ETH": "XETH", "LTC": "XLTC", "XRP": "XXRP", "XLM": "XXLM",
           "XMR": "XXMR", "ZEC": "XZEC", "ETC": "XETC"}


def common_code(code: str) -> str:
    """Kraken asset name or common code -> common code: XBT/XXBT -> BTC, ZEUR -> EUR, usdt -> USDT."""
    code = code.strip().upper()
    return _COMMON.get(code, code)


def kraken_asset(code: str) -> str:
    """Common code -> Kraken asset id: BTC -> XXBT, EUR -> ZEUR; assets without a legacy name as they are."""
    code = common_code(code)
    return _KRAKEN.get(code, code)


def kraken_number(value: Any, name: str, *, json_number_ok: bool = False) -> Decimal:
    """Parse one Kraken number. Money arrives as strings; only a few rule fields (margin_call) are JSON numbers.

    A JSON number is accepted only where `json_number_ok` (a float via its shortest repr, never via binary
    arithmetic); anything non-finite or non-numeric is a BadResponse.
    """
    try:
        return to_decimal(value, f"Kraken's '{name}'", text_only=not json_number_ok, floats=json_number_ok)
    except InvalidAmount as exc:
        raise BadResponse(f"Kraken sent no usable number: {exc}") from None


def _field(row: Mapping[str, Any], key: str, what: str) -> Any:
    if not isinstance(row, Mapping):
        raise BadResponse(f"Kraken {what} is not an object")
    if key not in row:
        raise BadResponse(f"Kraken {what} is missing '{key}'")
    return row[key]


def _int_list(value: Any, name: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise BadResponse(f"Kraken sent a malformed '{name}' list")
    return tuple(value)


def _utc_from_unix(value: Any, name: str) -> datetime:
    # `time` is a JSON float of unix seconds and `rollovertm` a string; sub-second precision is irrelevant here.
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise BadResponse(f"Kraken sent a malformed timestamp '{name}'") from None
    if not 0 < seconds < 1e11:
        raise BadResponse(f"Kraken sent an out-of-range timestamp '{name}'")
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def parse_pair_rules(market: Mapping[str, Any]) -> PairRules | None:
    """A ccxt market (raw AssetPairs row in `info`) -> PairRules, or None for a pair without margin."""
    info = _field(market, "info", "market")
    what = f"AssetPairs entry {market.get('id', '?')}"
    leverage_buy = _int_list(info.get("leverage_buy"), "leverage_buy")
    leverage_sell = _int_list(info.get("leverage_sell"), "leverage_sell")
    if not leverage_buy and not leverage_sell:
        return None
    decimals = {}
    for key in ("pair_decimals", "lot_decimals"):
        raw = _field(info, key, what)
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise BadResponse(f"Kraken {what} has a malformed '{key}'")
        decimals[key] = raw
    ordermin = info.get("ordermin")
    call_level, stop_level, levels_unknown = _margin_levels(info)
    return PairRules(
        symbol=str(_field(market, "symbol", what)),
        base=str(_field(market, "base", what)),
        quote=str(_field(market, "quote", what)),
        margin_call_level=call_level,
        margin_stop_level=stop_level,
        leverage_buy=leverage_buy,
        leverage_sell=leverage_sell,
        price_decimals=decimals["pair_decimals"],
        volume_decimals=decimals["lot_decimals"],
        min_order=Decimal(0) if ordermin is None else kraken_number(ordermin, "ordermin"),
        exchange_id=str(_field(market, "id", what)),
        levels_unknown=levels_unknown,
    )


def _margin_levels(info: Mapping[str, Any]) -> tuple[Decimal, Decimal, str]:
    """(margin_call, margin_stop, note): Kraken's levels when valid (0 < stop < call), else 80/40 and why.

    A pair without levels must not stop the whole read, nor be judged silently on assumed levels:
    the note travels with the rules and the monitor shows it (issue 11, item 6).
    """
    raw_call, raw_stop = info.get("margin_call"), info.get("margin_stop")
    if raw_call is None or raw_stop is None:
        return DEFAULT_MARGIN_CALL_LEVEL, DEFAULT_LIQUIDATION_LEVEL, LEVELS_UNKNOWN
    call = kraken_number(raw_call, "margin_call", json_number_ok=True)
    stop = kraken_number(raw_stop, "margin_stop", json_number_ok=True)
    if not 0 < stop < call:
        return DEFAULT_MARGIN_CALL_LEVEL, DEFAULT_LIQUIDATION_LEVEL, f"levels invalid ({call}/{stop}), using 80/40"
    return call, stop, ""


def parse_ticker(symbol: str, row: Mapping[str, Any], as_of: datetime) -> Ticker:
    """One Ticker row (`a` ask, `b` bid, `c` last; each a list whose first item is the price)."""
    what = f"Ticker entry {symbol}"

    def first(key: str) -> Decimal:
        value = _field(row, key, what)
        if not isinstance(value, list) or not value:
            raise BadResponse(f"Kraken {what} has a malformed '{key}'")
        return kraken_number(value[0], f"{symbol} {key}")

    return Ticker(pair=symbol, bid=first("b"), ask=first("a"), last=first("c"), as_of=as_of)


def parse_tickers(result: Any, symbol_for_id: Callable[[str], str | None], as_of: datetime) -> dict[str, Ticker]:
    """Ticker `result` object keyed by Kraken pair id -> tickers keyed by unified symbol (unknown ids skipped)."""
    if not isinstance(result, Mapping):
        raise BadResponse("Kraken Ticker result is not an object")
    tickers = {}
    for pair_id, row in result.items():
        symbol = symbol_for_id(pair_id)
        if symbol is not None:
            tickers[symbol] = parse_ticker(symbol, row, as_of)
    return tickers


def parse_trade_balance(result: Any, asset: str = "ZUSD") -> Balance:
    """TradeBalance -> Balance. `ml` is absent when no margin is used (m == 0); e and m are always sent."""
    what = "TradeBalance result"
    if not isinstance(result, Mapping):
        raise BadResponse(f"{what} is not an object")
    ml, n = result.get("ml"), result.get("n")
    return Balance(
        currency=common_code(asset),
        trade_balance=kraken_number(_field(result, "tb", what), "tb"),
        exchange_equity=kraken_number(_field(result, "e", what), "e"),
        exchange_used_margin=kraken_number(_field(result, "m", what), "m"),
        exchange_margin_level=None if ml is None else kraken_number(ml, "ml"),
        exchange_unrealized_pnl=None if n is None else kraken_number(n, "n"),
    )


def parse_position(txid: str, row: Mapping[str, Any], symbol_for_id: Callable[[str], str | None]) -> Position:
    """One per-txid OpenPositions row (docalcs) -> Position.

    Reading chosen (see models.Position): `cost` and `margin` describe the REMAINING volume, because
    Kraken's docs example has net == value - cost exactly after a partial close.
    """
    what = f"position {txid}"
    kind = _field(row, "type", what)
    if kind not in ("buy", "sell"):
        raise BadResponse(f"Kraken {what} has an unknown type {str(kind)[:20]!r}")
    volume = kraken_number(_field(row, "vol", what), "vol")
    volume_closed = kraken_number(_field(row, "vol_closed", what), "vol_closed")
    if volume <= 0 or not 0 <= volume_closed <= volume:
        raise BadResponse(f"Kraken {what} has inconsistent vol/vol_closed")
    pair_id = str(_field(row, "pair", what))
    rollover = row.get("rollovertm")
    value, net = row.get("value"), row.get("net")
    return Position(
        id=txid,
        pair=symbol_for_id(pair_id) or pair_id,  # unknown pair: keep Kraken's id rather than drop the position
        side=Side.LONG if kind == "buy" else Side.SHORT,
        volume=volume,
        volume_closed=volume_closed,
        cost=kraken_number(_field(row, "cost", what), "cost"),
        margin=kraken_number(_field(row, "margin", what), "margin"),
        opened_at=_utc_from_unix(_field(row, "time", what), "time"),
        trading_fee=kraken_number(row.get("fee", "0"), "fee"),
        rollover_terms=str(row.get("terms") or ""),
        next_rollover=None if rollover in (None, "", "0") else _utc_from_unix(rollover, "rollovertm"),
        margin_mode=MarginMode.CROSS,
        exchange_value=None if value is None else kraken_number(value, "value"),
        exchange_net=None if net is None else kraken_number(net, "net"),
    )


def parse_positions(result: Any, symbol_for_id: Callable[[str], str | None]) -> tuple[Position, ...]:
    """Per-txid OpenPositions result (an object; a list means the consolidated shape, which lacks txids)."""
    if isinstance(result, list):
        raise BadResponse("Kraken OpenPositions came back consolidated (no per-position data)")
    if not isinstance(result, Mapping):
        raise BadResponse("Kraken OpenPositions result is not an object")
    positions = [parse_position(str(txid), row, symbol_for_id) for txid, row in result.items()]
    return tuple(sorted(positions, key=lambda p: (p.opened_at, p.id)))


def parse_order_result(result: Any) -> OrderResult:
    """AddOrder result {'descr': {'order': ...}, 'txid': [...]} -> OrderResult."""
    if not isinstance(result, Mapping):
        raise BadResponse("Kraken AddOrder result is not an object")
    txids = result.get("txid")
    if not isinstance(txids, list) or not txids or not all(isinstance(t, str) for t in txids):
        raise BadResponse("Kraken AddOrder result has no order txid")
    descr = result.get("descr")
    description = descr.get("order", "") if isinstance(descr, Mapping) else ""
    return OrderResult(order_id=",".join(txids), description=str(description))


class MinIntervalPacer:
    """Keeps calls at least `interval_s` apart (Kraken public endpoints: about one request per second)."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self._clock = clock
        self._last: float | None = None

    def delay(self) -> float:
        """Seconds to wait before the next call is allowed (0 if now)."""
        if self._last is None:
            return 0.0
        return max(0.0, self._last + self.interval_s - self._clock())

    def record(self) -> None:
        self._last = self._clock()


class CallCounter:
    """Client-side mirror of Kraken's private call counter: +cost per call, decays `decay_per_s`, max `limit`.

    Starter tier: limit 15, decay 0.33/s (https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits).
    An account poll (TradeBalance + OpenPositions) costs 2, so steady polling every >= 6.1 s never waits.
    """

    def __init__(self, limit: float = 15, decay_per_s: float = 0.33, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.decay_per_s = decay_per_s
        self._clock = clock
        self._level = 0.0
        self._at = clock()

    def level(self) -> float:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._at) * self.decay_per_s)
        self._at = now
        return self._level

    def delay(self, cost: float = 1) -> float:
        """Seconds until a call of `cost` fits under the limit."""
        # A hair of slack: Kraken decays its own copy of the counter with its own float arithmetic, and a
        # call timed to land exactly on the limit can be refused by the last bit (seen in tests/reliability).
        excess = self.level() + cost - self.limit + 1e-10
        return 0.0 if excess <= 0 else excess / self.decay_per_s

    def record(self, cost: float = 1) -> None:
        self._level = self.level() + cost
