"""PURE: the mass-shrink guard of SPEC 2 (REMOVAL_HOLD_PERCENT, `flinkswatch accept-removals`).

An answer that leaves out more than REMOVAL_HOLD_PERCENT percent of the present registrations,
and more than MIN_HELD of them, concludes no removal: the cycle is *held*. A hold opens once
(one alert), lasts while answers stay shrunk, and ends with the first normal answer. Accepting
it (`accept-removals`) lets removals proceed while the answers stay shrunk.
"""

from __future__ import annotations

from app.domain import Guard, HoldState

MIN_HELD = 5  # SPEC 2: "and more than 5 of them"
GUARD_OFF = 100  # REMOVAL_HOLD_PERCENT=100: no answer can leave out more than all of them


def is_mass_shrink(present: int, missing: int, percent: int) -> bool:
    """More than `percent` % of the `present` registrations missing, and more than MIN_HELD."""
    return missing > MIN_HELD and missing * 100 > percent * present


def guard(state: HoldState, *, present: int, missing: int, percent: int) -> Guard:
    """The decision for one complete answer that leaves out `missing` of `present`."""
    listed = present - missing
    if not is_mass_shrink(present, missing, percent):
        return Guard(closes=state is not HoldState.NONE, present=present, listed=listed)
    if state is HoldState.ACCEPTED:
        return Guard(present=present, listed=listed)
    return Guard(held=True, opens=state is HoldState.NONE, present=present, listed=listed)
