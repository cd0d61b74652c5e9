"""The rules of SPEC 8 as plain values: when the watcher is blind, reminds, recovers, and when a
channel is announced failing and recovered (app.core.blind)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.core.blind import (
    BlindPolicy,
    BlindState,
    ChannelHealth,
    ChannelTry,
    channel_health,
    on_failure,
    on_success,
)
from app.domain import NoticeKind, WatcherNotice
from tests.builders import NOW

POLICY = BlindPolicy(after=3, repeat=timedelta(hours=24))


def _fail(state: BlindState, at: int, policy: BlindPolicy = POLICY) -> BlindState:
    """One failed cycle `at` minutes after NOW, folded into the state as app.db keeps it."""
    now = NOW + timedelta(minutes=at)
    notice = on_failure(state, policy, started_at=now, now=now, cause="flinks_auth", error="401")
    state = replace(state, failures=state.failures + 1, since=state.since or now)
    if notice is not None:
        return replace(state, announced=notice, announced_at=now)
    return state


def test_no_notice_before_the_threshold() -> None:
    state = BlindState(failures=1, since=NOW)
    assert on_failure(state, POLICY, started_at=NOW, now=NOW, cause="database", error="x") is None


def test_blind_at_the_threshold_says_since_the_first_failure_and_why() -> None:
    first = NOW - timedelta(minutes=10)
    state = BlindState(failures=2, since=first)
    notice = on_failure(state, POLICY, started_at=NOW, now=NOW, cause="flinks_auth", error="401")
    assert notice is not None
    assert (notice.kind, notice.since, notice.cause, notice.failures) == (
        NoticeKind.WATCHER_BLIND,
        first,
        "flinks_auth",
        3,
    )
    assert notice.last_error == "401"
    assert not notice.repeat


def test_announced_once_then_reminded_every_repeat() -> None:
    state = BlindState()
    announcements = []
    for minute in range(0, 60 * 50, 5):  # 50 hours of failures every five minutes
        before = state.announced_at
        state = _fail(state, minute)
        if state.announced_at != before:
            announcements.append(minute)
    # the third failure (minute 10), then 24 h after, then 48 h after
    assert announcements == [10, 10 + 24 * 60, 10 + 48 * 60]


def test_repeat_zero_never_reminds() -> None:
    policy = BlindPolicy(after=1, repeat=timedelta(0))
    state = BlindState()
    times = set()
    for minute in range(0, 60 * 72, 60):
        state = _fail(state, minute, policy)
        times.add(state.announced_at)
    assert times == {NOW}


def test_recovered_only_after_an_announced_outage() -> None:
    assert on_success(BlindState(failures=2, since=NOW), now=NOW, changes=4) is None
    state = BlindState()
    for minute in (0, 5, 10, 15):
        state = _fail(state, minute)
    back = NOW + timedelta(hours=2)
    notice = on_success(state, now=back, changes=4)
    assert notice is not None
    assert notice.kind is NoticeKind.WATCHER_RECOVERED
    assert (notice.since, notice.count, notice.failures) == (NOW, 4, 4)


@given(st.lists(st.booleans(), max_size=60), st.integers(min_value=1, max_value=5))
def test_every_announced_outage_recovers_exactly_once(cycles: list[bool], after: int) -> None:
    """A run of cycles (True: good): each outage of `after` or more failures is announced once
    (the repeat is longer than the run) and recovered once, when the next good cycle comes."""
    policy = BlindPolicy(after=after, repeat=timedelta(days=365))
    state, blind, recovered, expected = BlindState(), 0, 0, 0
    streak = 0
    for i, good in enumerate(cycles):
        now = NOW + timedelta(minutes=i)
        if good:
            if on_success(state, now=now, changes=0) is not None:
                recovered += 1
            expected += streak >= after
            state, streak = BlindState(), 0
            continue
        streak += 1
        notice = on_failure(state, policy, started_at=now, now=now, cause="database", error="e")
        blind += notice is not None
        state = replace(state, failures=state.failures + 1, since=state.since or now)
        if notice is not None:
            state = replace(state, announced=notice, announced_at=now)
    assert recovered == expected
    assert blind == expected + (streak >= after)


# ---- channels --------------------------------------------------------------------------


def test_a_permanent_failure_is_announced_at_once_with_what_waits() -> None:
    tried = ChannelTry("slack", failed=1, permanent=True, error="invalid_auth", waiting=7)
    health, notice = channel_health(ChannelHealth("slack"), tried, now=NOW, after=3)
    assert notice is not None
    assert (notice.kind, notice.channel, notice.count, notice.cause) == (
        NoticeKind.CHANNEL_FAILING,
        "slack",
        7,
        "permanent",
    )
    assert health.announced
    assert health.since == NOW


def test_transient_failures_are_announced_after_the_threshold_once() -> None:
    health = ChannelHealth("email")
    notices = []
    for minute in range(6):
        tried = ChannelTry("email", failed=1, error="connection refused", waiting=2)
        now = NOW + timedelta(minutes=minute)
        health, notice = channel_health(health, tried, now=now, after=3)
        notices.append(notice)
    assert [n is not None for n in notices] == [False, False, True, False, False, False]
    assert health.failing_cycles == 6
    assert health.since == NOW


def test_recovery_is_announced_only_after_an_announced_failure() -> None:
    quiet = ChannelHealth("email", failing_cycles=1, since=NOW, last_error="x")
    health, notice = channel_health(quiet, ChannelTry("email", sent=1), now=NOW, after=3)
    assert notice is None
    assert health == ChannelHealth("email")
    loud = replace(quiet, announced=True)
    health, notice = channel_health(loud, ChannelTry("email", sent=2), now=NOW, after=3)
    assert notice is not None
    assert notice.kind is NoticeKind.CHANNEL_RECOVERED
    assert notice.since == NOW
    assert health == ChannelHealth("email")


def test_a_cycle_that_tried_nothing_changes_nothing() -> None:
    health = ChannelHealth("email", failing_cycles=2, since=NOW, announced=True)
    assert channel_health(health, ChannelTry("email"), now=NOW, after=3) == (health, None)


# ---- the whole notice, every field (the mutation pass of docs/mutation.md) -------------------
H = timedelta(hours=1)


def test_the_blind_notice_its_reminder_and_the_recovery_in_full() -> None:
    first = NOW - 2 * H
    state = BlindState(failures=2, since=first)
    blind = on_failure(state, POLICY, started_at=NOW, now=NOW, cause="flinks_auth", error="401")
    assert blind == WatcherNotice(
        0, NOW, 0, (), NoticeKind.WATCHER_BLIND, first, "flinks_auth", "401", failures=3
    )
    later = NOW + 25 * H
    announced = BlindState(failures=9, since=first, announced=blind, announced_at=NOW)
    reminder = on_failure(announced, POLICY, started_at=later, now=later, cause="x", error="500")
    assert reminder == WatcherNotice(
        0, later, 0, (), NoticeKind.WATCHER_BLIND, first, "x", "500", failures=10, repeat=True
    )
    recovered = on_success(announced, now=later, changes=4)
    assert recovered == WatcherNotice(
        0, later, 0, (), NoticeKind.WATCHER_RECOVERED, first, "flinks_auth", "401", 9, count=4
    )


def test_a_reminder_keeps_the_outage_start_the_announcement_gave() -> None:
    announced_since = NOW - 5 * H
    blind = WatcherNotice(0, NOW, 0, (), since=announced_since)
    state = BlindState(failures=5, since=None, announced=blind, announced_at=NOW - 30 * H)
    reminder = on_failure(state, POLICY, started_at=NOW, now=NOW, cause="c", error="e")
    assert reminder is not None
    assert (reminder.since, reminder.repeat) == (announced_since, True)
    unknown_start = replace(state, announced=replace(blind, since=None))
    reminder = on_failure(unknown_start, POLICY, started_at=NOW, now=NOW, cause="c", error="e")
    assert reminder is not None
    assert reminder.since == NOW  # this cycle's start, the earliest it knows


def test_the_channel_notices_in_full() -> None:
    health = ChannelHealth("slack", failing_cycles=1, since=NOW - H, last_error="old")
    tried = ChannelTry("slack", failed=2, permanent=True, error="invalid_auth", waiting=7)
    record, failing = channel_health(health, tried, now=NOW, after=3)
    assert record == ChannelHealth("slack", 2, NOW - H, "invalid_auth", announced=True)
    assert failing == WatcherNotice(
        0,
        NOW,
        0,
        (),
        NoticeKind.CHANNEL_FAILING,
        NOW - H,
        "permanent",
        "invalid_auth",
        failures=2,
        count=7,
        channel="slack",
    )
    transient = ChannelTry("email", failed=1, error="timeout", waiting=2)
    record, failing = channel_health(ChannelHealth("email", 2), transient, now=NOW, after=3)
    assert record == ChannelHealth("email", 3, NOW, "timeout", announced=True)
    assert failing == WatcherNotice(
        0, NOW, 0, (), NoticeKind.CHANNEL_FAILING, NOW, "failing", "timeout", 3, 2, "email"
    )
    back = ChannelTry("email", sent=5)
    record, recovered = channel_health(failing_record := record, back, now=NOW + H, after=3)
    assert record == ChannelHealth("email")
    assert recovered == WatcherNotice(
        0,
        NOW + H,
        0,
        (),
        NoticeKind.CHANNEL_RECOVERED,
        failing_record.since,
        "",
        "timeout",
        3,
        5,
        "email",
    )


def test_no_reminder_at_the_instant_of_the_announcement_nor_before_its_repeat() -> None:
    """The repeat window is [announced_at, announced_at + BLIND_REPEAT): a second failure
    recorded at the same instant as the announcement repeats nothing; one a repeat later does."""
    blind = WatcherNotice(0, NOW, 0, (), since=NOW - H)
    state = BlindState(failures=3, since=NOW - H, announced=blind, announced_at=NOW)
    for at in (NOW, NOW + 24 * H - timedelta(seconds=1)):
        assert on_failure(state, POLICY, started_at=at, now=at, cause="c", error="e") is None
    at = NOW + 24 * H
    reminder = on_failure(state, POLICY, started_at=at, now=at, cause="c", error="e")
    assert reminder is not None
    assert reminder.repeat
