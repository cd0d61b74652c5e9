"""PURE: Kaplan-Meier time to an event with right censoring and left truncation (SPEC 11).

S(t) is the product, over the distinct event times t_j <= t, of (1 - d_j / n_j): d_j events at
t_j, n_j the observations *at risk* there, those that entered before it (entry < t_j) and had
not ended yet (duration >= t_j). A registration still waiting is censored at its waiting; one
first seen after it was requested enters at its waiting on that first sighting, so the early
risk sets are not inflated by registrations nobody watched then. Times are seconds."""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import gt, neg
from typing import NamedTuple


class Observation(NamedTuple):
    """A tuple: a quarter of the time of a frozen dataclass, 250,000 times in a fold."""

    duration: float  # seconds from the start (requested_on) to the event or to censoring
    event: bool  # True: the event happened at `duration`; False: censored there
    entry: float = 0.0  # seconds from the start to when it came under watch


class Sample:
    """Observations kept as three columns of machine floats (app.core.lifetimes fills them):
    17 bytes an observation instead of about 110 as Observation tuples, 250,000 in a fold of
    100,000 registrations. Iterating gives Observation tuples."""

    __slots__ = ("durations", "entries", "events")

    def __init__(self) -> None:
        self.durations = array("d")
        self.events = array("b")  # 1: the event happened at the duration; 0: censored there
        self.entries = array("d")

    def add(self, duration: float, event: bool, entry: float) -> None:
        self.durations.append(duration)
        self.events.append(event)
        self.entries.append(entry)

    def __len__(self) -> int:
        return len(self.durations)

    def __iter__(self) -> Iterator[Observation]:
        return map(Observation, self.durations, map(bool, self.events), self.entries)


@dataclass(frozen=True, slots=True)
class Curve:
    """A step function: `survival[i]` holds from `times[i]` (inclusive) to the next time."""

    times: tuple[float, ...]  # the distinct event times, ascending
    survival: tuple[float, ...]  # S just after each of them, non-increasing
    events: int  # observations that ended with the event
    censored: int  # observations that ended without it

    def at(self, t: float) -> float:
        """S(t): the share still without the event at t (1 before the first event)."""
        i = bisect.bisect_right(self.times, t)
        return 1.0 if i == 0 else self.survival[i - 1]

    def first_below(self, level: float, start: float = 0.0) -> float | None:
        """The smallest duration t >= `start` with S(t) <= level; None if the curve never gets
        there. S is non-increasing, so this is the first such step at or after `start`."""
        if self.at(start) <= level:
            return start
        # -S is ascending: the first step at or below `level` by bisection, not a walk over the
        # steps (conditional_median runs once per waiting registration in `status`).
        i = bisect.bisect_right(self.times, start)
        j = bisect.bisect_left(self.survival, -level, lo=i, key=neg)
        return self.times[j] if j < len(self.times) else None

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0 < q < 1) of the time to the event: where S falls to 1 - q or
        below. quantile(0.5) is the median, quantile(0.9) the 90th percentile."""
        # The tolerance keeps a product like 0.1 * 1.0000000000000002 on the step it reached.
        return self.first_below(1.0 - q + 1e-12)

    def conditional_median(self, waited: float) -> float | None:
        """For one still waiting after `waited`: the smallest t >= waited with S(t) <= S(w) / 2,
        the duration by which half of those who waited as long had the event."""
        return self.first_below(self.at(waited) / 2 + 1e-12, waited)


EMPTY = Curve((), (), 0, 0)


def kaplan_meier(observations: Iterable[Observation] | Sample) -> Curve:
    """The estimate from `observations`. One that ends before or when it entered was never at
    risk under watch and tells nothing: it is left out (counted neither as event nor censored).
    Ties: at one time, events are counted before censorings (those censored at t_j are still
    at risk at t_j), the usual convention."""
    if isinstance(observations, Sample):
        return _estimate(observations.durations, observations.events, observations.entries)
    rows = list(observations)
    return _estimate([o.duration for o in rows], [o.event for o in rows], [o.entry for o in rows])


def _estimate(
    durations: Sequence[float], events: Sequence[object], entries: Sequence[float]
) -> Curve:
    """kaplan_meier over columns: the per-observation work is done in C (map, sorted, Counter),
    the Python loop runs once per distinct event time."""
    if not all(map(gt, durations, entries)):
        kept = list(map(gt, durations, entries))
        durations = list(compress(durations, kept))
        events = list(compress(events, kept))
        entries = list(compress(entries, kept))
    if not durations:
        return EMPTY
    entered = sorted(entries)
    ends = sorted(durations)  # every observation leaves the risk set at its end
    deaths = Counter(compress(durations, events))
    times, survival, s = sorted(deaths), [], 1.0
    for t in times:
        # at risk at t: entered before t, minus those that ended before t
        at_risk = bisect.bisect_left(entered, t) - bisect.bisect_left(ends, t)
        s *= 1.0 - deaths[t] / at_risk
        survival.append(s)
    count = sum(deaths.values())
    return Curve(tuple(times), tuple(survival), count, len(durations) - count)
