"""The paper / demo futures account: Kraken's flex arithmetic and leverage refusals on simulated money (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from kraken_monitor.domain.futures import FlexAccount, FuturesPosition
from kraken_monitor.domain.futures_liquidation import (
    ZERO,
    FuturesContract,
    LeveragePreview,
    pnl_at,
    preview_leverage_change,
)
from kraken_monitor.domain.futures_margin_mode import CrossPreview, preview_back_to_cross
from kraken_monitor.domain.models import MarginMode, Side

# The paper/demo futures cash wallet a transfer into flex draws on (Kraken's "cash" account), in USD.
PAPER_CASH = Decimal(5000)
STATE_VERSION = 1  # the saved paper futures account (storage/futures_paper_store.py)


class DamagedState(ValueError):
    """A saved paper futures account that cannot be read back (its reason, never a traceback)."""


class TransferRefused(ValueError):
    """Kraken Futures' answer to a transfer it will not make, in its own words (insufficientFunds, ...)."""


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
    cash: Decimal = PAPER_CASH  # the futures cash wallet (USD): transfers into flex come from here

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
                     contracts: dict[str, FuturesContract]) -> LeveragePreview | CrossPreview | None:
        """Apply unless refused; returns the preview it judged by (None: already cross, nothing to judge)."""
        if pair not in self.positions:
            raise KeyError(pair)
        if leverage is None:
            if self.positions[pair].leverage is None:
                return None  # already cross: Kraken accepts the PUT and nothing moves
            cross = self.preview_cross(pair, marks, contracts)
            if cross.allowed:
                self.positions[pair] = replace(self.positions[pair], leverage=None)
            return cross
        preview = self.preview_leverage(pair, leverage, marks, contracts)
        if preview.allowed:
            self.positions[pair] = replace(self.positions[pair], leverage=leverage)
        return preview

    def preview_cross(self, pair: str, marks: dict[str, Decimal],
                      contracts: dict[str, FuturesContract]) -> CrossPreview:
        """The same judgement the window previews (domain.futures_margin_mode), on the paper figures."""
        positions = self.as_positions()
        target = next(p for p in positions if p.pair == pair)
        return preview_back_to_cross(target, positions, marks, contracts, self.flex(marks, contracts))

    def to_state(self) -> dict:
        """JSON-able (Decimals as strings) and exact: `from_state(to_state())` is this book again."""
        return {"version": STATE_VERSION, "collateral": str(self.collateral), "cash": str(self.cash),
                "positions": [{"pair": p.pair, "side": p.side.value, "size": str(p.size), "entry": str(p.entry),
                               "leverage": None if p.leverage is None else str(p.leverage),
                               "unrealized_funding": str(p.unrealized_funding)} for p in self.positions.values()]}

    @classmethod
    def from_state(cls, state: Mapping) -> PaperFuturesBook:
        """Inverse of `to_state`; anything unreadable raises DamagedState with the reason."""
        try:
            if state.get("version") != STATE_VERSION:
                raise DamagedState(f"unknown version {state.get('version')!r}")
            positions = {}
            for row in state["positions"]:
                lev = row["leverage"]
                p = PaperFuturesPosition(str(row["pair"]), Side(row["side"]), _positive(row["size"]),
                                         _positive(row["entry"]), None if lev is None else _positive(lev),
                                         _finite(row["unrealized_funding"]))
                positions[p.pair] = p
            return cls(_finite(state["collateral"]), positions, _finite(state["cash"]))
        except DamagedState:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
            raise DamagedState(f"{type(exc).__name__}: {exc}") from None

    def transfer_to_flex(self, amount: Decimal) -> None:
        """Cash wallet -> flex collateral (USD), refused as Kraken refuses it: invalidAmount, insufficientFunds."""
        if not amount.is_finite() or amount <= 0:
            raise TransferRefused("invalidAmount")
        if amount > self.cash:
            raise TransferRefused("insufficientFunds")
        self.cash -= amount
        self.collateral += amount


def _finite(text: object) -> Decimal:
    value = Decimal(str(text))
    if not value.is_finite():
        raise DamagedState(f"not a finite amount: {text!r}")
    return value


def _positive(text: object) -> Decimal:
    value = _finite(text)
    if value <= 0:
        raise DamagedState(f"not a positive amount: {text!r}")
    return value


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
