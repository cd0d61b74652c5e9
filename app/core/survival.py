"""PURE: Kaplan-Meier time to an event with right censoring and left truncation (SPEC 11).

S(t) is the product, over the distinct event times t_j <= t, of (1 - d_j / n_j): d_j events at
t_j, n_j the observations *at risk* there, those that entered before it (entry < t_j) and had
not ended yet (duration >= t_j). A registration still waiting is censored at its waiting; one
first seen after it was requested enters at its waiting on that first sighting, so the early
risk sets are not inflated by registrations nobody watched then. Times are seconds."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple


class Observation(NamedTuple):
    """A tuple: a quarter of the time of a frozen dataclass, 250,000 times in a fold."""

    duration: float  # seconds from the start (requested_on) to the event or to censoring
    event: bool  # True: the event happened at `duration`; False: censored there
    entry: float = 0.0  # seconds from the start to when it came under watch


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
        i = bisect.bisect_right(self.times, start)
        for time, value in zip(self.times[i:], self.survival[i:], strict=True):
            if value <= level:
                return time
        return None

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


def kaplan_meier(observations: Iterable[Observation]) -> Curve:
    """The estimate from `observations`. One that ends before or when it entered was never at
    risk under watch and tells nothing: it is left out (counted neither as event nor censored).
    Ties: at one time, events are counted before censorings (those censored at t_j are still
    at risk at t_j), the usual convention."""
    kept = [o for o in observations if o.duration > o.entry]
    if not kept:
        return EMPTY
    entries = sorted(o.entry for o in kept)
    ends = sorted(o.duration for o in kept)  # every observation leaves the risk set at its end
    deaths: dict[float, int] = {}
    for o in kept:
        if o.event:
            deaths[o.duration] = deaths.get(o.duration, 0) + 1
    times, survival, s = [], [], 1.0
    for t in sorted(deaths):
        # at risk at t: entered before t, minus those that ended before t
        at_risk = bisect.bisect_left(entries, t) - bisect.bisect_left(ends, t)
        s *= 1.0 - deaths[t] / at_risk
        times.append(t)
        survival.append(s)
    events = sum(deaths.values())
    return Curve(tuple(times), tuple(survival), events, len(kept) - events)
