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

from app.core.routing import Filter, plan_deliveries
from app.core.stuck import Candidate, reminders_due
from app.domain import DeliveryPlan, Event, EventKind

log = logging.getLogger("app.poll")


class ReminderStore(Protocol):
    def stuck_candidates(
        self, now: datetime, stuck_after: Mapping[str, timedelta], repeat: timedelta
    ) -> list[Candidate]: ...
    def record_reminders(
        self, poll_id: int, events: Sequence[Event], plan: DeliveryPlan
    ) -> None: ...


@dataclass
class StuckWatch:
    store: ReminderStore
    stuck_after: Mapping[str, timedelta] = field(default_factory=dict)  # STUCK_AFTER; {}: off
    repeat: timedelta = timedelta(days=7)  # STUCK_REPEAT

    def remind(
        self,
        poll_id: int,
        now: datetime,
        routes: Sequence[tuple[str, Filter]],
        alerted: Collection[EventKind],
    ) -> tuple[Event, ...]:
        """Record the reminders due now (reads and writes the database: may raise)."""
        if not self.stuck_after:
            return ()
        candidates = self.store.stuck_candidates(now, self.stuck_after, self.repeat)
        due = reminders_due(candidates, now, self.stuck_after, self.repeat)
        if due:
            self.store.record_reminders(poll_id, due, plan_deliveries(due, routes, alerted))
            log.info(
                "poll.reminders count=%d longest_since=%s", len(due), due[0].previous_status_since
            )
        return tuple(due)
