"""Static Kraken reference payloads for the test server: assets, margin pairs and the docs' five positions."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class PairSpec:
    """One AssetPairs entry as the test server serves it."""

    id: str  # Kraken pair id, e.g. "XXBTZUSD"
    altname: str  # "XBTUSD"
    wsname: str  # "XBT/USD"
    base_id: str  # "XXBT"
    quote_id: str  # "ZUSD"
    symbol: str  # unified "BTC/USD"
    pair_decimals: int
    lot_decimals: int
    ordermin: str
    leverage: tuple[int, ...] = (2, 3, 4, 5)
    margin_call: int = 80
    margin_stop: int = 40
    price: Decimal = Decimal("0")  # starting last price


ASSETS = {
    "XXBT": {"aclass": "currency", "altname": "XBT", "decimals": 10, "display_decimals": 5,
             "collateral_value": "1.0", "margin_rate": 0.01, "status": "enabled"},
    "XETH": {"aclass": "currency", "altname": "ETH", "decimals": 10, "display_decimals": 5,
             "collateral_value": "1.0", "margin_rate": 0.02, "status": "enabled"},
    "SOL": {"aclass": "currency", "altname": "SOL", "decimals": 10, "display_decimals": 5,
            "collateral_value": "0.9", "margin_rate": 0.02, "status": "enabled"},
    "XXRP": {"aclass": "currency", "altname": "XRP", "decimals": 8, "display_decimals": 5,
             "collateral_value": "0.9", "margin_rate": 0.02, "status": "enabled"},
    "ADA": {"aclass": "currency", "altname": "ADA", "decimals": 8, "display_decimals": 6,
            "status": "enabled"},
    "ZUSD": {"aclass": "currency", "altname": "USD", "decimals": 4, "display_decimals": 2,
             "collateral_value": "1.0", "status": "enabled"},
    "ZEUR": {"aclass": "currency", "altname": "EUR", "decimals": 4, "display_decimals": 2,
             "collateral_value": "1.0", "status": "enabled"},
    "ZGBP": {"aclass": "currency", "altname": "GBP", "decimals": 4, "display_decimals": 2,
             "collateral_value": "1.0", "status": "enabled"},
}

PAIRS = (
    PairSpec("XXBTZUSD", "XBTUSD", "XBT/USD", "XXBT", "ZUSD", "BTC/USD", 1, 8, "0.00005",
             price=Decimal("87959.9")),
    PairSpec("XETHZUSD", "ETHUSD", "ETH/USD", "XETH", "ZUSD", "ETH/USD", 2, 8, "0.002", price=Decimal("2920.49")),
    PairSpec("SOLUSD", "SOLUSD", "SOL/USD", "SOL", "ZUSD", "SOL/USD", 2, 8, "0.02", leverage=(2, 3),
             price=Decimal("138.08")),
    PairSpec("XXRPZUSD", "XRPUSD", "XRP/USD", "XXRP", "ZUSD", "XRP/USD", 5, 8, "10", leverage=(2, 3, 4, 5),
             price=Decimal("2.23732")),
    # Pairs quoted in other currencies (shared reference 1b): BTC-quoted, EUR-quoted, and the FX pairs
    # Kraken's TradeBalance converts with. Starting prices are consistent through USD (ETH/BTC =
    # ETH/USD / BTC/USD, BTC/EUR = BTC/USD / EUR/USD, to the pair's decimals).
    PairSpec("XETHXXBT", "ETHXBT", "ETH/XBT", "XETH", "XXBT", "ETH/BTC", 5, 8, "0.002", price=Decimal("0.03320")),
    PairSpec("XXBTZEUR", "XBTEUR", "XBT/EUR", "XXBT", "ZEUR", "BTC/EUR", 1, 8, "0.00005",
             price=Decimal("81444.4")),
    PairSpec("XETHZEUR", "ETHEUR", "ETH/EUR", "XETH", "ZEUR", "ETH/EUR", 2, 8, "0.002", price=Decimal("2704.16")),
    PairSpec("ZEURZUSD", "EURUSD", "EUR/USD", "ZEUR", "ZUSD", "EUR/USD", 5, 8, "5", leverage=(2, 3),
             price=Decimal("1.08000")),
    # GBP is listed as an asset but only priced through EUR: a cross no direct USD pair covers.
    PairSpec("ZGBPZEUR", "GBPEUR", "GBP/EUR", "ZGBP", "ZEUR", "GBP/EUR", 5, 8, "5", leverage=(),
             price=Decimal("1.17000")),
    # A spot-only pair (no leverage) so clients can check they skip non-margin pairs.
    PairSpec("ADAUSD", "ADAUSD", "ADA/USD", "ADA", "ZUSD", "ADA/USD", 6, 8, "5", leverage=(),
             price=Decimal("0.812345")),
)

_FEES = [[0, 0.26], [50000, 0.24], [100000, 0.22], [250000, 0.2], [500000, 0.18], [1000000, 0.16]]
_FEES_MAKER = [[0, 0.16], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06]]


def asset_pair_payload(spec: PairSpec) -> dict:
    """The AssetPairs row Kraken sends for `spec` (margin levels are JSON integers, as Kraken sends them)."""
    return {
        "altname": spec.altname, "wsname": spec.wsname, "aclass_base": "currency", "base": spec.base_id,
        "aclass_quote": "currency", "quote": spec.quote_id, "lot": "unit", "cost_decimals": 5,
        "pair_decimals": spec.pair_decimals, "lot_decimals": spec.lot_decimals, "lot_multiplier": 1,
        "leverage_buy": list(spec.leverage), "leverage_sell": list(spec.leverage),
        "fees": copy.deepcopy(_FEES), "fees_maker": copy.deepcopy(_FEES_MAKER), "fee_volume_currency": "ZUSD",
        "margin_call": spec.margin_call, "margin_stop": spec.margin_stop, "ordermin": spec.ordermin,
        "costmin": "0.5", "tick_size": str(Decimal(1).scaleb(-spec.pair_decimals)), "status": "online",
    }


# Kraken REST docs, "Get Open Positions" example (https://docs.kraken.com/api/docs/rest-api/get-open-positions):
# five per-txid BTC/USD longs at 5x; the first is partially closed (vol_closed 0.202).
DOCS_OPEN_POSITIONS = {
    "TF5GVO-T7ZZ2-6NBKBI": {
        "ordertxid": "OLWNFG-LLH4R-D6SFFP", "posstatus": "open", "pair": "XXBTZUSD", "time": 1605280097.8294,
        "type": "buy", "ordertype": "limit", "cost": "104610.52842", "fee": "289.06565", "vol": "8.82412861",
        "vol_closed": "0.20200000", "margin": "20922.10568", "value": "258797.5", "net": "+154186.9728",
        "terms": "0.0100% per 4 hours", "rollovertm": "1616672637", "misc": "", "oflags": "",
    },
    "T24DOR-TAFLM-ID3NYP": {
        "ordertxid": "OIVYGZ-M5EHU-ZRUQXX", "posstatus": "open", "pair": "XXBTZUSD", "time": 1607943827.3172,
        "type": "buy", "ordertype": "limit", "cost": "145756.76856", "fee": "335.24057", "vol": "8.00000000",
        "vol_closed": "0.00000000", "margin": "29151.35371", "value": "240124.0", "net": "+94367.2314",
        "terms": "0.0100% per 4 hours", "rollovertm": "1616672637", "misc": "", "oflags": "",
    },
    "TYMRFG-URRG5-2ZTQSD": {
        "ordertxid": "OF5WFH-V57DP-QANDAC", "posstatus": "open", "pair": "XXBTZUSD", "time": 1610448039.8374,
        "type": "buy", "ordertype": "limit", "cost": "0.00240", "fee": "0.00000", "vol": "0.00000010",
        "vol_closed": "0.00000000", "margin": "0.00048", "value": "0", "net": "+0.0006",
        "terms": "0.0100% per 4 hours", "rollovertm": "1616672637", "misc": "", "oflags": "",
    },
    "TAFGBN-TZNFC-7CCYIM": {
        "ordertxid": "OF5WFH-V57DP-QANDAC", "posstatus": "open", "pair": "XXBTZUSD", "time": 1610448039.8448,
        "type": "buy", "ordertype": "limit", "cost": "2.40000", "fee": "0.00264", "vol": "0.00010000",
        "vol_closed": "0.00000000", "margin": "0.48000", "value": "3.0", "net": "+0.6015",
        "terms": "0.0100% per 4 hours", "rollovertm": "1616672637", "misc": "", "oflags": "",
    },
    "T4O5L3-4VGS4-IRU2UL": {
        "ordertxid": "OF5WFH-V57DP-QANDAC", "posstatus": "open", "pair": "XXBTZUSD", "time": 1610448040.7722,
        "type": "buy", "ordertype": "limit", "cost": "21.59760", "fee": "0.02376", "vol": "0.00089990",
        "vol_closed": "0.00000000", "margin": "4.31952", "value": "27.0", "net": "+5.4133",
        "terms": "0.0100% per 4 hours", "rollovertm": "1616672637", "misc": "", "oflags": "",
    },
}

# The BTC/USD price implied by the docs example's value / remaining volume (about 30,015.5).
DOCS_BTC_PRICE = Decimal("30015.5")
