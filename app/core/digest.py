"""PURE: the digest of SPEC 9, computed from plain values: what moved over a period (by kind, and
what went ACTIVE), what is pending now with ages, median time to ACTIVE per provider over the last
90 days, and the watcher's own record. Stored as JSON (`to_json`) so a retry sends the same text."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from app.core.report import ACTIVE, HistoryRow, provider_stats
from app.domain import BaselineSummary, Event, EventKind, StoredRegistration

FIRST_PERIOD = timedelta(days=7)  # the first digest, with no previous one, looks back a week
MEDIAN_WINDOW = timedelta(days=90)
ACTIVATED_CAP = 20  # registrations listed as gone ACTIVE; then "and N more"
PENDING_CAP = 15  # pending registrations listed, longest first; then "and N more"
MEDIANS_CAP = 20  # providers with a median; then "and N more"


@dataclass(frozen=True, slots=True)
class Line:
    """One registration in a list of the digest. `at`: when it went ACTIVE (activated) or
    entered its current status (pending)."""

    client_id: str
    client_name: str
    provider_id: int
    provider_name: str
    status: str
    at: datetime
    age: timedelta  # activated: requested_on -> ACTIVE; pending: its waiting at the end
    exact: bool = True  # pending: False when it entered its status before the watcher looked


@dataclass(frozen=True, slots=True)
class Median:
    provider_id: int
    provider_name: str
    count: int
    median: timedelta
    censored: int = 0  # still waiting (SPEC 11: they count in the estimate)


@dataclass(frozen=True, slots=True)
class BlindPeriod:
    """A watcher_blind announcement (not a reminder): since when, why, and when it ended."""

    since: datetime
    cause: str
    recovered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DigestContent:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive: the digest's own time
    zone: str  # ALERT_TIMEZONE when it was computed: dates people read are rendered in it
    moves: tuple[tuple[str, int], ...] = ()  # event kind -> count, in EventKind order
    activated: tuple[Line, ...] = ()
    activated_total: int = 0
    pending: tuple[Line, ...] = ()
    pending_total: int = 0
    medians: tuple[Median, ...] = ()
    medians_total: int = 0
    polls: int = 0
    failed_polls: int = 0
    blind: tuple[BlindPeriod, ...] = ()

    @property
    def quiet(self) -> bool:
        """Nothing recorded in the period: the digest says so (and still goes out)."""
        return not self.moves


@dataclass(frozen=True, slots=True)
class Digest(BaselineSummary):
    """A digest riding the outbox like a summary (delivery kind "digest"): one message per
    channel, its own message whatever else is pending."""

    digest_id: int
    content: DigestContent


@dataclass(frozen=True, slots=True)
class LastDigests:
    """What the digests recorded so far say about the next one (app.db.digests)."""

    period_end: datetime | None  # of the latest digest, scheduled or not: the next one's start
    fire_at: datetime | None  # the latest scheduled time a digest was recorded for
    first_poll_at: datetime | None  # the watcher's first poll: no digest is missed before it


@dataclass(frozen=True, slots=True)
class DigestInputs:
    """What the database gives the digest (app.db.digests)."""

    moves: Mapping[str, int]  # events of the period by kind
    activations: Sequence[Event]  # status_changed / reappeared into ACTIVE in the period
    pending: Sequence[StoredRegistration]  # present, not ACTIVE, now
    history: Sequence[HistoryRow]  # app.db.reports.report_history(since=end - 90 days)
    polls: int = 0
    failed_polls: int = 0
    blind: Sequence[BlindPeriod] = ()


def build_digest(inputs: DigestInputs, start: datetime, end: datetime, zone: str) -> DigestContent:
    """The digest of [start, end): lists sorted and capped (the totals say how many more)."""
    order = {kind.value: i for i, kind in enumerate(EventKind)}
    moves = tuple(
        sorted(((k, n) for k, n in inputs.moves.items() if n), key=lambda kv: order.get(kv[0], 99))
    )
    activated = sorted(
        (_activated(e) for e in inputs.activations if e.to_status == ACTIVE),
        key=lambda line: (line.at, line.provider_name.casefold(), line.client_name.casefold()),
    )
    pending = sorted(
        (_pending(s, end) for s in inputs.pending if s.present),
        key=lambda line: (-line.age, line.client_name.casefold(), line.provider_name.casefold()),
    )
    medians = [
        Median(
            p.provider_id,
            p.provider_name,
            p.to_active.count,
            p.to_active.median,
            p.to_active.censored,
        )
        for p in provider_stats(inputs.history, [], end, since=end - MEDIAN_WINDOW)
        if p.to_active.median is not None
    ]
    return DigestContent(
        start=start,
        end=end,
        zone=zone,
        moves=moves,
        activated=tuple(activated[:ACTIVATED_CAP]),
        activated_total=len(activated),
        pending=tuple(pending[:PENDING_CAP]),
        pending_total=len(pending),
        medians=tuple(medians[:MEDIANS_CAP]),
        medians_total=len(medians),
        polls=inputs.polls,
        failed_polls=inputs.failed_polls,
        blind=tuple(sorted(inputs.blind, key=lambda b: b.since)),
    )


def _activated(event: Event) -> Line:
    return Line(
        event.client_id,
        event.client_name,
        event.provider_id,
        event.provider_name,
        ACTIVE,
        event.observed_at,
        max(timedelta(0), event.observed_at - event.requested_on),
    )


def _pending(state: StoredRegistration, end: datetime) -> Line:
    reg = state.registration
    return Line(
        reg.client_id,
        reg.client_name,
        reg.provider_id,
        reg.provider_name,
        reg.registration_status,
        state.status_since,
        max(timedelta(0), end - reg.requested_on),  # waiting, true from day one (SPEC 11)
        state.status_since_exact,
    )


# ---- JSON: what the digests table keeps -------------------------------------------------------
def to_json(content: DigestContent) -> str:
    return json.dumps(asdict(content), default=_encode, sort_keys=True, ensure_ascii=False)


def from_json(text: str) -> DigestContent:
    raw = json.loads(text)
    return DigestContent(
        start=_time(raw["start"]),
        end=_time(raw["end"]),
        zone=raw["zone"],
        moves=tuple((k, int(n)) for k, n in raw["moves"]),
        activated=tuple(_line(x) for x in raw["activated"]),
        activated_total=raw["activated_total"],
        pending=tuple(_line(x) for x in raw["pending"]),
        pending_total=raw["pending_total"],
        medians=tuple(
            Median(
                m["provider_id"],
                m["provider_name"],
                m["count"],
                _span(m["median"]),
                m.get("censored", 0),
            )
            for m in raw["medians"]
        ),
        medians_total=raw["medians_total"],
        polls=raw["polls"],
        failed_polls=raw["failed_polls"],
        blind=tuple(
            BlindPeriod(_time(b["since"]), b["cause"], _time_or_none(b["recovered_at"]))
            for b in raw["blind"]
        ),
    )


def _encode(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _line(raw: dict[str, Any]) -> Line:
    return Line(
        raw["client_id"],
        raw["client_name"],
        raw["provider_id"],
        raw["provider_name"],
        raw["status"],
        _time(raw["at"]),
        _span(raw["age"]),
        raw.get("exact", True),
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _time_or_none(text: str | None) -> datetime | None:
    return None if text is None else _time(text)


def _span(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)
