"""The mass-shrink guard (SPEC 2, REMOVAL_HOLD_PERCENT): the pure rule, and its effect on diff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.diff import apply, diff
from app.core.shrink import GUARD_OFF, guard, is_mass_shrink
from app.domain import Answer, EventKind, Guard, HoldState, Key, StoredRegistration
from tests.builders import registration as reg
from tests.builders import stored

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def listing(n: int) -> tuple:
    return tuple(reg(f"dc-{i:04d}") for i in range(n))


def synced(n: int) -> dict[Key, StoredRegistration]:
    return {s.key: s for s in (stored(r, at=T0) for r in listing(n))}


def run(state, rows, *, hold=HoldState.NONE, percent=50, confirm=2, at=T0):
    return diff(
        state,
        Answer(rows),
        at,
        baseline=False,
        removal_confirm_polls=confirm,
        hold=hold,
        removal_hold_percent=percent,
    )


def test_threshold_is_more_than_the_percent_and_more_than_five() -> None:
    assert is_mass_shrink(1000, 990, 50)
    assert not is_mass_shrink(1000, 500, 50)  # exactly half is not more than half
    assert is_mass_shrink(1000, 501, 50)
    assert not is_mass_shrink(10, 5, 10)  # 50 % of them, but only five
    assert is_mass_shrink(10, 6, 50)
    assert not is_mass_shrink(1000, 1000, GUARD_OFF)  # 100 turns the guard off


def test_guard_opens_once_keeps_while_shrunk_and_closes_when_normal() -> None:
    first = guard(HoldState.NONE, present=1000, missing=990, percent=50)
    assert first == Guard(held=True, opens=True, present=1000, listed=10)
    again = guard(HoldState.ACTIVE, present=1000, missing=990, percent=50)
    assert again.held
    assert not again.opens
    assert not again.closes
    normal = guard(HoldState.ACTIVE, present=1000, missing=3, percent=50)
    assert normal.closes
    assert not normal.held
    assert guard(HoldState.NONE, present=1000, missing=3, percent=50) == Guard(
        present=1000, listed=997
    )


def test_accepted_hold_lets_removals_through_until_answers_are_normal() -> None:
    accepted = guard(HoldState.ACCEPTED, present=1000, missing=990, percent=50)
    assert not accepted.held
    assert not accepted.opens
    assert not accepted.closes
    assert guard(HoldState.ACCEPTED, present=10, missing=0, percent=50).closes


def test_mass_shrink_removes_nothing_and_keeps_the_counters() -> None:
    state = synced(1000)
    for poll in range(4):
        result = run(state, listing(10), hold=HoldState.ACTIVE if poll else HoldState.NONE)
        assert result.events == ()
        assert result.guard.held
        assert result.guard.opens == (poll == 0)
        state = apply(state, result.changed)
    gone = [s for s in state.values() if s.registration.client_id >= "dc-0010"]
    assert all(s.present and s.missing_polls == 4 for s in gone)


def test_rows_back_after_a_hold_announce_nothing() -> None:
    state = apply(synced(1000), run(synced(1000), listing(10)).changed)
    result = run(state, listing(1000), hold=HoldState.ACTIVE)
    assert result.events == ()
    assert result.guard.closes
    # What `poll.removal_hold_ended` logs: the whole listing and every present registration.
    assert (result.guard.listed, result.guard.present) == (1000, 1000)
    assert all(s.missing_polls == 0 for s in apply(state, result.changed).values())


def test_accepted_hold_removes_on_the_next_cycle() -> None:
    state = apply(synced(1000), run(synced(1000), listing(10)).changed)
    result = run(state, listing(10), hold=HoldState.ACCEPTED)
    assert [e.event for e in result.events] == [EventKind.REMOVED] * 990
    after = apply(state, result.changed)
    assert run(after, listing(10), hold=HoldState.ACCEPTED).guard.closes


def test_two_empty_answers_in_a_row_are_held() -> None:
    state = synced(1000)
    for hold in (HoldState.NONE, HoldState.ACTIVE):
        result = run(state, (), hold=hold)
        assert result.events == ()
        assert result.guard.held
        state = apply(state, result.changed)
    assert all(s.present for s in state.values())


def test_partial_answer_leaves_the_hold_as_it_is() -> None:
    result = diff(
        synced(100),
        Answer(listing(1), skipped=1),
        T0,
        baseline=False,
        removal_confirm_polls=1,
        hold=HoldState.ACTIVE,
        removal_hold_percent=50,
    )
    assert result.guard == Guard()


# ---- properties ---------------------------------------------------------------------------
keys = st.lists(st.integers(0, 40), max_size=40).map(lambda xs: sorted(set(xs)))


def sequence_of(answers: list[list[int]]) -> list[tuple]:
    return [tuple(reg(f"dc-{i:04d}") for i in answer) for answer in answers]


@settings(max_examples=200, deadline=None)
@given(
    first=keys,
    answers=st.lists(keys, min_size=1, max_size=6),
    percent=st.integers(1, 100),
    confirm=st.integers(1, 3),
)
def test_a_held_cycle_never_removes_and_below_the_threshold_nothing_changes(
    first: list[int], answers: list[list[int]], percent: int, confirm: int
) -> None:
    guarded = plain = {s.key: s for s in (stored(r, at=T0) for r in sequence_of([first])[0])}
    hold = HoldState.NONE
    for i, rows in enumerate(sequence_of(answers)):
        at = T0 + timedelta(minutes=i)
        with_guard = run(guarded, rows, hold=hold, percent=percent, confirm=confirm, at=at)
        without = run(plain, rows, percent=GUARD_OFF, confirm=confirm, at=at)
        if with_guard.guard.held:
            assert EventKind.REMOVED not in {e.event for e in with_guard.events}
            # Every registration held stays present, so none can "reappear" later.
            after = apply(guarded, with_guard.changed)
            assert all(after[k].present for k, s in guarded.items() if s.present)
        elif hold is HoldState.NONE and guarded == plain:
            # Below the threshold, the guard changes nothing at all.
            assert with_guard.events == without.events
            assert with_guard.changed == without.changed
        guarded = apply(guarded, with_guard.changed)
        plain = apply(plain, without.changed)
        if with_guard.guard.opens:
            hold = HoldState.ACTIVE
        elif with_guard.guard.closes:
            hold = HoldState.NONE


def test_an_accepted_hold_lets_removals_through_and_keeps_the_counts() -> None:
    decided = guard(HoldState.ACCEPTED, present=100, missing=50, percent=10)
    assert decided == Guard(held=False, opens=False, closes=False, present=100, listed=50)


def test_a_small_shrink_counts_every_present_one_and_holds_nothing() -> None:
    state = synced(100)
    result = run(state, listing(100)[6:], percent=10)  # 6 of 100 missing: 6 % is not over 10 %
    assert result.guard == Guard(present=100, listed=94)
    assert result.removals_pending == 6  # each waits for its second missing answer
    assert sorted((s.missing_polls, s.present) for s in result.changed) == [(1, True)] * 6


def test_the_partial_state_of_the_row_index_path_gives_the_same_decision() -> None:
    """`present` names every present key when `previous` holds only the rows' and the missing
    ones (app.watch.poll's fast path); the guard then counts `present`, not `previous`."""
    whole = synced(100)
    missing = {key: whole[key] for key in sorted(whole)[:6]}
    result = diff(
        missing,
        Answer(()),
        T0,
        baseline=False,
        removal_confirm_polls=2,
        removal_hold_percent=10,
        unchanged=frozenset(sorted(whole)[6:]),
        present=frozenset(whole),
    )
    assert result.guard == Guard(present=100, listed=94)
    assert result.removals_pending == 6
