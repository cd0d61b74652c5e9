"""Frozen values of the delivery outbox: what a channel owes, how a try failed, and when a
delivery gives up. Standard library only, beside app.domain."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from app.domain import BaselineSummary, Event


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up (see attempts_allowed); counted and kept, never dropped


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """One alert owed to one channel: one event, or one summary (baseline, notice...)."""

    id: int
    poll_id: int
    channel: str
    attempts: int
    event: Event | None = None
    summary: BaselineSummary | None = None
    created_at: datetime | None = None  # when it was recorded (quiet hours hold it from then)


class DeliveryFailure(Exception):
    """A channel could not deliver. `permanent` errors need a person (bad token, unknown channel);
    the others (network, 5xx, rate limits) are retried on the next cycle or after retry_after."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        code: str | None = None,  # the channel's own error code (Slack's `error`), if any
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.code = code


TRANSIENT_ATTEMPTS_FACTOR = 100


def attempts_allowed(max_attempts: int, *, permanent: bool) -> int:
    """Failed attempts (of every kind, all counted) after which a delivery gives up as `failed`:
    DELIVERY_MAX_ATTEMPTS for a permanent failure, a hundred times that for a transient one
    (network, 5xx, 429), so an outage of Slack or the mail relay loses nothing unless it lasts
    days (one attempt per cycle: 1,000 attempts are about 3.5 days at 5-minute polls)."""
    return max_attempts if permanent else max_attempts * TRANSIENT_ATTEMPTS_FACTOR
