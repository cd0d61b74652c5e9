"""SPEC 9 reminders as plain values (app.core.stuck): due once past STUCK_AFTER, then every
STUCK_REPEAT, never for one that moved, longest-stuck first."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.core.stuck import Candidate, reminders_due
from app.domain import Event, EventKind, StoredRegistration
from tests.builders import NOW, registration

LIMITS = {"PENDING_APPROVAL": timedelta(days=7), "PENDING_ACTIVATION": timedelta(days=14)}
REPEAT = timedelta(days=7)


def stored(provider: int, status: str, days: float) -> StoredRegistration:
    reg = registration(provider_id=provider, registration_status=status)
    since = NOW - timedelta(days=days)
    return StoredRegistration(reg, first_seen_at=since, status_since=since)


def test_due_past_the_limit_of_its_status_only() -> None:
    given_ = [
        Candidate(stored(1, "PENDING_APPROVAL", 6.9)),
        Candidate(stored(2, "PENDING_APPROVAL", 7.1)),
        Candidate(stored(3, "PENDING_ACTIVATION", 10)),
        Candidate(stored(4, "ACTIVE", 300)),
    ]
    [event] = reminders_due(given_, NOW, LIMITS, REPEAT)
    assert (event.event, event.provider_id, event.to_status) == (
        EventKind.STUCK,
        2,
        "PENDING_APPROVAL",
    )
    assert event.previous_status_since == NOW - timedelta(days=7.1)
    assert event.observed_at == NOW


def test_longest_stuck_first() -> None:
    given_ = [
        Candidate(stored(1, "PENDING_APPROVAL", 8)),
        Candidate(stored(2, "PENDING_ACTIVATION", 40)),
        Candidate(stored(3, "PENDING_APPROVAL", 20)),
    ]
    assert [e.provider_id for e in reminders_due(given_, NOW, LIMITS, REPEAT)] == [2, 3, 1]


def test_repeats_every_stuck_repeat_and_a_removed_one_never() -> None:
    one = stored(1, "PENDING_APPROVAL", 10)
    recent = Candidate(one, reminded_at=NOW - timedelta(days=6))
    old = Candidate(one, reminded_at=NOW - timedelta(days=7))
    assert reminders_due([recent], NOW, LIMITS, REPEAT) == []
    assert len(reminders_due([old], NOW, LIMITS, REPEAT)) == 1
    gone = Candidate(replace(one, present=False))
    assert reminders_due([gone], NOW, LIMITS, REPEAT) == []


def test_a_reminder_of_an_earlier_stay_does_not_count() -> None:
    # The last reminder is from before the current stay began: the new stay is reminded at once.
    moved = stored(1, "PENDING_APPROVAL", 8)
    earlier = Candidate(moved, reminded_at=moved.status_since - timedelta(hours=1))
    assert len(reminders_due([earlier], NOW, LIMITS, REPEAT)) == 1


def test_an_earlier_stays_reminder_within_a_longer_repeat_does_not_hold_back_the_new_stay() -> None:
    # STUCK_REPEAT (14 d) longer than STUCK_AFTER (7 d): the earlier stay's reminder, 9 days
    # back, is still within the repeat, yet the new stay (8 days, past its 7) is due now.
    moved = stored(1, "PENDING_APPROVAL", 8)
    earlier = Candidate(moved, reminded_at=NOW - timedelta(days=9))
    [event] = reminders_due([earlier], NOW, LIMITS, timedelta(days=14))
    assert (event.provider_id, event.previous_status_since) == (1, NOW - timedelta(days=8))


def test_a_reminder_at_the_instant_the_stay_began_belongs_to_that_stay() -> None:
    # Not before the stay began, so it counts: the next one waits the whole STUCK_REPEAT.
    stay = stored(1, "PENDING_APPROVAL", 8)
    same_instant = Candidate(stay, reminded_at=stay.status_since)
    assert reminders_due([same_instant], NOW, LIMITS, timedelta(days=14)) == []
    assert len(reminders_due([same_instant], NOW, LIMITS, timedelta(days=8))) == 1


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["PENDING_APPROVAL", "ACTIVE"])),
        min_size=1,
        max_size=40,
    ),
)
def test_over_time_reminders_follow_the_rules(steps: list[tuple[int, str]]) -> None:
    """One registration over days (each step: days later, its status then). Folding the
    reminders as the database does: none for a registration that moved in that step, never two
    within STUCK_REPEAT of one stay, and one whenever it stayed stuck STUCK_REPEAT past the last."""
    limits, repeat = {"PENDING_APPROVAL": timedelta(days=3)}, timedelta(days=5)
    now = NOW
    state = stored(1, "PENDING_APPROVAL", 0)
    reminded: list[datetime] = []
    for days, status in steps:
        now += timedelta(days=days)
        if status != state.registration.registration_status:
            reg = replace(state.registration, registration_status=status)
            state = replace(state, registration=reg, status_since=now)
        last = reminded[-1] if reminded else None
        due = reminders_due([Candidate(state, last)], now, limits, repeat)
        stuck = status in limits and now - state.status_since > limits[status]
        fresh = last is None or last < state.status_since or now - last >= repeat
        assert bool(due) == (stuck and fresh)
        if due:
            assert state.status_since != now  # never for one that just moved
            if last is not None and last >= state.status_since:
                assert now - last >= repeat
            reminded.append(now)


def test_one_reminded_recently_does_not_hold_back_the_others() -> None:
    longest = Candidate(stored(1, "PENDING_APPROVAL", 30), reminded_at=NOW - timedelta(days=1))
    other = Candidate(stored(2, "PENDING_APPROVAL", 8))
    assert [e.provider_id for e in reminders_due([longest, other], NOW, LIMITS, REPEAT)] == [2]


def test_the_reminder_is_the_registration_as_stored_in_full() -> None:
    state = stored(1, "PENDING_ACTIVATION", 15)
    [reminder] = reminders_due([Candidate(state)], NOW, LIMITS, REPEAT)
    reg = state.registration
    assert reminder == Event(
        event=EventKind.STUCK,
        client_id=reg.client_id,
        client_name=reg.client_name,
        provider_id=reg.provider_id,
        provider_name=reg.provider_name,
        country=reg.country,
        from_status="PENDING_ACTIVATION",
        to_status="PENDING_ACTIVATION",
        requested_on=reg.requested_on,
        observed_at=NOW,
        previous_status_since=NOW - timedelta(days=15),
    )


def _waiting(provider: int, status: str, waited: float, stay: float) -> StoredRegistration:
    """Requested `waited` days ago, in `status` (exactly) for the last `stay` days."""
    reg = registration(
        provider_id=provider, registration_status=status, requested_on=NOW - timedelta(days=waited)
    )
    return StoredRegistration(reg, reg.requested_on, NOW - timedelta(days=stay))


LATE = {7: (timedelta(days=20), "slower than 90% of Bank 7's activations")}


def test_a_late_reminder_in_full_and_late_only_past_its_limit() -> None:
    late = _waiting(7, "PENDING_ACTIVATION", 25, 2)
    at_limit = _waiting(7, "PENDING_ACTIVATION", 20, 2)  # waiting exactly the limit: not late
    [reminder] = reminders_due([Candidate(late), Candidate(at_limit)], NOW, LIMITS, REPEAT, LATE)
    assert reminder == late.event(
        EventKind.STUCK,
        NOW,
        changes=(("late", "", "slower than 90% of Bank 7's activations"),),
    )


def test_late_ones_longest_waiting_first_never_active_nor_removed() -> None:
    candidates = [
        Candidate(_waiting(7, "PENDING_APPROVAL", 22, 1)),
        Candidate(_waiting(7, "PENDING_ACTIVATION", 30, 2)),
        Candidate(_waiting(7, "ACTIVE", 90, 60)),
        Candidate(replace(_waiting(7, "PENDING_ACTIVATION", 90, 3), present=False)),
        Candidate(_waiting(7, "PENDING_APPROVAL", 26, 3)),
    ]
    due = reminders_due(candidates, NOW, LIMITS, REPEAT, LATE)
    assert [e.requested_on for e in due] == [NOW - timedelta(days=d) for d in (30, 26, 22)]


def test_a_stuck_one_at_a_provider_with_a_late_limit_is_not_called_late_before_it() -> None:
    stuck = _waiting(7, "PENDING_APPROVAL", 10, 10)  # stuck (7 d), waiting under 20 d
    [reminder] = reminders_due([Candidate(stuck)], NOW, LIMITS, REPEAT, LATE)
    assert reminder.changes == ()


def test_an_acknowledged_one_gets_no_reminder_while_its_acknowledgement_holds() -> None:
    from app.core.ack import Acknowledgement

    state = stored(1, "PENDING_APPROVAL", 10)
    taken = Acknowledgement("ann", NOW - timedelta(days=1), until=NOW + timedelta(days=1))
    assert reminders_due([Candidate(state, acknowledgement=taken)], NOW, LIMITS, REPEAT) == []
    over = replace(taken, until=NOW)
    [due] = reminders_due([Candidate(state, acknowledgement=over)], NOW, LIMITS, REPEAT)
    assert due.provider_id == 1
