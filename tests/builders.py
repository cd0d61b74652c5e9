"""One copy of the test helpers that build domain values with defaults, and one fake clock.

Builders take keyword overrides for any field, so a test names only what it is about. A test
file with its own time or naming keeps it by passing overrides (or binding them once).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain import Event, EventKind, Registration, StoredRegistration

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
"""The default observation time of every builder and the default start of FakeClock."""

REQUESTED = datetime(2024, 2, 29, 14, 24, 42, 605568, tzinfo=UTC)
"""The default `requested_on` of registration(): a leap day, with microseconds."""


class FakeClock:
    """A settable, advanceable UTC clock that moves only when told to.

    `clock()` reads it (pass the clock itself where a `Callable[[], datetime]` is wanted),
    `clock.now` is the current instant and may be set, `advance(minutes=5)` moves it on.
    `sleep(seconds)` records the wait and moves time on instantly (pass `clock.sleep`).
    `step` seconds pass at every reading, as if the work between two readings took time.
    `monotonic()` is the same reading as float seconds, for `Callable[[], float]` clocks.
    """

    def __init__(self, start: datetime = NOW, *, step: float = 0.0) -> None:
        if start.utcoffset() != timedelta(0):
            raise ValueError(f"FakeClock wants a UTC-aware start, got {start!r}")
        self.now = start
        self.step = timedelta(seconds=step)
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        if self.step:  # a plain reading writes nothing: safe to read from a server thread
            self.now += self.step
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move on by a timedelta given as keywords (seconds=, minutes=, ...); the new now."""
        self.now += timedelta(**delta)
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        return self().timestamp()


def registration(
    client: str = "dc-a", provider: int = 2000, status: str = "PENDING_APPROVAL", **overrides: Any
) -> Registration:
    """One upstream row: "Client {client}" at "Bank {provider}" in CA, requested on REQUESTED."""
    fields: dict[str, Any] = {
        "client_id": client,
        "client_name": f"Client {client}",
        "provider_id": provider,
        "provider_name": f"Bank {provider}",
        "country": "CA",
        "registration_status": status,
        "requested_on": REQUESTED,
    }
    return Registration(**(fields | overrides))


def stored(
    r: Registration,
    at: datetime = NOW,
    *,
    status_since: datetime | None = None,
    missing_polls: int = 0,
    present: bool = True,
    exact: bool = True,
) -> StoredRegistration:
    """The store's state of `r`: first seen at `at`, in its status since `at` unless given
    (`exact`: status_since_exact, SPEC 11)."""
    return StoredRegistration(r, at, status_since or at, missing_polls, present, exact)


def event(kind: EventKind = EventKind.STATUS_CHANGED, **overrides: Any) -> Event:
    """Alpha Lending (c-1) at NBC (12), CA, moving PENDING_APPROVAL -> PENDING_ACTIVATION, at NOW.

    Any field may be overridden, `event` (the kind) included."""
    if not isinstance(kind, EventKind):  # event("RBC") would quietly be an event of kind "RBC"
        raise TypeError(f"event() takes the kind first, got {kind!r}: name other fields")
    fields: dict[str, Any] = {
        "event": kind,
        "client_id": "c-1",
        "client_name": "Alpha Lending",
        "provider_id": 12,
        "provider_name": "NBC",
        "country": "CA",
        "from_status": "PENDING_APPROVAL",
        "to_status": "PENDING_ACTIVATION",
        "requested_on": NOW,
        "observed_at": NOW,
    }
    return Event(**(fields | overrides))


def event_for(kind: EventKind, r: Registration, at: datetime = NOW, **overrides: Any) -> Event:
    """The event `kind` about registration `r`, observed at `at`: its details, to_status its
    status, from_status None unless overridden."""
    fields: dict[str, Any] = {
        "client_id": r.client_id,
        "client_name": r.client_name,
        "provider_id": r.provider_id,
        "provider_name": r.provider_name,
        "country": r.country,
        "from_status": None,
        "to_status": r.registration_status,
        "requested_on": r.requested_on,
        "observed_at": at,
    }
    return event(kind, **(fields | overrides))
