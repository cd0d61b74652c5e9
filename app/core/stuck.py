"""PURE: which stuck registrations get a reminder now (SPEC 9). A registration in a status of
STUCK_AFTER for longer than allowed gets one, then one every STUCK_REPEAT, until it moves or is
removed; the reminders are `stuck` events, longest-stuck first. A *late* one (SPEC 11: waiting
past its provider's LATE_AFTER percentile) is reminded the same way, after them, the reason in
the event (its `changes`: ("late", "", reason)). An acknowledged registration (app.core.ack,
SPEC 12) gets neither while its acknowledgement holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.ack import Acknowledgement, active
from app.core.report import stuck_now
from app.domain import ACTIVE, Event, EventKind, StoredRegistration


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored registration, when it was last reminded (None: never), and its latest
    acknowledgement (None: never taken)."""

    stored: StoredRegistration
    reminded_at: datetime | None = None
    acknowledgement: Acknowledgement | None = None


def reminders_due(
    candidates: Iterable[Candidate],
    now: datetime,
    stuck_after: Mapping[str, timedelta],
    repeat: timedelta,
    late: Mapping[int, tuple[timedelta, str]] | None = None,
) -> list[Event]:
    """The `stuck` events due at `now`: stuck ones longest-stuck first, then late ones longest
    waiting first. `late`: provider_id -> (the waiting past which it is late, the reason). A
    reminder from before the registration entered its current status does not count: that was
    another stay; nor does one later than `now` (the clock was ahead when it was sent)."""
    given = [c for c in candidates if not active(c.acknowledgement, c.stored, now)]
    last = {c.stored.key: c.reminded_at for c in given}
    late = late or {}
    stuck = [item.state for item in stuck_now([c.stored for c in given], now, stuck_after)]
    seen = {state.key for state in stuck}
    overdue = sorted(
        (c.stored for c in given if c.stored.key not in seen and _late(c.stored, now, late)),
        key=lambda s: (s.registration.requested_on, s.key),
    )
    due = []
    for state in (*stuck, *overdue):
        reminded = last.get(state.key)
        # A reminder "later than now" was recorded while the clock ran ahead: it suppresses
        # nothing, or a clock 30 days fast would silence the reminders for 30 days.
        if reminded is not None and state.status_since <= reminded <= now < reminded + repeat:
            continue
        why = late.get(state.registration.provider_id)
        reason = why[1] if why is not None and _late(state, now, late) else None
        due.append(_event(state, now, reason))
    return due


def _late(
    state: StoredRegistration, now: datetime, late: Mapping[int, tuple[timedelta, str]]
) -> bool:
    reg = state.registration
    limit = late.get(reg.provider_id)
    if limit is None or not state.present or reg.registration_status == ACTIVE:
        return False
    return now - reg.requested_on > limit[0]


def _event(state: StoredRegistration, now: datetime, reason: str | None) -> Event:
    return state.event(
        EventKind.STUCK,
        now,
        previous_status_since_exact=state.status_since_exact,
        changes=(("late", "", reason),) if reason else (),
    )
