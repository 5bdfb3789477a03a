"""The poll worker's handlers for what the trader asks: orders, alert acknowledge / snooze, journal writes."""

from __future__ import annotations

import logging

from kraken_monitor.domain.errors import DomainError
from kraken_monitor.exchange.errors import ExchangeError
from kraken_monitor.worker.requests import AlertRequest, JournalRequest, OrderRequest

log = logging.getLogger(__name__)


class RequestHandlers:
    """Mixed into worker/poll_worker.PollWorker, whose `handle` slot dispatches here; runs in its thread,
    results go out on its `action_finished` / `action_failed` / `alerts_*` signals."""

    def _action(self, request: OrderRequest) -> None:
        if self.poller is None:
            self.action_failed.emit(request, "Not connected to the exchange yet.")
            return
        try:
            result = request.apply(self.poller, self._now())
        except (ExchangeError, DomainError) as exc:
            self.action_failed.emit(request, error_message(exc))
            return
        except Exception as exc:
            log.error("action failed unexpectedly: %s: %s", type(exc).__name__, exc, exc_info=True)
            self.action_failed.emit(request, f"Unexpected error ({type(exc).__name__}); see the log file.")
            return
        self.action_finished.emit(request, result)
        # Show the effect at once instead of at the next account tick.
        self._account_backoff.succeeded()
        self._account_cycle()
        self._publish()

    def _record(self, request: JournalRequest) -> None:
        """Another account's alerts: journalled here (ids for acknowledge / snooze), then out like ours."""
        if self.poller is None:
            recorded = request.alerts  # not started yet: shown with id 0 rather than held back
        else:
            with self.activity.doing("the journal write"):
                recorded = request.apply(self.poller, self._now())
        if recorded:
            self.alerts_fired.emit(tuple(recorded))

    def _alert_call(self, request: AlertRequest) -> None:
        if self.poller is None:
            return
        try:
            changed = request.apply(self.poller, self._now())
        except DomainError as exc:  # e.g. an unconfirmed LIQUIDATION snooze: nothing changed
            self.action_failed.emit(request, error_message(exc))
            return
        except Exception as exc:
            log.error("%s alert %s failed: %s: %s", request.verb, getattr(request, "alert_id", "?"), type(exc).__name__, exc)
            self.action_failed.emit(request, f"Could not {request.verb} the alert: {error_message(exc)}")
            return
        if changed is not None:
            self.alerts_changed.emit((changed,))
        self.action_finished.emit(request, changed)


def error_message(exc: Exception) -> str:
    """What the trader is told about a failure: the typed error's message, or its class name when empty."""
    text = str(exc).strip()
    return text or type(exc).__name__
