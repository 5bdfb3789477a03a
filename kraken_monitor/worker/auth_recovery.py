"""The poll worker's authentication failure and recovery: stop polling, say so, reconnect with a new exchange."""

from __future__ import annotations

import logging
import time
from typing import Any

from kraken_monitor.exchange.errors import AuthFailed

log = logging.getLogger(__name__)


class AuthRecovery:
    """Mixed into worker/poll_worker.PollWorker; runs in its thread. The `reconnect` slot itself stays declared
    on PollWorker (see PollWorker._on_started: PySide6 and slots declared outside the QObject class)."""

    def _on_auth_failed(self, message: str) -> None:
        """Not retryable: stop polling (a key storm could lock the account) and tell the user."""
        self._auth_failed = True
        for timer in (self._price_timer, self._account_timer):
            if timer is not None:
                timer.stop()
        if self.poller is not None:
            self.poller.last_error = message
            self.poller.connection = "auth failed"
        self._set_status(f"authentication failed: {message}")
        self.auth_failed.emit(message)
        self._publish()

    def _reconnect(self) -> None:
        """After an auth failure (the trader fixed the key, or it was a one-off): new exchange, timers on, poll."""
        if not self._auth_failed or self._stopped:
            return
        self._auth_failed = False
        self._price_backoff.succeeded()
        self._account_backoff.succeeded()
        self._set_status("reconnecting")
        if self.poller is None:
            self.start()  # the exchange was never created (auth failed at start)
            return
        try:
            self.poller.exchange.close()
            with self.activity.doing("the exchange connection to start"):
                self.poller.exchange = self.exchange_factory(self.config, self._paper_state())
        except AuthFailed as exc:
            self._on_auth_failed(str(exc))
            return
        except Exception as exc:
            log.error("reconnect failed: %s: %s", type(exc).__name__, exc)
            self._failed(self._account_backoff, time.monotonic(), exc)
        self.poller.connection = "starting"
        for timer in (self._price_timer, self._account_timer):
            if timer is not None:
                timer.start()
        self._account_cycle()
        self._price_cycle()
        self._publish()

    def _paper_state(self) -> Any:
        export = getattr(self.poller.exchange, "export_state", None) if self.poller else None
        return export() if export is not None else None

