"""PURE: acknowledgements (SPEC 12). Someone took a registration: it gets no stuck or late
reminder until it moves, is removed, or the acknowledgement's `until` passes. An
acknowledgement is an `acknowledged` event; one whose `until` is its own time lifts the one before
(`flinkswatch ack --clear`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain import Event, EventKind, Key, StoredRegistration

SNOOZE = timedelta(days=7)  # the Slack button "Snooze 7 days"
MAX_NOTE = 500  # characters of a note kept
MAX_BY = 200


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The latest `acknowledged` event of a registration."""

    by: str
    at: datetime  # when it was taken (the event's observed_at)
    note: str | None = None
    until: datetime | None = None  # None: until the registration moves


class Outcome(enum.StrEnum):
    RECORDED = "recorded"
    TAKEN = "taken"  # this click was recorded before (a retry): nothing new
    MOVED = "moved"  # the registration moved since the alert: nothing recorded
    UNKNOWN = "unknown"  # no such registration: nothing recorded
    NOT_ACKNOWLEDGED = "not_acknowledged"  # --clear of nothing: nothing recorded


@dataclass(frozen=True, slots=True)
class Taken:
    """What an acknowledgement did, and the acknowledgement it is about (when there is one)."""

    outcome: Outcome
    acknowledgement: Acknowledgement | None = None
    state: StoredRegistration | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """Someone taking (or, with clear, lifting) a registration. `seen`: the status and time an
    alert showed it in (a click), to refuse one on a registration that moved since."""

    key: Key
    by: str
    note: str | None = None
    until: datetime | None = None
    clear: bool = False
    action_key: str | None = None
    seen: tuple[str, datetime] | None = None


def active(ack: Acknowledgement | None, state: StoredRegistration, now: datetime) -> bool:
    """True while the acknowledgement holds: taken in the current stay (at or after the status
    was entered), the registration still listed, and `until` not passed."""
    return holds(ack, state.status_since, state.present, now)


def holds(
    ack: Acknowledgement | None, status_since: datetime, present: bool, now: datetime
) -> bool:
    """active() from a registration's columns."""
    if ack is None or not present or ack.at < status_since:
        return False
    return ack.until is None or ack.until > now


def moved(state: StoredRegistration | None, status: str, seen_at: datetime) -> bool:
    """Has the registration moved since an alert showed it in `status` at `seen_at`? Gone,
    removed, in another status, or in the same one entered again after the alert."""
    if state is None or not state.present:
        return True
    return state.registration.registration_status != status or state.status_since > seen_at


def acknowledged(
    state: StoredRegistration,
    now: datetime,
    by: str,
    note: str | None = None,
    until: datetime | None = None,
) -> Event:
    """The `acknowledged` event of `by` taking `state` now (until == now: lifting it)."""
    return state.event(
        EventKind.ACKNOWLEDGED,
        now,
        by=_clip(by, MAX_BY) or "someone",
        note=_clip(note, MAX_NOTE),
        until=until,
    )


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    clean = " ".join(text.split())
    return clean[:limit] or None
