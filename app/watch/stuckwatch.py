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

from app.core.latelimits import REFRESH, LateLimits, fold_limits, still_stands
from app.core.report import ProviderStats
from app.core.routing import Filter, plan_deliveries
from app.core.stuck import Candidate, reminders_due
from app.domain import DeliveryPlan, Event, EventKind
from app.errors import DatabaseError

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
    def kept_late_limits(self) -> LateLimits | None: ...
    def keep_late_limits(self, kept: LateLimits) -> None: ...
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
    # history once an hour, not every cycle, keeps the cycle as quick as it was. The fold is
    # kept in the database too, so a cron `poll` (a process per cycle) reuses it the same way.
    refresh: timedelta = REFRESH
    _kept: LateLimits | None = None

    def late_limits(self, now: datetime) -> dict[int, tuple[timedelta, str]]:
        """provider_id -> (the waiting past which it is late, why): in memory, else as kept in
        the database, while they stand (app.core.latelimits); else folded and kept anew."""
        if self.late_after is None:
            return {}
        settings = (self.late_after, self.min_activations, self.refresh)
        if self._kept is None or not still_stands(self._kept, now, *settings):
            kept = self.store.kept_late_limits()
            if kept is not None and still_stands(kept, now, *settings):
                log.info("poll.late_limits source=kept computed_at=%s", kept.computed_at)
            else:
                kept = self._fold(now, self.late_after)
            self._kept = kept
        return dict(self._kept.limits)

    def _fold(self, now: datetime, late_after: float) -> LateLimits:
        stats = self.store.provider_stats(now)
        kept = fold_limits(stats, late_after, self.min_activations, now)
        try:
            self.store.keep_late_limits(kept)
        except DatabaseError as exc:  # a cache: the next process folds again
            log.warning("poll.late_limits_not_kept error=%s", exc)
        log.info("poll.late_limits source=folded providers=%d", len(kept.limits))
        return kept

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
