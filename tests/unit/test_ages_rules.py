"""The ages of app.core.ages at their edges: the words a duration is said in, the minute an
inexact stay starts being "at least", the sum rule with a status that has no limit, and
status_fields() (the status command's rows) agreeing with is_stuck() on every kind of row."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.core.ages import (
    duration_words,
    in_status_phrase,
    is_stuck,
    measured,
    status_fields,
    stuck_limit,
)
from app.domain import StoredRegistration
from tests.builders import NOW, registration, stored

LIMITS = {"PENDING_APPROVAL": timedelta(days=7), "PENDING_ACTIVATION": timedelta(days=14)}
DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(0), "less than a minute"),
        (timedelta(seconds=59), "less than a minute"),
        (-HOUR, "less than a minute"),
        (MINUTE, "1 minute"),
        (2 * MINUTE, "2 minutes"),
        (HOUR, "1 hour"),
        (13 * HOUR, "13 hours"),
        (DAY, "24 hours"),  # days from two on
        (36 * HOUR, "36 hours"),
        (2 * DAY - MINUTE, "47 hours"),
        (2 * DAY, "2 days"),
        (52 * DAY + 5 * HOUR, "52 days"),
    ],
)
def test_duration_words(delta: timedelta, words: str) -> None:
    assert duration_words(delta) == words


@pytest.mark.parametrize(
    ("age", "exact", "phrase"),
    [
        (timedelta(seconds=59), False, f"since before {NOW - MINUTE:%Y-%m-%d}"),
        (MINUTE, False, "at least 1 minute"),
        (timedelta(seconds=90), False, "at least 1 minute"),
        (timedelta(seconds=30), True, "less than a minute"),
    ],
)
def test_an_inexact_stay_is_at_least_from_its_first_minute(
    age: timedelta, exact: bool, phrase: str
) -> None:
    assert in_status_phrase(NOW - age, exact, NOW) == phrase


def test_the_sum_rule_counts_a_status_without_a_limit_as_zero() -> None:
    only_activation = {"PENDING_ACTIVATION": timedelta(days=14)}
    assert stuck_limit("PENDING_ACTIVATION", False, only_activation) == timedelta(days=14)
    assert stuck_limit("PENDING_APPROVAL", False, only_activation) is None
    assert stuck_limit("SOMETHING_NEW", False, {"SOMETHING_NEW": DAY}) == DAY


def test_measured_is_never_negative() -> None:
    ahead = stored(registration(), NOW + HOUR)  # a clock a little behind the stay's start
    assert measured(ahead, NOW) == timedelta(0)
    assert measured(stored(registration(), NOW), NOW) == timedelta(0)
    assert measured(stored(registration(), NOW - HOUR), NOW) == HOUR


def _state(status: str, waited: timedelta, stay: timedelta, exact: bool) -> StoredRegistration:
    reg = registration(status=status, requested_on=NOW - waited)
    return stored(reg, NOW - waited, status_since=NOW - stay, exact=exact)


def _row(state: StoredRegistration) -> dict[str, object]:
    reg = state.registration
    return {
        "registration_status": reg.registration_status,
        "requested_on": reg.requested_on,
        "status_since": state.status_since,
        "status_since_exact": state.status_since_exact,
        "present": state.present,
    }


CASES = {
    # exact: its own stay against its own limit, whatever it waited
    "exact, stay past its limit, waited less than the sum": (
        _state("PENDING_ACTIVATION", 20 * DAY, 15 * DAY, True),
        True,
    ),
    "exact, stay under its limit, waited past it": (
        _state("PENDING_ACTIVATION", 20 * DAY, 10 * DAY, True),
        False,
    ),
    "exact, exactly at its limit": (_state("PENDING_APPROVAL", 7 * DAY, 7 * DAY, True), False),
    "exact, a second past it": (
        _state("PENDING_APPROVAL", 7 * DAY, 7 * DAY + timedelta(seconds=1), True),
        True,
    ),
    # inexact: the waiting against the sum (7 d + 14 d)
    "inexact, waited 20 days": (_state("PENDING_ACTIVATION", 20 * DAY, HOUR, False), False),
    "inexact, waited 22 days": (_state("PENDING_ACTIVATION", 22 * DAY, HOUR, False), True),
    "ACTIVE: never stuck": (_state("ACTIVE", 300 * DAY, 300 * DAY, True), False),
    "removed: never stuck": (
        replace(_state("PENDING_APPROVAL", 30 * DAY, 30 * DAY, True), present=False),
        False,
    ),
}


@pytest.mark.parametrize(("state", "stuck"), CASES.values(), ids=CASES.keys())
def test_stuck_by_status_fields_and_by_is_stuck_agree(
    state: StoredRegistration, stuck: bool
) -> None:
    assert is_stuck(state, NOW, LIMITS) is stuck
    waited = state.registration.registration_status != "ACTIVE"
    expected_waiting = int((NOW - state.registration.requested_on).total_seconds())
    assert status_fields(_row(state), NOW, LIMITS) == {
        "waiting_seconds": expected_waiting if waited else None,
        "stuck": stuck,
    }


def test_status_fields_refuses_a_time_that_is_not_a_datetime() -> None:
    row = _row(_state("PENDING_APPROVAL", DAY, DAY, True)) | {"requested_on": "2026-03-01"}
    with pytest.raises(TypeError, match=r"^expected a datetime, got str$"):
        status_fields(row, NOW, LIMITS)


def test_status_fields_of_a_row_with_no_limit_says_not_stuck_as_false() -> None:
    fields = status_fields(_row(_state("ACTIVE", DAY, DAY, True)), NOW, LIMITS)
    assert fields["stuck"] is False
