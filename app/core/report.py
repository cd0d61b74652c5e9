"""PURE: the statistics of `flinkswatch report` (and the web page of issue 12): durations
folded from the history (time to ACTIVE, time in each status) and what is stuck now."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.core.ages import is_stuck, measured, stuck_limit
from app.domain import KNOWN_STATUSES, EventKind, Key, StoredRegistration

ACTIVE = KNOWN_STATUSES[-1]


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """The fields of one registration_events row that the statistics read."""

    event: str
    client_id: str
    provider_id: int
    provider_name: str
    from_status: str | None
    to_status: str | None
    observed_at: datetime
    requested_on: datetime
    previous_status_since: datetime | None = None

    @property
    def key(self) -> Key:
        return (self.client_id, self.provider_id)


@dataclass(frozen=True, slots=True)
class Summary:
    """count, median and 90th percentile of some durations (None when there are none)."""

    count: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True, slots=True)
class ProviderStats:
    provider_id: int
    provider_name: str
    registrations: int  # present now
    to_active: Summary
    in_status: Mapping[str, Summary]  # by status, sorted by name


@dataclass(frozen=True, slots=True)
class Stuck:
    state: StoredRegistration
    in_status: timedelta  # now - status_since; inexact: the waiting (app.core.ages.measured)
    allowed: timedelta  # its STUCK_AFTER; inexact: the sum rule


@dataclass(frozen=True, slots=True)
class Report:
    now: datetime
    providers: tuple[ProviderStats, ...]
    stuck: tuple[Stuck, ...]


def percentile(values: Sequence[timedelta], q: float) -> timedelta:
    """The q-quantile (0..1) with linear interpolation between closest ranks (numpy's default,
    `statistics.quantiles(method="inclusive")`): percentile(v, 0.5) is the median."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(values: Sequence[timedelta]) -> Summary:
    if not values:
        return Summary(0, None, None)
    return Summary(len(values), percentile(values, 0.5), percentile(values, 0.9))


@dataclass
class _Durations:
    name: str
    to_active: list[timedelta] = field(default_factory=list)
    in_status: dict[str, list[timedelta]] = field(default_factory=dict)


def provider_stats(
    history: Iterable[HistoryRow], present: Iterable[StoredRegistration]
) -> tuple[ProviderStats, ...]:
    """Per provider, sorted by its current name: present registrations, time to ACTIVE, time in
    each status (see _fold for what is measured). `history` is ordered by observed_at, then id."""
    counts: dict[int, tuple[str, int]] = {}
    for stored in present:
        reg = stored.registration
        counts[reg.provider_id] = (reg.provider_name, counts.get(reg.provider_id, ("", 0))[1] + 1)
    return stats_by_provider(history, counts)


def stats_by_provider(
    history: Iterable[HistoryRow], present: Mapping[int, tuple[str, int]]
) -> tuple[ProviderStats, ...]:
    """provider_stats from the present registrations counted: provider_id -> (its current
    name, how many are present)."""
    by_provider = _fold(history)
    for pid, (name, _count) in present.items():
        by_provider.setdefault(pid, _Durations("")).name = name
    stats = (
        ProviderStats(
            provider_id=pid,
            provider_name=d.name,
            registrations=present.get(pid, ("", 0))[1],
            to_active=summarise(d.to_active),
            in_status={s: summarise(v) for s, v in sorted(d.in_status.items())},
        )
        for pid, d in by_provider.items()
    )
    return tuple(sorted(stats, key=lambda p: (p.provider_name.casefold(), p.provider_id)))


def _fold(history: Iterable[HistoryRow]) -> dict[int, _Durations]:
    """The durations of each provider.

    - Time to ACTIVE: `requested_on` to the first status_changed into ACTIVE. A registration
      first seen already ACTIVE (baseline or added) has no observed activation: not counted.
    - Time in a status: each status_changed closes a stay in from_status that began at
      previous_status_since. A stay that began at the baseline sighting began before the watcher
      looked, at a time nobody knows: not counted. Removal does not end a stay in a status."""
    by_provider: dict[int, _Durations] = {}
    baseline_at: dict[Key, datetime] = {}
    activated: set[Key] = set()
    for row in history:
        durations = by_provider.setdefault(row.provider_id, _Durations(row.provider_name))
        durations.name = row.provider_name  # the latest name wins
        if row.event == EventKind.BASELINE:
            baseline_at[row.key] = row.observed_at
        if row.event in (EventKind.BASELINE, EventKind.ADDED) and row.to_status == ACTIVE:
            activated.add(row.key)
        if row.event != EventKind.STATUS_CHANGED:
            continue
        since = row.previous_status_since
        if since is not None and row.from_status and since != baseline_at.get(row.key):
            stays = durations.in_status.setdefault(row.from_status, [])
            stays.append(max(timedelta(0), row.observed_at - since))
        if row.to_status == ACTIVE and row.key not in activated:
            activated.add(row.key)
            durations.to_active.append(max(timedelta(0), row.observed_at - row.requested_on))
    return by_provider


def stuck_now(
    states: Iterable[StoredRegistration], now: datetime, stuck_after: Mapping[str, timedelta]
) -> tuple[Stuck, ...]:
    """Present registrations in a status of STUCK_AFTER for longer than it allows (SPEC 11:
    an inexact stay by its waiting and the sum rule, app.core.ages), longest first (then by
    recipient and provider name, so the order is stable)."""
    found = []
    for state in states:
        reg = state.registration
        allowed = stuck_limit(reg.registration_status, state.status_since_exact, stuck_after)
        if allowed is None or not state.present or not is_stuck(state, now, stuck_after):
            continue
        found.append(Stuck(state, measured(state, now), allowed))
    return tuple(
        sorted(
            found,
            key=lambda s: (
                -s.in_status,
                s.state.registration.client_name,
                s.state.registration.provider_name,
                s.state.key,
            ),
        )
    )


def build_report(
    history: Iterable[HistoryRow],
    states: Sequence[StoredRegistration],
    now: datetime,
    stuck_after: Mapping[str, timedelta],
) -> Report:
    present = [s for s in states if s.present]
    return Report(now, provider_stats(history, present), stuck_now(present, now, stuck_after))
