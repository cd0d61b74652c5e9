"""PURE: the late limits of the reminders (SPEC 11) kept between cycles: each provider's waiting
past which a registration is late, and why, with when and under which settings they were
folded. The curves move slowly and reminders come days apart, so a fold stands for an hour:
the running service keeps it in memory, a cron `poll` (a process per cycle) reads it back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.expect import late_thresholds, outlooks
from app.core.report import ProviderStats

REFRESH = timedelta(hours=1)  # how long a fold of the whole history stands


@dataclass(frozen=True, slots=True)
class LateLimits:
    computed_at: datetime  # the `now` the history was folded at
    late_after: float  # LATE_AFTER then
    min_activations: int  # EXPECT_MIN_ACTIVATIONS then
    limits: Mapping[int, tuple[timedelta, str]]  # provider_id -> (waiting past which late, why)


def fold_limits(
    stats: Iterable[ProviderStats], late_after: float, min_activations: int, now: datetime
) -> LateLimits:
    """The limits from the report's per-provider figures (app.core.expect)."""
    found = outlooks(stats, late_after, min_activations)
    limits = {pid: (limit, found[pid].reason) for pid, limit in late_thresholds(found).items()}
    return LateLimits(now, late_after, min_activations, limits)


def still_stands(
    kept: LateLimits,
    now: datetime,
    late_after: float,
    min_activations: int,
    refresh: timedelta = REFRESH,
) -> bool:
    """Whether `kept` may be used at `now` instead of a new fold: folded under the same
    settings less than `refresh` ago. One from the future (the clock was set back) does not:
    waiting ones are censored at `now`, so the curves belong to the time they were folded at."""
    return (
        kept.late_after == late_after
        and kept.min_activations == min_activations
        and kept.computed_at <= now < kept.computed_at + refresh
    )
