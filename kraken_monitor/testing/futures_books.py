"""Hand-set Kraken Futures books for tests: worked figures whose derivation is written beside them."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.domain.alert_levels import AlertThresholds
from kraken_monitor.domain.futures import FlexAccount, FuturesBook, FuturesPosition, book_figures
from kraken_monitor.domain.futures_liquidation import FuturesContract, MarginTier
from kraken_monitor.domain.models import MarginMode, Side

D = Decimal
TIERS = (MarginTier(D(0), D("0.02"), D("0.01")), MarginTier(D(500000), D("0.04"), D("0.02")))
BTC = FuturesContract("BTC/USD:USD", "PF_XBTUSD", TIERS, D("0.5"))
ETH = FuturesContract("ETH/USD:USD", "PF_ETHUSD", TIERS, D("0.01"))
AT = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


def futures_book(stale=False):
    """Long 1 BTC from 50000 at 5x isolated, funding -12.5 paid (the domain test's worked position), and a
    cross short of 2 ETH from 3100 marked at 3000 (P&L +200, funding +1.25 credited)."""
    positions = [
        FuturesPosition("iso-btc", BTC.symbol, Side.LONG, D(1), D(50000), MarginMode.ISOLATED, leverage=D(5),
                        unrealized_funding=D("-12.5")),
        FuturesPosition("cross-eth", ETH.symbol, Side.SHORT, D(2), D(3100), MarginMode.CROSS,
                        unrealized_funding=D("1.25")),
    ]
    flex = FlexAccount(margin_equity=D(12200), initial_margin=D(0), maintenance_margin=D(580),
                       available_margin=D(900), portfolio_value=D(12200), collateral_value=D(10000))
    contracts = {BTC.symbol: BTC, ETH.symbol: ETH}
    account, rows = book_figures(flex, positions, {BTC.symbol: D(52000), ETH.symbol: D(3000)}, contracts,
                                 AlertThresholds())
    if stale:
        return FuturesBook("demo", AT, None, (), stale=True, stale_reason="openpositions missing")
    return FuturesBook("demo", AT, account, rows, contracts=contracts)


