"""Frozen values shared by every layer: registrations, events, statuses. Standard library only."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Key = tuple[str, int]
"""A registration is identified by (client_id, provider_id); upstream has no registration id."""

KNOWN_STATUSES: tuple[str, ...] = ("PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE")
"""The documented lifecycle, in order. Any other value is kept verbatim and called unrecognised."""
PENDING_APPROVAL = KNOWN_STATUSES[0]  # where a request puts a registration (SPEC 11)
ACTIVE = KNOWN_STATUSES[-1]

DETAIL_FIELDS: tuple[str, ...] = ("client_name", "provider_name", "country", "requested_on")


class EventKind(enum.StrEnum):
    BASELINE = "baseline"
    ADDED = "added"
    STATUS_CHANGED = "status_changed"
    REMOVED = "removed"
    REAPPEARED = "reappeared"
    DETAILS_CHANGED = "details_changed"
    STUCK = "stuck"  # a reminder: still in a status of STUCK_AFTER for too long (SPEC 9)
    ACKNOWLEDGED = "acknowledged"  # someone took it (SPEC 12): `by`, `note`, `until`


# Not baseline (one summary per channel instead) nor details_changed and acknowledged (recorded
# only, unless ALERT_EVENTS names them).
ALERTED_BY_DEFAULT = frozenset(EventKind) - {
    EventKind.BASELINE,
    EventKind.DETAILS_CHANGED,
    EventKind.ACKNOWLEDGED,
}


class Direction(enum.StrEnum):
    """How a status change relates to the documented lifecycle."""

    FORWARD = "forward"
    BACKWARD = "backward"
    UNRECOGNISED = "unrecognised"


def direction(from_status: str | None, to_status: str | None) -> Direction:
    """Classify a move: forward/backward along KNOWN_STATUSES, else unrecognised."""
    if from_status in KNOWN_STATUSES and to_status in KNOWN_STATUSES:
        ahead = KNOWN_STATUSES.index(to_status) > KNOWN_STATUSES.index(from_status)
        return Direction.FORWARD if ahead else Direction.BACKWARD
    if to_status in KNOWN_STATUSES:
        # Leaving an unrecognised status (e.g. SUSPENDED -> ACTIVE) lands somewhere known.
        return Direction.FORWARD
    return Direction.UNRECOGNISED


@dataclass(frozen=True, slots=True)
class Registration:
    """One row of the upstream listing, validated."""

    client_id: str
    client_name: str
    provider_id: int
    provider_name: str
    country: str
    registration_status: str
    requested_on: datetime  # UTC-aware

    @property
    def key(self) -> Key:
        return (self.client_id, self.provider_id)


@dataclass(frozen=True, slots=True)
class StoredRegistration:
    """The current state of one registration as the store keeps it."""

    registration: Registration
    first_seen_at: datetime
    status_since: datetime
    missing_polls: int = 0  # consecutive complete answers without this row
    present: bool = True  # False once a removal was concluded
    # False: it entered its status at an unknown time between requested_on and status_since
    # (first seen in a status other than PENDING_APPROVAL, SPEC 11); the stay is "at least".
    status_since_exact: bool = True

    @property
    def key(self) -> Key:
        return self.registration.key

    def event(self, kind: EventKind, now: datetime, **extra: Any) -> Event:
        """An event about this registration as it stands (a reminder, an acknowledgement)."""
        reg = self.registration
        return Event(
            event=kind,
            client_id=reg.client_id,
            client_name=reg.client_name,
            provider_id=reg.provider_id,
            provider_name=reg.provider_name,
            country=reg.country,
            from_status=reg.registration_status,
            to_status=reg.registration_status,
            requested_on=reg.requested_on,
            observed_at=now,
            previous_status_since=self.status_since,
            **extra,
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the history. Field names are the columns of `registration_events`."""

    event: EventKind
    client_id: str
    client_name: str
    provider_id: int
    provider_name: str
    country: str
    from_status: str | None
    to_status: str | None
    requested_on: datetime
    observed_at: datetime
    # When the registration entered from_status: lets alerts say how long it sat there.
    previous_status_since: datetime | None = None
    # False: the previous stay began before the watcher looked, at previous_status_since at the
    # latest (SPEC 11): alerts say "after at least", never a made-up figure.
    previous_status_since_exact: bool = True
    # details_changed: field name -> (old, new), rendered as text.
    changes: tuple[tuple[str, str, str], ...] = field(default=())
    # acknowledged (SPEC 12): who took it, their note, and when it ends (None: when it moves).
    by: str | None = None
    note: str | None = None
    until: datetime | None = None

    @property
    def key(self) -> Key:
        return (self.client_id, self.provider_id)


@dataclass(frozen=True, slots=True)
class Answer:
    """One listing from upstream: the rows that validated, and whether any were skipped."""

    rows: tuple[Registration, ...]
    skipped: int = 0

    @property
    def complete(self) -> bool:
        return self.skipped == 0


LEADERSHIP_LOST = "leadership"  # failure_kind: stopped before writing, another may lead now
INTERRUPTED = "interrupted"  # failure_kind: cut short by shutdown while fetching, nothing written


