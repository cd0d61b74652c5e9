"""SPEC 9 stuck reminders through a real database (SQLite and PostgreSQL): with seconds-long
thresholds a reminder arrives once, repeats on cadence, stops when the status moves; a new
process (a restart, or cron's next `poll`) repeats none; routes and ALERT_EVENTS apply."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core.routing import Filter, parse_routes
from app.db import queries
from app.db.outbox import Outbox
from app.db.store import Store
from app.domain import ALERTED_BY_DEFAULT, EventKind, Outcome
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.integration.test_poll import T0, FakeChannel, FakeSource, row

LIMITS = {"PENDING_APPROVAL": timedelta(seconds=3)}
REPEAT = timedelta(seconds=5)


def poller(
    engine: sa.Engine, source: FakeSource, channel: FakeChannel, clock: FakeClock, **kw: object
) -> Poller:
    return Poller(
        source=source,
        store=Store(engine),
        outbox=Outbox(engine),
        channels=[channel],
        clock=clock,
        sleep=lambda _s: None,
        stuck_after=LIMITS,
        stuck_repeat=REPEAT,
        **kw,  # type: ignore[arg-type]
    )


def stuck_sent(channel: FakeChannel) -> list[str]:
    return [label for message in channel.sent for label in message if label.startswith("stuck:")]


def test_reminded_once_then_on_cadence_then_never_after_it_moves(engine: sa.Engine) -> None:
    source = FakeSource([row("a", 1), row("b", 2, "ACTIVE")])
    channel, clock = FakeChannel(), FakeClock(T0)
    watch = poller(engine, source, channel, clock)
    watch.poll_once()  # baseline at T0
    # requested a month before T0, in PENDING_APPROVAL since then (SPEC 11): stuck at once
    assert stuck_sent(channel) == ["stuck:a/1"]
    seconds_with_a_reminder = []
    for second in range(1, 15):
        clock.advance(seconds=1)
        before = len(stuck_sent(channel))
        assert watch.poll_once().outcome is Outcome.OK
        if len(stuck_sent(channel)) > before:
            seconds_with_a_reminder.append(second)
        if second == 12:
            source.rows[0] = row("a", 1, "PENDING_ACTIVATION")  # it moves: no reminder again
    # reminded at the baseline, then every 5 s while stuck; second 12 it moved
    # (PENDING_ACTIVATION has no STUCK_AFTER limit here)
    assert seconds_with_a_reminder == [5, 10]
    assert set(stuck_sent(channel)) == {"stuck:a/1"}
    history = queries.history(engine, queries.Filters(event=EventKind.STUCK.value))
    assert [(e["client_id"], e["to_status"]) for e in history] == [("a", "PENDING_APPROVAL")] * 3


def test_a_new_process_repeats_no_reminder(engine: sa.Engine) -> None:
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    first = FakeChannel()
    poller(engine, source, first, clock).poll_once()  # stuck from the first poll (SPEC 11)
    assert stuck_sent(first) == ["stuck:a/1"]
    later = FakeChannel()
    for _ in range(4):  # four more processes within STUCK_REPEAT
        clock.advance(seconds=1)
        poller(engine, source, later, clock).poll_once()
    assert stuck_sent(later) == []
    clock.advance(seconds=1)
    poller(engine, source, later, clock).poll_once()
    assert stuck_sent(later) == ["stuck:a/1"]


def test_reminders_are_recorded_but_not_sent_when_alert_events_leave_them_out(
    engine: sa.Engine,
) -> None:
    source, clock, channel = FakeSource([row("a", 1)]), FakeClock(T0), FakeChannel()
    alerted = ALERTED_BY_DEFAULT - {EventKind.STUCK}
    watch = poller(engine, source, channel, clock, alerted=alerted)
    watch.poll_once()
    clock.advance(seconds=4)
    watch.poll_once()
    assert stuck_sent(channel) == []
    assert len(queries.history(engine, queries.Filters(event="stuck"))) == 1


def test_a_route_that_does_not_match_gets_no_reminder(engine: sa.Engine) -> None:
    source, clock = FakeSource([row("a", 1), row("b", 2)]), FakeClock(T0)
    [rule] = parse_routes("client=b:#b", "slack")
    only_b = FakeChannel(name="slack:#b")
    only_b.filter = Filter(rules=(rule,), catch_all=False)
    watch = poller(engine, source, only_b, clock)
    watch.poll_once()
    clock.advance(seconds=4)
    watch.poll_once()
    assert stuck_sent(only_b) == ["stuck:b/2"]


def test_a_late_one_is_reminded_with_its_reason_and_none_below_the_minimum(
    engine: sa.Engine,
) -> None:
    """SPEC 11 through the database: ten of Bank 1's registrations activate a second apart;
    the eleventh, still waiting past the 90th percentile (S falls to 1/11 at the tenth), gets a
    `stuck` reminder that says it is late and why. Bank 2, with no activation, calls nothing
    late."""
    rows = [row(c, 1) for c in "abcdefghijk"] + [row("z", 2)]
    source, clock, channel = FakeSource(rows), FakeClock(T0), FakeChannel()
    watch = poller(engine, source, channel, clock, late_after=0.9, expect_min_activations=5)
    watch.stuck_after = {}  # only lateness here
    watch._stuck.stuck_after = {}
    watch._stuck.refresh = timedelta(0)  # fold the curves every cycle, not hourly
    watch.poll_once()
    for i, client in enumerate("abcdefghij"):
        clock.advance(seconds=1)
        source.rows[i] = row(client, 1, "ACTIVE")
        watch.poll_once()
    assert stuck_sent(channel) == []  # k waited no longer than the slowest activation yet
    clock.advance(seconds=2)
    watch.poll_once()
    assert stuck_sent(channel) == ["stuck:k/1"]
    history = queries.history(engine, queries.Filters(event=EventKind.STUCK.value))
    assert [e["client_id"] for e in history] == ["k"]
    reason = history[0]["details"]["late"][1]  # type: ignore[index]
    assert reason.startswith("slower than 90% of Bank 1's activations (median ")
    assert reason.endswith(", 10 observed)")
    clock.advance(seconds=1)
    watch.poll_once()
    assert stuck_sent(channel) == ["stuck:k/1"]  # again only after STUCK_REPEAT
