"""Command line: `kraken-monitor` (GUI), `kraken-monitor snapshot`, `watch` and `history`.

Kept import-light on purpose: no PySide6 or ccxt at import, so `--version` and start-up are fast;
each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from kraken_monitor import __version__
from kraken_monitor.config import APP_PRICE_FEED, MODES, PRICE_FEEDS, MonitorConfig

SECRET_ENV = ("KRAKEN_API_KEY", "KRAKEN_API_SECRET", "KRAKEN_FUTURES_API_KEY", "KRAKEN_FUTURES_API_SECRET")
MAX_DURATION_S = 3650 * 86400.0  # ten years: anything longer is a typo, not a plan
MAX_INTERVAL_S = 3600.0  # a liquidation monitor polling less than hourly is not monitoring
MAX_SPEED = 10_000.0
# Kraken's public API sustains about one call per second per client (ccxt's own pacing for Kraken);
# price polls in live and paper mode are never scheduled faster, or every snapshot would read stale.
KRAKEN_PUBLIC_MIN_INTERVAL_S = 1.0


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit 2 (scripts and cron mails read it), not a usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"kraken-monitor: {' '.join(message.split())} (see --help)\n")


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    # Sub-commands repeat the global options with SUPPRESS defaults, so `--mode paper snapshot`
    # and `snapshot --mode paper` both work and neither overwrites the other with a default.
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--mode", choices=MODES, default=default, help="demo (default), paper or live")
    parser.add_argument("--db", type=Path, default=default, metavar="PATH", help="journal file (SQLite)")
    parser.add_argument("--api-url", type=_api_url, default=default, metavar="URL",
                        help="Kraken-protocol base URL: https://, or http:// to this machine only")
    parser.add_argument("--currency", type=_currency, default=default, metavar="CUR",
                        help="account currency: TradeBalance and every account figure in it (USD, EUR, BTC ...)")
    parser.add_argument("--prices", choices=PRICE_FEEDS, default=default,
                        help="stream (default: WebSocket pushes, REST polling while it is down) or poll")
    parser.add_argument("--ws-url", type=_ws_url, default=default, metavar="URL",
                        help="Kraken WebSocket v2 URL: wss://, or ws:// to this machine only")
    parser.add_argument("--futures-api-url", type=_api_url, default=default, metavar="URL",
                        help="Kraken Futures REST base URL beside the spot one (the window, watch --venue all)")
    parser.add_argument("--futures-ws-url", type=_ws_url, default=default, metavar="URL",
                        help="Kraken Futures WebSocket v1 URL: wss://, or ws:// to this machine only")
    parser.add_argument(
        "--demo-scenario", choices=("crash",), default=default,
        help="demo only: 'crash' halves BTC/USD over 3 simulated minutes (see every alert level)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="kraken-monitor", description="Watch Kraken margin positions and warn before liquidation."
    )
    parser.add_argument("--version", action="version", version=f"kraken-monitor {__version__}")
    _common(parser, suppress=False)
    parser.add_argument("--screenshot", type=Path, metavar="PNG", help="save a window screenshot and exit")
    parser.add_argument("--exit-after", type=_bounded(MAX_DURATION_S), metavar="SECONDS",
                        help="quit the GUI after this long")
    sub = parser.add_subparsers(dest="command")
    snap = sub.add_parser("snapshot", help="poll once and print the account and positions")
    _common(snap, suppress=True)
    snap.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    snap.add_argument("--venue", choices=("spot", "futures"), default="spot",
                      help="spot margin (default) or Kraken Futures (flex); futures live uses KRAKEN_FUTURES_API_KEY")
    watch = sub.add_parser("watch", help="poll continuously and print alerts as they fire")
    _common(watch, suppress=True)
    watch.add_argument("--interval", type=_bounded(MAX_INTERVAL_S), metavar="S", help="price poll interval, seconds")
    watch.add_argument("--duration", type=_bounded(MAX_DURATION_S), metavar="S", help="stop after this many seconds")
    watch.add_argument("--json", action="store_true", help="JSON lines")
    watch.add_argument("--speed", type=_bounded(MAX_SPEED), metavar="X", help="demo market speed (demo mode)")
    watch.add_argument("--venue", choices=("spot", "futures", "all"), default="spot",
                       help="spot margin (default), Kraken Futures, or both; every JSON line names its venue")
    watch.add_argument(
        "--notify", action="append", default=[], type=_notify_url, metavar="URL",
        help="also send critical/liquidation alerts, stale data and liquidations to this apprise URL "
             "(ntfy://, tgram://, mailto://, json://, ...); repeatable; for this run only",
    )  # fmt: skip
    hist = sub.add_parser("history", help="print closed, settled and liquidated positions from the journal")
    _common(hist, suppress=True)
    hist.add_argument("--since", type=_since, metavar="DATE",
                      help="only positions closed at or after DATE (2026-02-01 or 2026-02-01T14:00; local time)")
    shape = hist.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="one JSON list instead of a table")
    shape.add_argument("--csv", action="store_true", help="CSV with the fee split")
    replay = sub.add_parser("replay", help="print the account and positions as they were at a past moment")
    _common(replay, suppress=True)
    replay.add_argument("--at", type=_since, metavar="TIME", required=True,
                        help="the moment (2026-02-01T14:03:22, local time unless a zone is given)")
    replay.add_argument("--json", action="store_true", help="one JSON object, the shape of `snapshot --json`")
    return parser


def _notify_url(text: str) -> str:
    """An apprise URL it can parse; the error never repeats the URL (it holds a token)."""
    from kraken_monitor.notify.delivery import check_url
    from kraken_monitor.notify.secrets import remember

    remember(text.strip())
    reason = check_url(text)
    if reason:
        raise argparse.ArgumentTypeError(reason)
    return text.strip()


def _since(text: str):  # noqa: ANN202 - an argparse type
    """An ISO date or date-time; without a zone it is the machine's local time (what a trader means)."""
    from datetime import datetime

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (e.g. 2026-02-01 or 2026-02-01T14:00)") from None
    return value if value.tzinfo is not None else value.astimezone()


