"""Every sentence about an alert or position event, made from the record's numbers and reason code (UI and CLI)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from kraken_monitor.domain.models import Alert, Risk
from kraken_monitor.text.futures import futures_alert_message
from kraken_monitor.text.safety import safety_message

ACCOUNT_KEY = "account"  # the domain's key for the cross account (domain.alerts.ACCOUNT_KEY)
EVENT_WORDS = {
    "position_opened": "opened",
    "position_closed": "closed",
    "position_partially_closed": "partly closed",
    "position_settled": "settled",
    "position_liquidated": "LIQUIDATED",
}


# -- numbers (rounded for reading, never for calculation) -----------------------------------------


def fmt_number(value: Decimal, places: int) -> str:
    """Thousands separators and a fixed number of decimals: 61200 -> '61,200', 78.24, 1 -> '78.2'."""
    return f"{value:,.{places}f}"


def fmt_level(value: Decimal) -> str:
    """Thresholds read best without noise but never rounded away: 80 -> '80', 82.5 -> '82.5'."""
    text = f"{value:,.2f}".rstrip("0")
    return text.rstrip(".")


def fmt_price(value: Decimal, places: int | None = None) -> str:
    """The pair's own decimals below 1,000 when known, else by magnitude (BTC in whole dollars)."""
    size = abs(value)
    if places is None or size >= 1000:
        places = 0 if size >= 1000 else 2 if size >= 1 else 6
    return fmt_number(value, places)


def _time(value: datetime) -> str:
    return f"{value.astimezone():%H:%M:%S}"


def _dec(alert: Alert, name: str) -> Decimal | None:
    value = alert.fact(name)
    return value if isinstance(value, Decimal) else None


def _places(alert: Alert, name: str) -> int | None:
    value = alert.fact(name)
    return value if isinstance(value, int) else None


# -- the sentence -----------------------------------------------------------------------------------


def alert_message(alert: Alert) -> str:
    """The one-line explanation of why the alert fired (log, tray, `watch` lines)."""
    legacy = alert.fact("legacy_message")
    if isinstance(legacy, str) and legacy:
        return legacy  # a row journalled before alerts carried reason codes
    if alert.is_event:
        return event_message(alert)
    if alert.stale or alert.reason == "stale":
        reason = alert.fact("stale_reason") or "no reason given"
        if alert.fact("figures_unknown"):
            return f"risk unknown ({reason})"
        return f"data stale: risk unknown ({reason})"
    safety = safety_message(alert)
    if safety is not None:
        return safety
    futures = futures_alert_message(alert)
    if futures is not None:
        return futures
    if alert.reason == "isolated_distance":
        text = "Isolated " + _position_phrase(alert, "")
        if alert.margin_level is not None:
            text += f" (margin level {fmt_number(alert.margin_level, 1)}%)"
        return text + ("; no stop-loss" if alert.fact("unprotected") else "")
    if alert.key == ACCOUNT_KEY:
        return _account_message(alert)
    return alert.reason.replace("_", " ") or "alert"


def _position_phrase(alert: Alert, prefix: str) -> str:
    text = f"{alert.fact(prefix + 'pair')} {alert.fact(prefix + 'side')}"
    distance, price = _dec(alert, prefix + "distance"), _dec(alert, prefix + "liquidation_price")
    if distance is None or price is None:
        return text + " has no reachable liquidation price"
    shown = fmt_price(price, _places(alert, prefix + "price_places"))
    if distance <= 0:
        return f"{text} is past its liquidation price {shown}"
    return f"{text} is {fmt_number(distance, 1)}% from liquidation at {shown}"


def _margin_phrase(alert: Alert) -> str:
    level = alert.margin_level
    call, stop = _dec(alert, "margin_call_level"), _dec(alert, "liquidation_level")
    if level is None:
        return "No margin in use"
    shown = fmt_number(level, 1)
    call_text = "?" if call is None else fmt_level(call)
    reached = Risk(int(alert.fact("margin_risk", 0)))
    if reached is Risk.LIQUIDATION:
        return f"Margin level {shown}% is close to liquidation ({'?' if stop is None else fmt_level(stop)}%)"
    if reached is Risk.CRITICAL:
        return f"Margin level {shown}% is below the margin call ({call_text}%)"
    if reached is Risk.WARNING:
        return f"Margin level {shown}% is approaching the margin call ({call_text}%)"
    if reached is Risk.WATCH:
        watch = _dec(alert, "watch_level")
        return f"Margin level {shown}% is below the watch level {fmt_level(watch or Decimal(0))}% (margin call {call_text}%)"
    return f"Margin level {shown}% (margin call {call_text}%)"


def _account_message(alert: Alert) -> str:
    text = _margin_phrase(alert)
    first = f"{alert.fact('first_pair')} {alert.fact('first_side')}"
    if alert.reason == "below_liquidation_level":
        return text + f"; Kraken liquidates the oldest position first: {first}"
    if alert.fact("closest_pair") is not None:
        text += "; " + _position_phrase(alert, "closest_")
        if alert.level is Risk.LIQUIDATION and alert.fact("first_pair") and not alert.fact("first_is_closest"):
            text += f" (Kraken liquidates {first} first: oldest)"
    return text


