"""PURE: the statistics of `flinkswatch report` (and the web page, the digest): Kaplan-Meier
estimates per provider of the time to ACTIVE and in each status, from the history
(app.core.lifetimes, app.core.survival), and what is stuck now."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.ages import is_stuck, measured, stuck_limit
from app.core.lifetimes import Lifetimes, collector_paused, fold
from app.core.survival import EMPTY, Curve, kaplan_meier
from app.domain import ACTIVE, Key, StoredRegistration

__all__ = ["ACTIVE", "HistoryRow", "ProviderStats", "Report", "Stuck", "Summary"]


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
    """A Kaplan-Meier estimate's figures (SPEC 11): `count` events observed (activations, or
    stays that ended), `censored` still going (or removed); median and 90th percentile, None
    where the curve never falls to 0.5 (0.1)."""

    count: int
    median: timedelta | None
    p90: timedelta | None
    censored: int = 0


@dataclass(frozen=True, slots=True)
class ProviderStats:
    provider_id: int
    provider_name: str
    registrations: int  # present now
    to_active: Summary
    in_status: Mapping[str, Summary]  # by status, sorted by name
    curve: Curve = EMPTY  # time to ACTIVE, for expected and late (app.core.expect)


@dataclass(frozen=True, slots=True)
class Stuck:
    state: StoredRegistration
    in_status: timedelta  # now - status_since; inexact: the waiting (app.core.ages.measured)
    allowed: timedelta  # its STUCK_AFTER; inexact: the sum rule
    now: datetime  # when it was found stuck


@dataclass(frozen=True, slots=True)
class Report:
    now: datetime
    providers: tuple[ProviderStats, ...]
    stuck: tuple[Stuck, ...]


def summarise(curve: Curve) -> Summary:
    """The figures of a Kaplan-Meier curve (SPEC 11): events, censored, median and p90."""
    return Summary(
        curve.events,
        _delta(curve.quantile(0.5)),
        _delta(curve.quantile(0.9)),
        curve.censored,
    )


def _delta(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def provider_stats(
    history: Iterable[HistoryRow],
    present: Iterable[StoredRegistration],
    now: datetime,
    since: datetime | None = None,
) -> tuple[ProviderStats, ...]:
    """Per provider, sorted by its current name: present registrations, time to ACTIVE, time in
    each status (app.core.lifetimes says what is measured). `history` is ordered by
    observed_at, then id; `since` keeps what ended from then on (the digest's window)."""
    counts: dict[int, tuple[str, int]] = {}
    for stored in present:
        reg = stored.registration
        counts[reg.provider_id] = (reg.provider_name, counts.get(reg.provider_id, ("", 0))[1] + 1)
    return stats_by_provider(history, counts, now, since)


def stats_by_provider(
    history: Iterable[HistoryRow],
    present: Mapping[int, tuple[str, int]],
    now: datetime,
    since: datetime | None = None,
) -> tuple[ProviderStats, ...]:
    """provider_stats from the present registrations counted: provider_id -> (its current
    name, how many are present)."""
    with collector_paused():
        return _stats(fold(history, now, since), present)


def _stats(
    by_provider: dict[int, Lifetimes], present: Mapping[int, tuple[str, int]]
) -> tuple[ProviderStats, ...]:
    for pid, (name, _count) in present.items():
        by_provider.setdefault(pid, Lifetimes("")).name = name
    stats = []
    for pid, found in by_provider.items():
        curve = kaplan_meier(found.to_active)
        stats.append(
            ProviderStats(
                provider_id=pid,
                provider_name=found.name,
                registrations=present.get(pid, ("", 0))[1],
                to_active=summarise(curve),
                in_status={
                    s: summarise(kaplan_meier(v)) for s, v in sorted(found.in_status.items())
                },
                curve=curve,
            )
        )
    return tuple(sorted(stats, key=lambda p: (p.provider_name.casefold(), p.provider_id)))


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
        found.append(Stuck(state, measured(state, now), allowed, now))
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
    stats = provider_stats(history, present, now)
    return Report(now, stats, stuck_now(present, now, stuck_after))
