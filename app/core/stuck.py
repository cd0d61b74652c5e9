"""PURE: which stuck registrations get a reminder now (SPEC 9). A registration in a status of
STUCK_AFTER for longer than allowed gets one, then one every STUCK_REPEAT, until it moves or is
removed; the reminders are `stuck` events, longest-stuck first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.report import stuck_now
from app.domain import Event, EventKind, StoredRegistration


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored registration and when it was last reminded (None: never)."""

    stored: StoredRegistration
    reminded_at: datetime | None = None


def reminders_due(
    candidates: Iterable[Candidate],
    now: datetime,
    stuck_after: Mapping[str, timedelta],
    repeat: timedelta,
) -> list[Event]:
    """The `stuck` events due at `now`, longest-stuck first. A reminder from before the
    registration entered its current status does not count: that was another stay."""
    given = list(candidates)
    last = {c.stored.key: c.reminded_at for c in given}
    due = []
    stuck = stuck_now([c.stored for c in given], now, stuck_after)
    for item in stuck:
        reminded = last.get(item.state.key)
        if reminded is not None and reminded >= item.state.status_since and now - reminded < repeat:
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
        previous_status_since_exact=state.status_since_exact,
    )
