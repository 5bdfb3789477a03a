"""The paper / demo futures account: Kraken's flex arithmetic and leverage refusals on simulated money (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from kraken_monitor.domain.futures import FlexAccount, FuturesPosition
from kraken_monitor.domain.futures_liquidation import (
    ZERO,
    FuturesContract,
    LeveragePreview,
    pnl_at,
    preview_leverage_change,
)
from kraken_monitor.domain.models import MarginMode, Side


@dataclass(frozen=True)
class PaperFuturesPosition:
    pair: str
    side: Side
    size: Decimal
    entry: Decimal
    leverage: Decimal | None = None  # None = cross
    unrealized_funding: Decimal = ZERO

    def allocated(self) -> Decimal:
        return self.size * self.entry / self.leverage if self.leverage else ZERO


@dataclass
class PaperFuturesBook:
    """Collateral (USD) and one position per contract, as on Kraken's flex account."""

    collateral: Decimal
    positions: dict[str, PaperFuturesPosition] = field(default_factory=dict)

    def flex(self, marks: dict[str, Decimal], contracts: dict[str, FuturesContract]) -> FlexAccount:
        """What Kraken would report: equity = collateral + P&L + funding; initial margin = cross notional x
        the tier's initial rate + isolated allocations; maintenance = notional x the tier's maintenance rate."""
        pnl = funding = initial = maintenance = ZERO
        for p in self.positions.values():
            mark, contract = marks[p.pair], contracts[p.pair]
            notional = p.size * mark
            tier = contract.tier(notional)
            pnl += pnl_at(p.side, p.size, p.entry, mark)
            funding += p.unrealized_funding
            initial += p.allocated() if p.leverage else notional * tier.initial_rate
            maintenance += notional * tier.maintenance_rate
        equity = self.collateral + pnl + funding
        return FlexAccount(margin_equity=equity, initial_margin=initial, maintenance_margin=maintenance,
                           available_margin=equity - initial, portfolio_value=equity,
                           collateral_value=self.collateral, unrealized_funding=funding,
                           initial_margin_with_orders=initial)

    def as_positions(self) -> list[FuturesPosition]:
        return [FuturesPosition(id=pair, pair=pair, side=p.side, volume=p.size, entry_price=p.entry,
                                margin_mode=MarginMode.ISOLATED if p.leverage else MarginMode.CROSS,
                                leverage=p.leverage, unrealized_funding=p.unrealized_funding)
                for pair, p in self.positions.items()]

    def reduce(self, pair: str, size: Decimal, price: Decimal, fee_rate: Decimal) -> Decimal:
        """A reduce-only fill of up to `size` at `price`: the P&L and that share of the funding are realized into
        the collateral, less the fee on the fill's notional. Returns the size it closed (0: no position)."""
        p = self.positions.get(pair)
        if p is None or size <= 0:
            return ZERO
        closed = min(size, p.size)
        funding = p.unrealized_funding * closed / p.size
        self.collateral += pnl_at(p.side, closed, p.entry, price) + funding - fee_rate * price * closed
        if closed == p.size:
            del self.positions[pair]
        else:
            self.positions[pair] = replace(p, size=p.size - closed, unrealized_funding=p.unrealized_funding - funding)
        return closed

    def preview_leverage(self, pair: str, leverage: Decimal, marks: dict[str, Decimal],
                         contracts: dict[str, FuturesContract]) -> LeveragePreview:
        p = self.positions[pair]
        available = self.flex(marks, contracts).available_margin
        return preview_leverage_change(p.side, p.size, p.entry, marks[pair], p.allocated(), leverage, available,
                                       contracts[pair])

    def set_leverage(self, pair: str, leverage: Decimal | None, marks: dict[str, Decimal],
                     contracts: dict[str, FuturesContract]) -> LeveragePreview | None:
        """Apply unless refused; returns the preview it judged by (None when going back to cross)."""
        if pair not in self.positions:
            raise KeyError(pair)
        if leverage is None:
            self.positions[pair] = replace(self.positions[pair], leverage=None)
            return None
        preview = self.preview_leverage(pair, leverage, marks, contracts)
        if preview.allowed:
            self.positions[pair] = replace(self.positions[pair], leverage=leverage)
        return preview


def demo_futures_book(marks: dict[str, Decimal]) -> PaperFuturesBook:
    """The demo futures account on 10000 USD: a cross BTC long from 3 % below today's mark and an isolated ETH
    short at 5x from 2 % above it (both in profit, so the demo starts calm)."""
    btc, eth = marks["BTC/USD:USD"], marks["ETH/USD:USD"]
    whole = Decimal(1)
    return PaperFuturesBook(Decimal(10000), {
        "BTC/USD:USD": PaperFuturesPosition("BTC/USD:USD", Side.LONG, Decimal("0.1"),
                                            (btc * Decimal("0.97")).quantize(whole), unrealized_funding=Decimal("-0.42")),
        "ETH/USD:USD": PaperFuturesPosition("ETH/USD:USD", Side.SHORT, Decimal(2),
                                            (eth * Decimal("1.02")).quantize(whole), Decimal(5)),
    })
