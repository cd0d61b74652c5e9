"""PURE: which stuck registrations get a reminder now (SPEC 9). A registration in a status of
STUCK_AFTER for longer than allowed gets one, then one every STUCK_REPEAT, until it moves or is
removed; the reminders are `stuck` events, longest-stuck first. An acknowledged registration
(app.core.ack, SPEC 12) gets none while its acknowledgement holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.ack import Acknowledgement, active
from app.core.report import stuck_now
from app.domain import Event, EventKind, StoredRegistration


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
) -> list[Event]:
    """The `stuck` events due at `now`, longest-stuck first. A reminder from before the
    registration entered its current status does not count: that was another stay; nor does
    one later than `now` (the clock was ahead when it was sent)."""
    given = [c for c in candidates if not active(c.acknowledgement, c.stored, now)]
    last = {c.stored.key: c.reminded_at for c in given}
    due = []
    stuck = stuck_now([c.stored for c in given], now, stuck_after)
    for item in stuck:
        reminded = last.get(item.state.key)
        # A reminder "later than now" was recorded while the clock ran ahead: it suppresses
        # nothing, or a clock 30 days fast would silence the reminders for 30 days.
        if reminded is not None and item.state.status_since <= reminded <= now < reminded + repeat:
            continue
        due.append(_event(item.state, now))
    return due


def _event(state: StoredRegistration, now: datetime) -> Event:
    reg = state.registration
    return Event(
        event=EventKind.STUCK,
        client_id=reg.client_id,
        client_name=reg.client_name,
        provider_id=reg.provider_id,
        provider_name=reg.provider_name,
        country=reg.country,
        from_status=reg.registration_status,
        to_status=reg.registration_status,
        requested_on=reg.requested_on,
        observed_at=now,
        previous_status_since=state.status_since,
    )