class Outcome(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"
    DEGRADED = "degraded"


@dataclass(frozen=True, slots=True)
class CycleResult:
    """What one poll cycle did; logged, counted, and mapped to the exit status of `poll`."""

    outcome: Outcome
    rows: int = 0
    skipped: int = 0
    events: int = 0
    delivered: int = 0
    delivery_failures: int = 0
    error: str | None = None
    poll_id: int | None = None
    failure_kind: str | None = None  # flinks_auth, flinks_unavailable, database, ...
    kinds: tuple[tuple[str, int], ...] = ()  # events of this cycle by kind


class HoldState(enum.StrEnum):
    """The stored mass-shrink hold (SPEC 2), as the next cycle finds it (app.db.holds)."""

    NONE = "none"
    ACTIVE = "active"  # removals held, the operator alerted
    ACCEPTED = "accepted"  # lifted by `accept-removals`: removals proceed until answers are normal


@dataclass(frozen=True, slots=True)
class Guard:
    """What the mass-shrink guard (app.core.shrink) decided for one complete answer."""

    held: bool = False  # conclude no removal in this cycle
    opens: bool = False  # a new hold: record it and alert the operator once
    closes: bool = False  # the answer is back to normal: the stored hold ends
    present: int = 0  # present registrations before the answer
    listed: int = 0  # of those, how many the answer still lists


NO_GUARD = Guard()
"""No decision: a partial answer, or a cycle whose diff was skipped."""


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """The outbox rows one cycle's events call for, decided by app.core.routing."""

    summaries: tuple[str, ...] = ()  # channels that get the baseline summary
    everything: tuple[str, ...] = ()  # channels taking every event of `kinds`
    kinds: frozenset[EventKind] = frozenset()
    routed: tuple[tuple[str, tuple[int, ...]], ...] = ()  # channel -> indexes into the events
    held: tuple[str, ...] = ()  # channels told that removals are held (app.core.shrink)


@dataclass(frozen=True, slots=True)
class CycleRecord:
    """Everything one successful cycle writes, in one transaction (app.db.store)."""

    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    rows_seen: int
    rows_skipped: int
    changed: tuple[StoredRegistration, ...]
    events: tuple[Event, ...]
    deliveries: DeliveryPlan
    digest: str | None  # of a complete answer only: what the next identical answer may skip
    guard: Guard = NO_GUARD  # the mass-shrink hold to open or close with this cycle
    notices: tuple[NoticePlan, ...] = ()  # watcher notices this cycle calls for (SPEC 8)
    # The row index to store with the state (app.core.rowprints): None keeps the stored one, unless
    # drop_index (an answer read whole: its rows have no fingerprints).
    index: Mapping[Key, bytes] | None = None
    drop_index: bool = False


@dataclass(frozen=True, slots=True)
class BaselineSummary:
    """Stands for all baseline events of one poll: one message per channel, not one per row."""

    poll_id: int
    observed_at: datetime
    total: int
    by_status: tuple[tuple[str, int], ...]  # (status, count), sorted by status


@dataclass(frozen=True, slots=True)
class RemovalsHeld(BaselineSummary):
    """The one alert of a mass-shrink hold: rides the outbox as a summary of the poll that
    opened it (delivery kind "held"), so every channel renders it beside its own summaries."""

    present: int = 0  # registrations present before the answer
    listed: int = 0  # of those, how many the answer listed


class NoticeKind(enum.StrEnum):
    """The watcher's own alerts (SPEC 8): the delivery kind they ride the outbox as."""

    WATCHER_BLIND = "watcher_blind"
    WATCHER_RECOVERED = "watcher_recovered"
    CHANNEL_FAILING = "channel_failing"
    CHANNEL_RECOVERED = "channel_recovered"


@dataclass(frozen=True, slots=True)
class WatcherNotice(BaselineSummary):
    """An alert about the watcher itself (SPEC 8), decided by app.core.blind; rides the outbox
    like a summary, to every channel (a channel notice: to every other)."""

    kind: NoticeKind = NoticeKind.WATCHER_BLIND
    since: datetime | None = None  # the first failed cycle (blind), or the first failed delivery
    cause: str = ""  # a failure_kind of the cycle (blind), "permanent"/"failing" (channels)
    last_error: str = ""
    failures: int = 0  # consecutive failed cycles
    count: int = 0  # recovered: changes found on return; channel notices: alerts waiting
    channel: str | None = None  # the channel a channel notice is about
    repeat: bool = False  # a reminder: still blind (BLIND_REPEAT)


@dataclass(frozen=True, slots=True)
class NoticePlan:
    """A watcher notice to record, and the channels that owe it (app.db.notices)."""

    notice: WatcherNotice
    channels: tuple[str, ...]  # owed it: pending deliveries
    sent: tuple[str, ...] = ()  # told already, directly, while the database was down


class Interrupted(Exception):
    """Raised by an injected wait when the cycle must stop now (shutdown, lost leadership).
    Whatever was not sent yet stays pending, untouched, for the next cycle or instance."""
