"""Sentences of the futures margin-mode switch and the collateral transfer: refusals, previews, titles."""

from __future__ import annotations

from kraken_monitor.domain.futures_liquidation import Refusal
from kraken_monitor.domain.futures_margin_mode import CrossPreview, TransferPreview
from kraken_monitor.text.numbers import fmt_level, fmt_money

_CROSS_REFUSALS = {
    Refusal.WOULD_CAUSE_LIQUIDATION: (
        "Kraken refuses going back to cross: it would cause liquidation (error 41). The cross pool "
        "({pool}) would not cover the cross positions' maintenance margin ({maintenance})."),
    Refusal.INSUFFICIENT_MARGIN: (
        "Insufficient margin to go back to cross: in cross the position needs {initial} initial margin, "
        "the account would have {available} available after its {released} returns to the pool."),
}

CROSS_EXPLAINED = (
    "Cross margin: the position's allocated margin returns to the account's shared pool, it takes its tier's "
    "initial margin from the available margin, and it liquidates with the whole cross pool, not on its own.")

TRANSFER_INTRO = (
    "Cross positions share the flex account's margin: moving collateral from the futures cash wallet into the "
    "flex account raises the margin equity and the available margin of every cross position. Nothing is sent "
    "until you confirm; Kraken may refuse (insufficient funds in the cash wallet).")


def cross_refusal_message(preview: CrossPreview, currency: str = "USD") -> str | None:
    if preview.refusal is None:
        return None
    return _CROSS_REFUSALS[preview.refusal].format(
        pool=fmt_money(preview.cross_pool_after, currency),
        maintenance=fmt_money(preview.cross_maintenance_after, currency),
        initial=fmt_money(preview.cross_initial_margin, currency),
        available=fmt_money(preview.available_before + preview.released_margin - preview.cross_initial_margin,
                            currency),
        released=fmt_money(preview.released_margin, currency))


def margin_mode_title(pair: str) -> str:
    return f"Switch margin mode: {pair}"


def transfer_title(mode: str) -> str:
    return f"Transfer collateral into the flex account ({mode})"


def transfer_level_text(preview: TransferPreview) -> str:
    if preview.margin_level_after is None:
        return f"{fmt_level(preview.margin_level_before)} -> " + (
            "no positions" if preview.available_after is not None else "valued by Kraken (haircut)")
    return f"{fmt_level(preview.margin_level_before)} -> {fmt_level(preview.margin_level_after)}"


def transfer_available_text(preview: TransferPreview, currency: str = "USD") -> str:
    after = (fmt_money(preview.available_after, currency) if preview.available_after is not None
             else "valued by Kraken with its haircut")
    return f"{fmt_money(preview.available_before)} -> {after}"


def transfer_confirm_text(preview: TransferPreview) -> str:
    return (f"Move {fmt_money(preview.amount, preview.currency)} from the futures cash wallet into the flex "
            "account? Kraken answers under the futures account bar.")
