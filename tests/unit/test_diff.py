"""The pure diff: every rule of SPEC 2 with plain values, plus a property over answer sequences."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.diff import apply, diff
from app.domain import (
    Answer,
    Direction,
    Event,
    EventKind,
    Key,
    Registration,
    StoredRegistration,
    direction,
)
from tests.builders import REQUESTED
from tests.builders import registration as reg
from tests.builders import stored as stored_at

T0 = datetime(2026, 1, 1, tzinfo=UTC)


# This file's clock starts at T0: stored state is first seen, and in its status, since T0.
stored = partial(stored_at, at=T0)


def state(*items: StoredRegistration) -> dict[Key, StoredRegistration]:
    return {s.key: s for s in items}


def kinds(events: tuple[Event, ...]) -> list[tuple[EventKind, Key]]:
    return [(e.event, e.key) for e in events]


NOW = T0 + timedelta(days=3)


def test_first_sync_of_empty_database_is_baseline() -> None:
    result = diff(
        {}, Answer((reg("dc-a"), reg("dc-b"))), NOW, baseline=True, removal_confirm_polls=2
    )
    assert kinds(result.events) == [
        (EventKind.BASELINE, ("dc-a", 2000)),
        (EventKind.BASELINE, ("dc-b", 2000)),
    ]
    assert [s.first_seen_at for s in result.changed] == [NOW, NOW]


def test_new_row_after_baseline_is_added() -> None:
    prev = state(stored(reg("dc-a")))
    result = diff(
        prev, Answer((reg("dc-a"), reg("dc-b", 1000))), NOW, baseline=False, removal_confirm_polls=2
    )
    assert kinds(result.events) == [(EventKind.ADDED, ("dc-b", 1000))]
    (event,) = result.events
    assert (event.from_status, event.to_status) == (None, "PENDING_APPROVAL")
    assert [s.key for s in result.changed] == [("dc-b", 1000)]


def test_unchanged_answer_produces_nothing_and_writes_nothing() -> None:
    prev = state(stored(reg("dc-a")), stored(reg("dc-b")))
    result = diff(
        prev, Answer((reg("dc-a"), reg("dc-b"))), NOW, baseline=False, removal_confirm_polls=2
    )
    assert result.events == ()
    assert result.changed == ()


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("PENDING_APPROVAL", "PENDING_ACTIVATION", Direction.FORWARD),
        ("PENDING_ACTIVATION", "ACTIVE", Direction.FORWARD),
        ("PENDING_APPROVAL", "ACTIVE", Direction.FORWARD),
        ("ACTIVE", "PENDING_ACTIVATION", Direction.BACKWARD),
        ("ACTIVE", "SUSPENDED", Direction.UNRECOGNISED),
        ("SUSPENDED", "ACTIVE", Direction.FORWARD),
        ("SUSPENDED", "REVOKED", Direction.UNRECOGNISED),
    ],
)
def test_status_change_records_both_statuses_and_direction(
    before: str, after: str, expected: Direction
) -> None:
    prev = state(stored(reg(status=before), status_since=T0))
    result = diff(prev, Answer((reg(status=after),)), NOW, baseline=False, removal_confirm_polls=2)
    (event,) = result.events
    assert event.event is EventKind.STATUS_CHANGED
    assert (event.from_status, event.to_status) == (before, after)
    assert event.previous_status_since == T0
    assert direction(event.from_status, event.to_status) is expected
    (new,) = result.changed
    assert new.status_since == NOW
    assert new.first_seen_at == T0


def test_details_change_is_recorded_with_old_and_new_values() -> None:
    prev = state(stored(reg()))
    later = REQUESTED + timedelta(days=1)
    result = diff(
        prev,
        Answer((reg(client_name="Alpha Lending Inc.", requested_on=later),)),
        NOW,
        baseline=False,
        removal_confirm_polls=2,
    )
    (event,) = result.events
    assert event.event is EventKind.DETAILS_CHANGED
    assert event.changes == (
        ("client_name", "Client dc-a", "Alpha Lending Inc."),
        ("requested_on", REQUESTED.isoformat(), later.isoformat()),
    )
    assert result.changed[0].status_since == T0  # status did not move


def test_details_and_status_change_together_give_two_events() -> None:
    prev = state(stored(reg()))
    result = diff(
        prev,
        Answer((reg(status="ACTIVE", country="US"),)),
        NOW,
        baseline=False,
        removal_confirm_polls=2,
    )
    assert [e.event for e in result.events] == [EventKind.DETAILS_CHANGED, EventKind.STATUS_CHANGED]


def test_removal_needs_confirm_polls_consecutive_complete_answers() -> None:
    prev = state(stored(reg("dc-a")), stored(reg("dc-b")))
    answer = Answer((reg("dc-a"),))
    first = diff(prev, answer, NOW, baseline=False, removal_confirm_polls=2)
    assert first.events == ()
    assert first.removals_pending == 1
    assert [(s.key, s.missing_polls) for s in first.changed] == [(("dc-b", 2000), 1)]

    second = diff(apply(prev, first.changed), answer, NOW, baseline=False, removal_confirm_polls=2)
    (event,) = second.events
    assert (event.event, event.key) == (EventKind.REMOVED, ("dc-b", 2000))
    assert (event.from_status, event.to_status) == ("PENDING_APPROVAL", None)
    assert second.changed[0].present is False

    third = diff(
        apply(apply(prev, first.changed), second.changed),
        answer,
        NOW,
        baseline=False,
        removal_confirm_polls=2,
    )
    assert third.events == ()  # removed once, never again
    assert third.changed == ()


def test_removal_confirm_polls_of_one_removes_at_once() -> None:
    prev = state(stored(reg("dc-a")))
    result = diff(prev, Answer(()), NOW, baseline=False, removal_confirm_polls=1)
    assert kinds(result.events) == [(EventKind.REMOVED, ("dc-a", 2000))]


def test_partial_answer_never_advances_a_removal() -> None:
    prev = state(stored(reg("dc-a")), stored(reg("dc-b"), missing_polls=1))
    result = diff(
        prev, Answer((reg("dc-a"),), skipped=1), NOW, baseline=False, removal_confirm_polls=2
    )
    assert result.events == ()
    assert result.changed == ()


def test_partial_answer_still_processes_its_valid_rows() -> None:
    prev = state(stored(reg("dc-a")))
    result = diff(
        prev,
        Answer((reg("dc-a", status="ACTIVE"), reg("dc-c")), skipped=3),
        NOW,
        baseline=False,
        removal_confirm_polls=2,
    )
    assert kinds(result.events) == [
        (EventKind.STATUS_CHANGED, ("dc-a", 2000)),
        (EventKind.ADDED, ("dc-c", 2000)),
    ]


def test_row_back_before_confirmation_resets_the_count_silently() -> None:
    prev = state(stored(reg("dc-a"), missing_polls=1))
    result = diff(prev, Answer((reg("dc-a"),)), NOW, baseline=False, removal_confirm_polls=2)
    assert result.events == ()
    assert [(s.key, s.missing_polls) for s in result.changed] == [(("dc-a", 2000), 0)]


def test_reappeared_after_removal() -> None:
    prev = state(stored(reg("dc-a", status="PENDING_ACTIVATION"), present=False, missing_polls=2))
    result = diff(
        prev, Answer((reg("dc-a", status="ACTIVE"),)), NOW, baseline=False, removal_confirm_polls=2
    )
    (event,) = result.events
    assert event.event is EventKind.REAPPEARED
    assert (event.from_status, event.to_status) == ("PENDING_ACTIVATION", "ACTIVE")
    (new,) = result.changed
    assert (new.present, new.missing_polls, new.status_since, new.first_seen_at) == (
        True,
        0,
        NOW,
        T0,
    )


def test_same_provider_under_many_recipients_are_distinct() -> None:
    prev = state(stored(reg("dc-a", 2000)), stored(reg("dc-b", 2000)))
    result = diff(
        prev,
        Answer((reg("dc-a", 2000, status="ACTIVE"), reg("dc-b", 2000))),
        NOW,
        baseline=False,
        removal_confirm_polls=2,
    )
    assert kinds(result.events) == [(EventKind.STATUS_CHANGED, ("dc-a", 2000))]


def test_events_carry_now_as_observed_at() -> None:
    result = diff({}, Answer((reg(),)), NOW, baseline=False, removal_confirm_polls=2)
    assert result.events[0].observed_at == NOW


# ---- property: the history rebuilds the state ---------------------------------------------

STATUSES = ["PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE", "SUSPENDED"]
row_strategy = st.builds(
    reg,
    client=st.sampled_from(["dc-a", "dc-b", "dc-c"]),
    provider=st.sampled_from([1000, 2000]),
    status=st.sampled_from(STATUSES),
    client_name=st.sampled_from(["Alpha", "Beta"]),
    country=st.sampled_from(["CA", "US"]),
)
answer_strategy = st.builds(
    lambda rows, skipped: Answer(
        tuple(sorted({r.key: r for r in rows}.values(), key=lambda r: r.key)), skipped
    ),
    st.lists(row_strategy, max_size=6),
    st.sampled_from([0, 0, 0, 1]),
)


def rebuild(events: list[Event]) -> dict[Key, tuple[str, str, str, str, datetime]]:
    """Fold the history the way a user querying registration_events would."""
    view: dict[Key, tuple[str, str, str, str, datetime]] = {}
    for e in events:
        if e.event is EventKind.REMOVED:
            view.pop(e.key)
        else:
            assert e.to_status is not None
            view[e.key] = (e.client_name, e.provider_name, e.country, e.to_status, e.requested_on)
    return view


@settings(max_examples=300, deadline=None)
@given(answers=st.lists(answer_strategy, min_size=1, max_size=8), confirm=st.integers(1, 3))
def test_recorded_events_rebuild_the_final_state(answers: list[Answer], confirm: int) -> None:
    current: dict[Key, StoredRegistration] = {}
    history: list[Event] = []
    synced = False
    for i, answer in enumerate(answers):
        now = T0 + timedelta(minutes=i)
        result = diff(current, answer, now, baseline=not synced, removal_confirm_polls=confirm)
        synced = True
        history.extend(result.events)
        current = apply(current, result.changed)
        # A second look at the same answer never repeats an event that was already recorded.
        again = diff(current, answer, now, baseline=False, removal_confirm_polls=confirm)
        assert all(e.event is EventKind.REMOVED for e in again.events)

    expected = {
        key: (r.client_name, r.provider_name, r.country, r.registration_status, r.requested_on)
        for key, s in current.items()
        if s.present
        for r in [s.registration]
    }
    assert rebuild(history) == expected
    baseline_events = [e for e in history if e.event is EventKind.BASELINE]
    assert all(e.observed_at == T0 for e in baseline_events)


def test_the_events_of_a_move_a_return_and_a_removal_in_full() -> None:
    """Every field of each event (the mutation pass of docs/mutation.md)."""
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    since = now - timedelta(days=4)
    moved = reg("dc-m", 1, "PENDING_APPROVAL")
    back = reg("dc-b", 2, "ACTIVE")
    gone = reg("dc-g", 3, "PENDING_ACTIVATION")
    previous = {
        s.key: s
        for s in (
            StoredRegistration(moved, since, since),
            StoredRegistration(back, since, since, 2, False),
            StoredRegistration(gone, since, since, 1, True),
        )
    }
    renamed = replace(moved, client_name="New name", registration_status="ACTIVE")
    result = diff(previous, Answer((renamed, back)), now, baseline=False, removal_confirm_polls=2)

    def of(kind: EventKind, r: Registration, frm: str, to: str | None, **kw: Any) -> Event:
        fields = (r.client_id, r.client_name, r.provider_id, r.provider_name, r.country)
        return Event(kind, *fields, frm, to, r.requested_on, now, **kw)

    assert list(result.events) == [
        of(
            EventKind.DETAILS_CHANGED,
            renamed,
            "PENDING_APPROVAL",
            "ACTIVE",
            changes=(("client_name", moved.client_name, "New name"),),
        ),
        of(
            EventKind.STATUS_CHANGED,
            renamed,
            "PENDING_APPROVAL",
            "ACTIVE",
            previous_status_since=since,
        ),
        of(EventKind.REAPPEARED, back, "ACTIVE", "ACTIVE", previous_status_since=since),
        of(EventKind.REMOVED, gone, "PENDING_ACTIVATION", None, previous_status_since=since),
    ]
    removed = next(s for s in result.changed if s.key == (gone.client_id, gone.provider_id))
    assert (removed.missing_polls, removed.present) == (2, False)


def test_an_inexact_stay_stays_inexact_until_it_moves_and_its_events_say_so() -> None:
    """A stay whose start is unknown (first seen past PENDING_APPROVAL) keeps that through a
    details change and a missed poll; its removal and its return say it of the stay they end;
    a move starts an exact one."""
    since = T0 - timedelta(days=1)
    renamed = reg("dc-r", 1, "PENDING_ACTIVATION")
    gone = reg("dc-g", 2, "PENDING_ACTIVATION")
    back = reg("dc-b", 3, "PENDING_ACTIVATION")
    moved = reg("dc-m", 4, "PENDING_ACTIVATION")
    previous = state(
        stored(renamed, status_since=since, exact=False),
        stored(gone, status_since=since, missing_polls=1, exact=False),
        stored(back, status_since=since, present=False, exact=False),
        stored(moved, status_since=since, exact=False),
    )
    answer = Answer(
        (replace(renamed, client_name="New"), back, replace(moved, registration_status="ACTIVE"))
    )
    result = diff(previous, answer, NOW, baseline=False, removal_confirm_polls=2)
    exact = {s.key[1]: (s.status_since, s.status_since_exact) for s in result.changed}
    assert exact == {1: (since, False), 2: (since, False), 3: (since, False), 4: (NOW, True)}
    said = {(e.event, e.key[1]): e.previous_status_since_exact for e in result.events}
    assert said == {
        (EventKind.DETAILS_CHANGED, 1): True,  # a details change says nothing of a stay
        (EventKind.REMOVED, 2): False,
        (EventKind.REAPPEARED, 3): False,
        (EventKind.STATUS_CHANGED, 4): False,
    }
