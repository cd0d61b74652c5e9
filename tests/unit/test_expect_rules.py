"""Expected and late at their edges (app.core.expect, through its public functions): enough
history at exactly EXPECT_MIN_ACTIVATIONS, late only past the LATE_AFTER quantile, nothing late
without enough history, no expected date where the curve never halves, and the status command's
fields and the timeline's sentence for an ACTIVE registration."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from app.core.expect import (
    Expectation,
    Outlook,
    expect,
    expectation_fields,
    late_thresholds,
    outlook_sentence,
    outlooks,
)
from app.core.report import ProviderStats, summarise
from app.core.survival import Observation, kaplan_meier

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
D = timedelta(days=1)


def provider(durations: Sequence[float], waiting: Sequence[float] = ()) -> ProviderStats:
    """A provider whose activations took `durations` seconds, `waiting` still waiting."""
    obs = [Observation(d, True) for d in durations] + [Observation(w, False) for w in waiting]
    curve = kaplan_meier(obs)
    return ProviderStats(12, "NBC", 1, summarise(curve), {}, curve)


DAYS_1_TO_10 = [d * 86400.0 for d in range(1, 11)]  # p90: 9 days


def outlook(durations: Sequence[float], waiting: Sequence[float] = ()) -> Outlook:
    return outlooks([provider(durations, waiting)], 0.9, 5)[12]


def test_enough_history_from_exactly_the_minimum() -> None:
    assert outlooks([provider(DAYS_1_TO_10)], 0.9, 10)[12].enough is True
    assert outlooks([provider(DAYS_1_TO_10)], 0.9, 11)[12].enough is False


def test_without_enough_history_or_late_after_nothing_is_late() -> None:
    few = outlooks([provider(DAYS_1_TO_10[:3])], 0.9, 5)[12]
    assert (few.enough, few.late_seconds) == (False, None)
    unset = outlooks([provider(DAYS_1_TO_10)], None, 5)[12]
    assert (unset.enough, unset.late_seconds) == (True, None)
    assert late_thresholds({12: few, 13: unset, 14: outlook(DAYS_1_TO_10)}) == {14: 9 * D}


@pytest.mark.parametrize(("waited", "late"), [(9 * D, False), (9 * D + timedelta(seconds=1), True)])
def test_late_only_past_the_quantile(waited: timedelta, late: bool) -> None:
    seen = expect(outlook(DAYS_1_TO_10), NOW - waited, "PENDING_APPROVAL", NOW)
    assert seen.late is late


def test_a_request_this_instant_has_waited_nothing() -> None:
    """A provider whose activations took half a second: one requested now is not late (it has
    waited 0 s, not 1) and is expected half a second after its request."""
    fast = outlook([0.5] * 10)
    assert expect(fast, NOW, "PENDING_APPROVAL", NOW) == Expectation(
        NOW + timedelta(seconds=0.5), False, True
    )
    ahead = NOW + D  # requested ahead of the clock: waited 0 too
    assert expect(fast, ahead, "PENDING_APPROVAL", NOW).late is False


def test_no_expected_date_where_the_curve_never_halves_again() -> None:
    """Activations at 1..5 days, 10 still waiting at 30 days: S stays above 0.6, so one waiting
    6 days has no day by which half of those like it were ACTIVE."""
    slow = outlook(DAYS_1_TO_10[:5], waiting=[30 * 86400.0] * 10)
    seen = expect(slow, NOW - 6 * D, "PENDING_APPROVAL", NOW)
    assert seen == Expectation(None, False, True)
    said = outlook_sentence(slow, "NBC", NOW - 6 * D, "PENDING_APPROVAL", NOW)
    assert said == (
        "Fewer than half of NBC's registrations have activated so far (5 observed);"
        " no expected date for this one yet."
    )


def test_an_active_one_is_neither_late_nor_expected_and_its_sentence_ends_there() -> None:
    found = {12: outlook(DAYS_1_TO_10)}
    row = {"provider_id": 12, "requested_on": NOW - 30 * D, "registration_status": "ACTIVE"}
    assert expectation_fields(found, row, NOW) == {"late": False, "expected_active_by": None}
    waiting = row | {"registration_status": "PENDING_APPROVAL"}
    assert expectation_fields(found, waiting, NOW) == {"late": True, "expected_active_by": NOW}
    said = outlook_sentence(found[12], "NBC", NOW - 30 * D, "ACTIVE", NOW)
    assert said == "NBC activates in a median of 5 days (10 observed)."


def test_a_status_row_without_a_datetime_request_is_refused() -> None:
    row = {"provider_id": 12, "requested_on": "2026-03-01", "registration_status": "ACTIVE"}
    with pytest.raises(TypeError, match=r"^requested_on is not a datetime$"):
        expectation_fields({}, row, NOW)
