"""SPEC 12 acknowledgements through a real database (SQLite and PostgreSQL), with a controllable
clock: an acknowledged registration gets no stuck reminder until it moves, is removed, its
`until` passes or it is cleared, then reminders resume; a click is recorded once; a click on a
registration that moved since records nothing; history gives by, note and until."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core.routing import Filter, plan_deliveries
from app.db import acks, queries
from app.db.outbox import Outbox
from app.db.store import Store
from app.domain import ALERTED_BY_DEFAULT, EventKind
from app.notify.render import console_lines
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.integration.test_poll import T0, FakeChannel, FakeSource, row
from tests.integration.test_stuck_reminders import LIMITS, REPEAT, stuck_sent

BOTH = {"PENDING_APPROVAL": timedelta(seconds=3), "PENDING_ACTIVATION": timedelta(seconds=3)}


def poller(
    engine: sa.Engine,
    source: FakeSource,
    channel: FakeChannel,
    clock: FakeClock,
    stuck_after: dict[str, timedelta] = LIMITS,
) -> Poller:
    return Poller(
        source=source,
        store=Store(engine),
        outbox=Outbox(engine),
        channels=[channel],
        clock=clock,
        sleep=lambda _s: None,
        stuck_after=stuck_after,
        stuck_repeat=REPEAT,
    )


def seconds_reminded(watch_poll: object, channel: FakeChannel, clock: FakeClock, upto: int,
                     on: dict[int, object] | None = None) -> list[int]:  # fmt: skip
    """Poll once a second up to `upto`, running on[second]() before that second's poll."""
    seen = []
    for second in range(1, upto + 1):
        clock.advance(seconds=1)
        if on and second in on:
            on[second]()  # type: ignore[operator]
        before = len(stuck_sent(channel))
        watch_poll()  # type: ignore[operator]
        if len(stuck_sent(channel)) > before:
            seen.append(second)
    return seen


def take(engine: sa.Engine, clock: FakeClock, **kw: object) -> acks.Taken:
    request = acks.Request(key=("a", 1), by=str(kw.pop("by", "Ana")), **kw)  # type: ignore[arg-type]
    return acks.take(engine, request, clock())


def test_acknowledged_gets_no_reminder_until_cleared_then_resumes(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    watch = poller(engine, source, channel, clock)
    watch.poll_once()
    on = {2: lambda: take(engine, clock, note="calling the bank"),
          12: lambda: take(engine, clock, clear=True)}  # fmt: skip
    # Unacknowledged it would be reminded at 4 and 9; taken at 2, nothing until cleared at 12.
    assert seconds_reminded(watch.poll_once, channel, clock, 16, on) == [12]
    [taken, lifted] = queries.history(engine, queries.Filters(event="acknowledged"))
    assert (taken["by"], taken["note"], taken["until"]) == ("Ana", "calling the bank", None)
    assert lifted["until"] == lifted["observed_at"]  # a lifted one ends when it was recorded


def test_until_passes_then_reminders_resume_on_their_cadence(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    watch = poller(engine, source, channel, clock)
    watch.poll_once()
    until = T0 + timedelta(seconds=8)
    on = {1: lambda: take(engine, clock, until=until)}
    assert seconds_reminded(watch.poll_once, channel, clock, 14, on) == [8, 13]
    [event] = queries.history(engine, queries.Filters(event="acknowledged"))
    assert event["until"] == until


def test_the_acknowledgement_ends_when_the_registration_moves(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    watch = poller(engine, source, channel, clock, stuck_after=BOTH)
    watch.poll_once()

    def moves() -> None:
        source.rows[0] = row("a", 1, "PENDING_ACTIVATION")

    on = {1: lambda: take(engine, clock), 6: moves}
    # Moved at 6 (no reminder before, taken); 3 s in its new status: reminded at 10.
    assert seconds_reminded(watch.poll_once, channel, clock, 11, on) == [10]


def test_unknown_registration_records_nothing(engine: sa.Engine) -> None:
    clock = FakeClock(T0)
    taken = acks.take(engine, acks.Request(key=("nobody", 9), by="Ana"), clock())
    assert taken.outcome is acks.Outcome.UNKNOWN
    assert queries.history(engine, queries.Filters(event="acknowledged")) == []


def test_clear_of_nothing_records_nothing(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    poller(engine, source, channel, clock).poll_once()
    assert take(engine, clock, clear=True).outcome is acks.Outcome.NOT_ACKNOWLEDGED
    assert queries.history(engine, queries.Filters(event="acknowledged")) == []


def test_a_click_is_recorded_once_and_one_on_a_moved_registration_not_at_all(
    engine: sa.Engine,
) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    watch = poller(engine, source, channel, clock)
    watch.poll_once()
    seen = ("PENDING_APPROVAL", clock())
    first = take(engine, clock, action_key="slack:C1:1.5:a:1", seen=seen)
    again = take(engine, clock, by="Bob", action_key="slack:C1:1.5:a:1", seen=seen)
    assert (first.outcome, again.outcome) == (acks.Outcome.RECORDED, acks.Outcome.TAKEN)
    assert again.acknowledgement is not None
    assert again.acknowledgement.by == "Ana"
    source.rows[0] = row("a", 1, "PENDING_ACTIVATION")
    clock.advance(seconds=1)
    watch.poll_once()
    late = take(engine, clock, by="Bob", action_key="slack:C1:1.6:a:1", seen=seen)
    assert late.outcome is acks.Outcome.MOVED
    events = queries.history(engine, queries.Filters(event=EventKind.ACKNOWLEDGED.value))
    assert [e["by"] for e in events] == ["Ana"]


def test_an_acknowledgement_is_delivered_only_when_alert_events_names_it(
    engine: sa.Engine,
) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    poller(engine, source, channel, clock).poll_once()
    routes = [("slack", Filter())]

    def planner(kinds: frozenset[EventKind]) -> acks.Planner:
        return lambda event: plan_deliveries([event], routes, kinds)

    take_with = {"by": "Ana", "note": "on it"}
    acks.take(engine, acks.Request(("a", 1), **take_with), clock(), planner(ALERTED_BY_DEFAULT))
    assert Outbox(engine).pending_deliveries("slack", clock()) == []
    named = ALERTED_BY_DEFAULT | {EventKind.ACKNOWLEDGED}
    acks.take(engine, acks.Request(("a", 1), **take_with), clock(), planner(named))
    [pending] = Outbox(engine).pending_deliveries("slack", clock())
    assert pending.event is not None
    assert (pending.event.event, pending.event.by) == (EventKind.ACKNOWLEDGED, "Ana")
    assert "taken by Ana: on it" in " ".join(console_lines([pending.event]))