def _currency(text: str) -> str:
    """A currency code as Kraken lists assets (letters/digits, 2-10); common code kept (XBT -> BTC)."""
    from kraken_monitor.domain.fx import common_currency

    code = text.strip()
    if not (2 <= len(code) <= 10 and code.isascii() and code.isalnum()):
        raise argparse.ArgumentTypeError(f"not a currency code: {text!r} (e.g. USD, EUR, BTC)")
    return common_currency(code)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def _bounded(limit: float):  # noqa: ANN202 - an argparse type
    def parse(text: str) -> float:
        value = _positive(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"{text} is more than the largest accepted, {limit:g}")
        return value

    parse.__name__ = "number"  # argparse names the type in its message
    return parse


def _api_url(text: str) -> str:
    from kraken_monitor.exchange.urls import InvalidApiUrl, validate_api_url

    try:
        return validate_api_url(text)
    except InvalidApiUrl as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ws_url(text: str) -> str:
    from kraken_monitor.exchange.urls import InvalidApiUrl, validate_ws_url

    try:
        return validate_ws_url(text) or ""
    except InvalidApiUrl as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_config(args: argparse.Namespace, base: MonitorConfig | None = None) -> MonitorConfig:
    """Command-line options override `base` (the saved settings for the GUI, defaults otherwise)."""
    base = base or MonitorConfig()
    flags = {
        field: value
        for field, value in (
            ("mode", getattr(args, "mode", None)),
            ("db_path", getattr(args, "db", None)),
            ("api_url", getattr(args, "api_url", None)),
            ("demo_scenario", getattr(args, "demo_scenario", None)),
            ("collateral_currency", getattr(args, "currency", None)),
            ("futures_ws_url", getattr(args, "futures_ws_url", None)),
            ("futures_api_url", getattr(args, "futures_api_url", None)),
        )
        if value
    }
    # Flags hold for this run only: Settings never saves the fields they set (session_only).
    config = replace(base, **flags, session_only=base.session_only | frozenset(flags))
    # Prices stream unless `--prices poll` (issue 17). Settings never saves either field (settings_store's
    # _SESSION_ONLY), so only a flag actually given is marked session-only (and named in Settings).
    given = {f for f, value in (("prices", getattr(args, "prices", None)), ("ws_url", getattr(args, "ws_url", None)))
             if value}
    feed = {"prices": getattr(args, "prices", None) or APP_PRICE_FEED, "ws_url": getattr(args, "ws_url", None) or None}
    config = replace(config, **feed, session_only=config.session_only | frozenset(given))
    interval = getattr(args, "interval", None)
    if interval and config.mode in ("live", "paper") and interval < KRAKEN_PUBLIC_MIN_INTERVAL_S:
        sys.stderr.write(f"kraken-monitor: --interval {interval:g} s is faster than Kraken's public API "
                         f"sustains; polling prices every {KRAKEN_PUBLIC_MIN_INTERVAL_S:g} s instead.\n")
        interval = KRAKEN_PUBLIC_MIN_INTERVAL_S
    if interval:
        # Live private reads cost rate-limit points: never poll the account faster than the default.
        account = interval if config.mode.simulated else max(interval, config.account_interval_s)
        config = replace(
            config,
            price_interval_s=interval,
            account_interval_s=account,
            session_only=config.session_only | {"price_interval_s", "account_interval_s"},
        )
    speed = getattr(args, "speed", None)
    if speed:
        config = replace(config, demo_speed=speed, session_only=config.session_only | {"demo_speed"})
    return config


