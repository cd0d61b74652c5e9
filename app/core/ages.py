"""PURE: the ages of SPEC 11, true from the first poll. Waiting runs from requested_on; time in
status is exact where the stay's start is known, "at least" where the watcher first saw the
registration already past PENDING_APPROVAL; stuck uses the sum rule for those."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from app.domain import ACTIVE, KNOWN_STATUSES, StoredRegistration


def waiting(requested_on: datetime, status: str, now: datetime) -> timedelta | None:
    """now - requested_on for a registration not ACTIVE (0 for a request in the future);
    None once ACTIVE."""
    if status == ACTIVE:
        return None
    return max(timedelta(0), now - requested_on)


def stuck_limit(status: str, exact: bool, stuck_after: Mapping[str, timedelta]) -> timedelta | None:
    """What a stay may last before it is stuck; None: never stuck in this status. An exact
    stay is held to its status' STUCK_AFTER. An inexact one is measured by its waiting, held to
    the sum of the STUCK_AFTER of its status and of every status before it in the lifecycle
    (PENDING_ACTIVATION with the defaults: 7d + 14d)."""
    own = stuck_after.get(status)
    if own is None or exact or status not in KNOWN_STATUSES:
        return own
    before = KNOWN_STATUSES[: KNOWN_STATUSES.index(status)]
    return own + sum((stuck_after.get(s, timedelta(0)) for s in before), timedelta(0))


def is_stuck(
    state: StoredRegistration, now: datetime, stuck_after: Mapping[str, timedelta]
) -> bool:
    """SPEC 11's stuck: a present registration past its limit (see stuck_limit)."""
    reg = state.registration
    limit = stuck_limit(reg.registration_status, state.status_since_exact, stuck_after)
    if limit is None or not state.present:
        return False
    return measured(state, now) > limit


def measured(state: StoredRegistration, now: datetime) -> timedelta:
    """What stuck_limit is compared with: the time in status where it is exact, else the
    waiting (what is known for sure of an inexact stay)."""
    start = state.status_since if state.status_since_exact else state.registration.requested_on
    return max(timedelta(0), now - start)


def status_fields(
    row: Mapping[str, object], now: datetime, stuck_after: Mapping[str, timedelta]
) -> dict[str, object]:
    """The fields SPEC 11 adds to a row of `flinkswatch status` (one with the registration's
    columns, status_since_exact and present): waiting_seconds (None once ACTIVE) and stuck,
    by the rules of waiting() and is_stuck() without building the values (100,000 rows)."""
    status, requested = str(row["registration_status"]), _as_time(row["requested_on"])
    exact = bool(row["status_since_exact"])
    waited = waiting(requested, status, now)
    limit = stuck_limit(status, exact, stuck_after)
    stuck = False
    if limit is not None and row["present"]:
        start = _as_time(row["status_since"]) if exact else requested
        stuck = now - start > limit
    return {
        "waiting_seconds": None if waited is None else int(waited.total_seconds()),
        "stuck": stuck,
    }


def _as_time(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return value


def in_status_phrase(since: datetime, exact: bool, now: datetime) -> str:
    """Time in status as people read it: "3 days", or "at least 3 days" for an inexact stay
    (or "since before 2026-12-01" while that says less than a minute)."""
    age = now - since
    text = duration_words(age)
    if exact:
        return text
    if age < timedelta(minutes=1):
        return f"since before {since:%Y-%m-%d}"
    return f"at least {text}"


def duration_words(delta: timedelta) -> str:
    """ "52 days", "3 hours", "1 minute", "less than a minute" (days from two on)."""
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size * (2 if unit == "day" else 1):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"
