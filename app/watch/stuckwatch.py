"""Stuck reminders around a cycle (SPEC 9), for app.watch.poll: after a successful cycle is
recorded, the registrations due a reminder (app.core.stuck) become `stuck` events of that poll,
recorded with their deliveries in one transaction. A kill before that transaction leaves them
due, so the next cycle records them once; one after it never repeats them."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from app.core.expect import late_thresholds, outlooks
from app.core.report import ProviderStats
from app.core.routing import Filter, plan_deliveries
from app.core.stuck import Candidate, reminders_due
from app.domain import DeliveryPlan, Event, EventKind

log = logging.getLogger("app.poll")


class ReminderStore(Protocol):
    def stuck_candidates(
        self,
        now: datetime,
        stuck_after: Mapping[str, timedelta],
        repeat: timedelta,
        late: Mapping[int, timedelta] | None = None,
    ) -> list[Candidate]: ...
    def provider_stats(self, now: datetime) -> tuple[ProviderStats, ...]: ...
    def record_reminders(
        self, poll_id: int, events: Sequence[Event], plan: DeliveryPlan
    ) -> None: ...


@dataclass
class StuckWatch:
    store: ReminderStore
    stuck_after: Mapping[str, timedelta] = field(default_factory=dict)  # STUCK_AFTER; {}: off
    repeat: timedelta = timedelta(days=7)  # STUCK_REPEAT
    late_after: float | None = None  # LATE_AFTER as a quantile; None: no late reminders
    min_activations: int = 5  # EXPECT_MIN_ACTIVATIONS
    # The providers' curves move slowly and reminders come days apart: folding the whole
    # history once an hour, not every cycle, keeps the cycle as quick as it was.
    refresh: timedelta = timedelta(hours=1)
    _late: dict[int, tuple[timedelta, str]] = field(default_factory=dict)
    _late_at: datetime | None = None

    def late_limits(self, now: datetime) -> dict[int, tuple[timedelta, str]]:
        """provider_id -> (the waiting past which it is late, why), refreshed hourly."""
        if self.late_after is None:
            return {}
        if self._late_at is None or now - self._late_at >= self.refresh or now < self._late_at:
            found = outlooks(self.store.provider_stats(now), self.late_after, self.min_activations)
            self._late = {
                pid: (limit, found[pid].reason) for pid, limit in late_thresholds(found).items()
            }
            self._late_at = now
        return self._late

    def remind(
        self,
        poll_id: int,
        now: datetime,
        routes: Sequence[tuple[str, Filter]],
        alerted: Collection[EventKind],
    ) -> tuple[Event, ...]:
        """Record the reminders due now (reads and writes the database: may raise)."""
        late = self.late_limits(now)
        if not self.stuck_after and not late:
            return ()
        limits = {pid: limit for pid, (limit, _why) in late.items()}
        candidates = self.store.stuck_candidates(now, self.stuck_after, self.repeat, limits)
        due = reminders_due(candidates, now, self.stuck_after, self.repeat, late)
        if due:
            self.store.record_reminders(poll_id, due, plan_deliveries(due, routes, alerted))
            log.info(
                "poll.reminders count=%d longest_since=%s", len(due), due[0].previous_status_since
            )
        return tuple(due)
