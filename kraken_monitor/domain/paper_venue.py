"""What Kraken does to a paper account on its own as time and prices move: rollovers, liquidations, margin call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from kraken_monitor.domain import costs, margin
from kraken_monitor.domain.costs import ROLLOVER_PERIOD
from kraken_monitor.domain.models import MarginMode, PairRules, Side
from kraken_monitor.domain.paper_booking import Prices, Rules, convert, swap_position

if TYPE_CHECKING:
    from kraken_monitor.domain.paper_account import PaperAccount


class VenueMoves:
    """Mixed into domain/paper_account.PaperAccount (frozen): each move returns a new account, events logged."""

    def charge_rollovers(self, now: datetime, prices: Prices = None, rules: Rules = None) -> PaperAccount:
        """Charge every rollover due up to `now` (terms rate x cost each 4 h), advancing `next_rollover`.

        Charged in the quote currency, converted at `prices` into the account currency.
        """
        account = self
        for p in self.positions:
            due = 0
            next_at = p.next_rollover or p.opened_at + ROLLOVER_PERIOD
            while next_at <= now:
                due += 1
                next_at += ROLLOVER_PERIOD
            if not due:
                continue
            charge = (p.cost * costs.rollover_rate(p)).quantize(self._quantum(p.pair, rules)) * due
            if not charge:
                account = replace(account, positions=swap_position(account.positions, p, replace(p, next_rollover=next_at)))
                continue
            charge = convert(charge, self._rate(p.pair, prices, rules))
            account = replace(
                account, balance=account.balance - charge,
                positions=swap_position(account.positions, p, replace(p, next_rollover=next_at)),
            )
            account = account._log("rollover", now, f"Rollover x{due} on {p.pair}: {charge} {self.currency}", p, -charge)
        return account

    def apply_until(self, now: datetime, prices: Mapping[str, Decimal], rules: Mapping[str, PairRules]) -> PaperAccount:
        """What the venue would have done by `now`: rollovers, isolated and cross liquidations, margin call."""
        account = self.charge_rollovers(now, prices, rules)
        for p in account.positions:
            price = prices.get(p.pair)
            if p.margin_mode is not MarginMode.ISOLATED or price is None:
                continue
            rate = rules[p.pair].maintenance_rate if p.pair in rules else PairRules.maintenance_rate
            liq = margin.isolated_liquidation_price(p, rate)
            if liq is not None and ((price <= liq) if p.side is Side.LONG else (price >= liq)):
                # The allocated margin is gone; the cross balance is untouched.
                lost = convert(p.allocated_margin or Decimal(0), self._rate(p.pair, prices, rules))
                account = replace(account, positions=tuple(q for q in account.positions if q.id != p.id))
                account = account._log(
                    "isolated_liquidation", now, f"Isolated {p.pair} liquidated at {price}: lost {lost}", p, -lost,
                    price=price, fee=Decimal(0),  # the allocation is lost; no closing trade fee is charged
                )
        return account._liquidate_cross(now, prices, rules)

    def _liquidate_cross(self, now: datetime, prices: Mapping[str, Decimal], rules: Mapping[str, PairRules]) -> PaperAccount:
        account = self
        while True:
            cross = account.cross_positions()
            if not cross or any(p.pair not in prices for p in cross):
                return account  # cannot judge without a price for every position
            figures = margin.account_figures(account.trade_balance(), cross, prices, rules)
            if figures.unknown_reason:
                return account  # an FX rate is missing: cannot judge, so nothing is liquidated
            level, call_level, stop_level = figures.margin_level, figures.margin_call_level, figures.liquidation_level
            if level is not None and level <= stop_level:
                # Kraken liquidates the OLDEST position first, regardless of pair or profit (FIFO).
                order = margin.liquidation_order(cross)
                oldest = next(p for p in cross if order[p.id] == 1)
                price = prices[oldest.pair]
                rate = account._rate(oldest.pair, prices, rules)
                fee_quote = (oldest.remaining_volume * price * account.fee_rate).quantize(
                    account._quantum(oldest.pair, rules))
                fee = convert(fee_quote, rate)
                account, pnl = account._reduce(oldest, oldest.remaining_volume, price, rate, rules)
                account = replace(account, balance=account.balance - fee)
                account = account._log(
                    "liquidation", now,
                    f"Margin level {level:.2f}% <= {stop_level}%: liquidated {oldest.pair} at {price}",
                    oldest, pnl - fee, price=price, fee=fee_quote,
                )
                continue
            in_call = level is not None and level <= call_level
            if in_call and not account.margin_call_active:
                account = replace(account, margin_call_active=True)
                return account._log("margin_call", now, f"Margin call: margin level {level:.2f}%", None, Decimal(0))
            if not in_call and account.margin_call_active:
                return replace(account, margin_call_active=False)
            return account
