"""Acknowledgements as plain values (app.core.ack): one holds in the stay it was taken in, while
the registration is listed and until its `until` (exclusive); a click is refused once the
registration moved; the event records who, a note and until, tidied and clipped."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from app.core.ack import (
    MAX_BY,
    MAX_NOTE,
    Acknowledgement,
    acknowledged,
    active,
    holds,
    moved,
)
from app.domain import EventKind
from tests.builders import NOW, event_for, registration, stored

SINCE = NOW - timedelta(days=3)
STATE = stored(registration(), NOW - timedelta(days=9), status_since=SINCE)
HOUR = timedelta(hours=1)


def ack(at_: timedelta = timedelta(0), until: timedelta | None = None) -> Acknowledgement:
    """Taken at SINCE + at_, until NOW + until (None: until it moves)."""
    return Acknowledgement("ann", SINCE + at_, until=None if until is None else NOW + until)


@pytest.mark.parametrize(
    ("given", "holding"),
    [
        (ack(HOUR), True),  # taken in this stay, no end
        (ack(), True),  # taken the instant the stay began: in it
        (ack(-HOUR), False),  # taken in an earlier stay
        (ack(HOUR, until=HOUR), True),  # its end still ahead
        (ack(HOUR, until=timedelta(0)), False),  # its end is now: over (an ack --clear)
        (ack(HOUR, until=-HOUR), False),
        (None, False),
    ],
)
def test_an_acknowledgement_holds_in_its_stay_until_its_end(
    given: Acknowledgement | None, holding: bool
) -> None:
    assert active(given, STATE, NOW) is holding
    assert holds(given, STATE.status_since, True, NOW) is holding


def test_a_removed_registration_is_held_by_no_acknowledgement() -> None:
    gone = replace(STATE, present=False)
    assert active(ack(HOUR), gone, NOW) is False
    assert active(ack(-HOUR), gone, NOW) is False
    assert holds(ack(HOUR, until=HOUR), SINCE, False, NOW) is False


@pytest.mark.parametrize(
    ("status", "seen_at", "has_moved"),
    [
        ("PENDING_APPROVAL", NOW, False),  # as the alert showed it
        ("PENDING_APPROVAL", SINCE, False),  # shown the instant it entered the status
        ("PENDING_APPROVAL", SINCE - HOUR, True),  # entered again after the alert
        ("PENDING_ACTIVATION", NOW, True),  # in another status now
        ("PENDING_ACTIVATION", SINCE - HOUR, True),
    ],
)
def test_a_click_on_a_registration_that_moved_is_refused(
    status: str, seen_at: datetime, has_moved: bool
) -> None:
    assert moved(STATE, status, seen_at) is has_moved


def test_a_registration_gone_or_removed_has_moved() -> None:
    assert moved(None, "PENDING_APPROVAL", NOW) is True
    assert moved(replace(STATE, present=False), "PENDING_APPROVAL", NOW) is True


def test_the_event_records_who_the_note_and_until_in_full() -> None:
    until = NOW + timedelta(days=7)
    got = acknowledged(STATE, NOW, "  Ann\n  Lee ", note=" on it,\tcalled\n them ", until=until)
    expected = event_for(
        EventKind.ACKNOWLEDGED,
        STATE.registration,
        NOW,
        from_status="PENDING_APPROVAL",
        previous_status_since=SINCE,
        by="Ann Lee",
        note="on it, called them",
        until=until,
    )
    assert got == expected


def test_the_event_clips_long_text_and_names_someone_when_no_one_is_given() -> None:
    got = acknowledged(STATE, NOW, "b" * (MAX_BY + 50), note="n" * (MAX_NOTE + 50))
    assert (got.by, got.note, got.until) == ("b" * MAX_BY, "n" * MAX_NOTE, None)
    blank = acknowledged(STATE, NOW, " \n ", note="  ")
    assert (blank.by, blank.note) == ("someone", None)
    assert acknowledged(STATE, NOW, "ann").note is None
