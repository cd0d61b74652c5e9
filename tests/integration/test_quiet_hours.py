"""SPEC 9 quiet hours through a real database (SQLite and PostgreSQL): alerts recorded at once
but held, breakthrough kinds sent at once, and one catch-up message per channel, in order,
when the window ends; a restart in between loses and doubles nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.quiet import QuietHours, parse_quiet_hours
from app.db import queries
from app.db.outbox import Outbox
from app.db.store import Store
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.integration.test_poll import FakeChannel, FakeSource, row

TORONTO = ZoneInfo("America/Toronto")
# 2026-12-02 21:55 in Toronto (EST, UTC-5): five minutes before a 22:00-07:00 window.
EVENING = datetime(2026, 12, 3, 2, 55, tzinfo=UTC)
QUIET = QuietHours(parse_quiet_hours("22:00-07:00"), TORONTO, frozenset({"backward", "watcher"}))


def poller(engine: sa.Engine, source: FakeSource, channel: FakeChannel, clock: FakeClock) -> Poller:
    return Poller(
        source=source,
        store=Store(engine),
        outbox=Outbox(engine),
        channels=[channel],
        clock=clock,
        sleep=lambda _s: None,
        quiet=QUIET,
    )


def test_held_overnight_sent_as_one_catch_up_in_order_backward_breaks_through(
    engine: sa.Engine,
) -> None:
    source = FakeSource([row("a", 1), row("b", 2, "ACTIVE")])
    channel, clock = FakeChannel(), FakeClock(EVENING)
    poller(engine, source, channel, clock).poll_once()  # baseline, before the window
    assert channel.sent == [("summary:2",)]

    clock.advance(minutes=10)  # 22:05: quiet
    source.rows[0] = row("a", 1, "PENDING_ACTIVATION")
    source.rows.append(row("c", 3))
    poller(engine, source, channel, clock).poll_once()
    clock.advance(hours=3)  # 01:05
    source.rows[1] = row("b", 2, "PENDING_APPROVAL")  # backward: breaks through
    poller(engine, source, channel, clock).poll_once()
    clock.advance(hours=3)  # 04:05
    source.rows[0] = row("a", 1, "ACTIVE")
    poller(engine, source, channel, clock).poll_once()  # a restart: a new process each time
    assert channel.sent == [("summary:2",), ("status_changed:b/2",)]
    assert len(queries.history(engine, queries.Filters())) == 2 + 4  # recorded at once

    clock.advance(hours=3)  # 07:05: the window has ended
    poller(engine, source, channel, clock).poll_once()
    # One message (the fake labels the catch-up by its count of held alerts), in order.
    assert channel.sent[2:] == [
        ("summary:3", "status_changed:a/1", "added:c/3", "status_changed:a/1")
    ]

    clock.advance(minutes=5)
    source.rows.append(row("d", 4))
    poller(engine, source, channel, clock).poll_once()
    assert channel.sent[3:] == [("added:d/4",)]  # after it, alerts go out as usual