def event_message(alert: Alert) -> str:
    """'BTC/USD long PAPER-00001 LIQUIDATED: 0.5 at 47,500, P&L -2,500.00 USD'."""
    word = EVENT_WORDS.get(alert.reason, alert.reason.removeprefix("position_").replace("_", " "))
    text = f"{alert.pair or '?'} {alert.fact('side') or ''} {alert.position_id or ''}".replace("  ", " ").strip()
    text += f" {word}"
    volume, price, pnl = _dec(alert, "volume"), _dec(alert, "price"), _dec(alert, "pnl")
    if volume is not None:
        text += f": {volume.normalize():f}"
        if price is not None:
            text += f" at {fmt_price(price, _places(alert, 'price_places'))}"
    if pnl is not None:
        text += f", P&L {fmt_number(pnl, 2)} {alert.fact('currency') or ''}".rstrip()
    if alert.reason == "position_liquidated":
        text += " (by Kraken)" if alert.fact("source") == "exchange" else ""
    closed_by = alert.fact("closed_by")
    if isinstance(closed_by, str) and closed_by:
        text += f" ({closed_by} filled)"
    return text


# -- popup, log and tray pieces ---------------------------------------------------------------------


def alert_headline(alert: Alert) -> str:
    """Short title: RISK UNKNOWN for stale data, else the level and what it concerns."""
    if alert.stale or alert.level == Risk.UNKNOWN:
        return "RISK UNKNOWN: data is stale"
    if alert.is_event:
        return f"{alert.pair or 'Position'} {EVENT_WORDS.get(alert.reason, 'event')}"
    if alert.is_futures and not alert.position_id:
        subject = f"{alert.fact('account') or 'Kraken Futures'} account"  # cross and isolated positions alike
    elif alert.key == ACCOUNT_KEY or not alert.position_id:
        # The cross account is at risk as a whole; it names the position to act on in the details.
        subject = "Cross-margin account"
    else:
        subject = f"{alert.pair} position"
    return f"{alert.level.name}: {subject}"


def alert_subject(alert: Alert) -> str:
    """The alert log's 'Position / pair' cell."""
    if alert.position_id is None:
        return "account"
    if alert.key == ACCOUNT_KEY:
        # An account alert names the position to act on; the alert itself is the account's.
        return f"account \u2192 {alert.pair or alert.position_id}"
    return f"{alert.pair or ''} {alert.position_id}".strip()


def level_word(alert: Alert) -> str:
    if alert.is_event:
        return "event"
    return "stale" if alert.stale else Risk(alert.level).label


def alert_details(alert: Alert) -> list[str]:
    """The lines a trader needs to decide: which position, margin level, distance to liquidation."""
    lines = []
    if alert.key == ACCOUNT_KEY and alert.position_id:
        lines.append(f"Act on: {alert.position_id} ({alert.pair}), the position nearest liquidation")
    elif alert.position_id:
        lines.append(f"Position: {alert.position_id} ({alert.pair})")
    elif alert.is_futures:
        lines.append(f"Account: {alert.fact('account') or 'Kraken Futures'} (flex)")
    else:
        lines.append("Account: all cross-margin positions")
    if not alert.is_event:
        lines.append(f"Margin level: {fmt_pct(alert.margin_level, 1)}")
        lines.append(f"Distance to liquidation: {fmt_pct(alert.distance_to_liquidation_pct, 2)}")
    if alert.stale:
        lines.append("The monitor cannot see current prices or balances. Check Kraken directly.")
    lines.append(alert_message(alert))
    fired = alert.fired_at.astimezone(timezone.utc) if alert.fired_at.tzinfo else alert.fired_at
    lines.append(f"Fired at {fired:%Y-%m-%d %H:%M:%S} UTC")
    return lines


def fmt_pct(value: Decimal | None, places: int) -> str:
    return "unknown" if value is None else f"{value:,.{places}f} %"


def alert_state(alert: Alert, now: datetime) -> str:
    """'', 'acknowledged 12:03:07', 'snoozed until 12:18:07 (warning and below)' or both."""
    parts = []
    if alert.snoozed_at(now):
        scope = "" if alert.stale or alert.is_event else f" ({Risk(alert.level).label} and below)"
        parts.append(f"snoozed until {_time(alert.snoozed_until)}{scope}")
    if alert.acknowledged_at is not None:
        parts.append(f"acknowledged {_time(alert.acknowledged_at)}")
    return "; ".join(parts)


def live_lines(margin_level: Decimal | None, distance: Decimal | None, as_of: datetime, risk: Risk,
               alert_level: Risk) -> list[str]:
    """The popup's 'now' block, refreshed on every snapshot; says "recovered" once the risk is below the alert's."""
    lines = [f"Now ({_time(as_of)}): margin level {fmt_pct(margin_level, 1)}, "
             f"distance to liquidation {fmt_pct(distance, 2)}"]
    if Risk.OK <= risk < alert_level:
        lines.append(f"Recovered: the risk is now {risk.label}, below {alert_level.label}.")
    return lines


def snooze_question(alert: Alert, minutes: int) -> str:
    length = f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"
    return (f"{alert_headline(alert)}\n\nThe position is close to being liquidated. Snoozing silences "
            f"LIQUIDATION alerts on it for {length}.\n\nSnooze anyway?")