class _RedactSecrets(logging.Filter):
    """Belt and braces: the code never logs secrets, and this scrubs them if a library message does.

    It knows the environment's key/secret, every pair the keyring handed to this process and every
    notification URL (and its token-like parts) this process used.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from kraken_monitor.exchange.credentials import secrets_in_use
        from kraken_monitor.notify.secrets import secrets_in_use as notify_secrets

        env = (os.environ.get(k, "") for k in SECRET_ENV)
        secrets = {v for v in env if len(v) >= 8} | secrets_in_use() | notify_secrets()
        if secrets:
            text = record.getMessage()
            if any(secret in text for secret in secrets):
                for secret in sorted(secrets, key=len, reverse=True):  # a whole URL before its parts
                    text = text.replace(secret, "<redacted>")
                record.msg, record.args = text, None
        return True


def configure_logging() -> None:
    """Rotating log file in the data dir; a read-only or missing dir only loses the log, never the app."""
    from logging.handlers import RotatingFileHandler

    from kraken_monitor.paths import log_path

    root = logging.getLogger()
    if any(getattr(h, "_kraken_monitor", False) for h in root.handlers):
        return
    class PrivateRotatingFileHandler(RotatingFileHandler):
        """Log files are 0600 from the first byte (they name positions and balances), rotated ones too."""

        def _open(self):  # noqa: ANN202 - logging's signature
            fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.chmod(self.baseFilename, 0o600)  # a file created by an older version keeps its mode otherwise
            return open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115

    try:
        path = log_path()
        for old in path.parent.glob(path.name + ".*"):
            old.chmod(0o600)
        handler = PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        sys.stderr.write(f"kraken-monitor: logging disabled ({exc})\n")
        return
    handler._kraken_monitor = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.addFilter(_RedactSecrets())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # A full disk or a vanished log file loses log lines, never prints a traceback to the trader's terminal.
    logging.raiseExceptions = False
    # ccxt and urllib3 log request details at DEBUG (headers included): keep them out of the file.
    # apprise logs the URLs it posts to (tokens in them) at DEBUG/INFO, too.
    for noisy in ("ccxt", "urllib3", "requests", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    config = build_config(args)
    if not config.mode.simulated:
        # Before any key is loaded: a crash must not write the API secret into a core file.
        from kraken_monitor.exchange.process_guard import disable_core_dumps

        disable_core_dumps()
    log = logging.getLogger(__name__)
    log.info("kraken-monitor %s starting: %s mode", __version__, config.mode)
    try:
        code = _dispatch(args, config)
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:
        # Users get one line; the traceback goes to the log file only.
        log.error("fatal: %s: %s", type(exc).__name__, exc, exc_info=True)
        sys.stderr.write(f"kraken-monitor: {type(exc).__name__}: {exc} (details in the log file)\n")
        code = 2
    _exit_if_poll_thread_stuck(code)
    return code


def _exit_if_poll_thread_stuck(code: int) -> None:
    """A poll thread stuck past every deadline must not be torn down by Qt (abort + core): leave at once."""
    runner = sys.modules.get("kraken_monitor.worker.runner")
    if runner is None or not runner.abandoned_running():
        return
    logging.getLogger(__name__).error("exiting with the poll thread still busy")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code)


def _dispatch(args: argparse.Namespace, config: MonitorConfig) -> int:
    if args.command == "snapshot" and args.venue == "futures":
        from kraken_monitor.worker.futures_snapshot import run_futures_snapshot

        return run_futures_snapshot(config, as_json=args.json)
    if args.command == "snapshot":
        from kraken_monitor.worker.headless import run_snapshot

        return run_snapshot(config, as_json=args.json)
    if args.command == "watch" and args.venue == "futures":
        from kraken_monitor.worker.futures_watch import run_futures_watch

        return run_futures_watch(config, args.duration, args.json, sys.stdout, config.price_interval_s,
                                 notify_urls=tuple(args.notify))
    if args.command == "watch":
        from kraken_monitor.worker.headless import run_watch

        return run_watch(config, duration_s=args.duration, as_json=args.json, notify_urls=tuple(args.notify),
                         with_futures=args.venue == "all")
    if args.command == "history":
        from kraken_monitor.worker.history_command import run_history

        shape = "json" if args.json else "csv" if args.csv else "table"
        return run_history(config, since=args.since, fmt=shape)
    if args.command == "replay":
        from kraken_monitor.worker.replay_command import run_replay

        return run_replay(config, at=args.at, as_json=args.json)
    from kraken_monitor.ui.app import run_gui
    from kraken_monitor.ui.settings_store import load_config

    # The window runs on the trader's saved settings (thresholds, intervals, sound); flags win.
    config = build_config(args, base=load_config())
    refused = _refused_api_url(config.api_url)
    if refused:
        sys.stderr.write(f"kraken-monitor: saved setting refused: {refused}\n")
        return 2
    if not config.mode.simulated:
        from kraken_monitor.exchange.process_guard import disable_core_dumps

        disable_core_dumps()
    return run_gui(config, screenshot=args.screenshot, exit_after=args.exit_after)


def _refused_api_url(url: str | None) -> str:
    """Why a saved API URL is refused ('' when it is fine): checked before any connection is made."""
    from kraken_monitor.exchange.urls import InvalidApiUrl, validate_api_url

    try:
        validate_api_url(url)
    except InvalidApiUrl as exc:
        return str(exc)
    return ""


if __name__ == "__main__":
    sys.exit(main())
