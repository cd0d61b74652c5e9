"""Clock jumps (issue 22 item 9), with an injected clock and a real database: what was recorded
while the clock ran 30 days ahead (stuck reminders, a channel's Retry-After wait, a digest)
holds nothing back once it is back; a clock set back keeps the history in the order it was
recorded, and no duration shows negative on the board, the timeline or the report."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask.testing import FlaskClient

from app.cli.report import as_table
from app.config.schedule import cron_trigger
from app.db import queries
from app.db.digests import DigestTable
from app.db.reports import load_report
from app.db.tables import digests, poll_runs
from app.db.webreads import WebReads
from app.delivery import DeliveryFailure
from app.watch.digestwatch import FIRST_PERIOD, DigestWatch
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.site import create_app
from app.web.ui import WebUI
from tests.builders import FakeClock
from tests.integration.test_poll import T0, FakeChannel, FakeSource, row
from tests.integration.test_stuck_reminders import LIMITS, poller, stuck_sent

AHEAD = timedelta(days=30)


def test_reminders_recorded_while_the_clock_ran_ahead_silence_nothing(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    watch = poller(engine, source, channel, clock)
    watch.poll_once()  # baseline at T0
    clock.now = T0 + timedelta(seconds=4)
    watch.poll_once()  # stuck past 3 s: the first reminder
    clock.now = T0 + AHEAD
    watch.poll_once()  # the clock 30 days ahead: a reminder dated then
    assert len(stuck_sent(channel)) == 2
    seconds_with_a_reminder = []
    for second in range(10, 21):  # the clock back; REPEAT is 5 s after the one at 4 s
        clock.now = T0 + timedelta(seconds=second)
        before = len(stuck_sent(channel))
        watch.poll_once()
        if len(stuck_sent(channel)) > before:
            seconds_with_a_reminder.append(second)
    assert seconds_with_a_reminder == [10, 15, 20]


def test_a_clock_set_back_keeps_the_order_and_no_duration_is_negative(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    watch = poller(engine, source, channel, clock)
    watch.poll_once()  # baseline: PENDING_APPROVAL at T0
    clock.now = T0 + AHEAD
    source.rows[0] = row("a", 1, "PENDING_ACTIVATION")
    watch.poll_once()  # a move while the clock is 30 days ahead
    clock.now = T0 + timedelta(days=1)  # the clock comes back
    web = _web(engine, clock)
    board = web.get("/").get_data(as_text=True)
    assert re.search(r"PENDING_ACTIVATION</span><br><small>0 d", board), board
    assert not re.search(r"-\d+ d", board)

    source.rows[0] = row("a", 1, "ACTIVE")
    watch.poll_once()  # the next move, dated before the one it follows
    moves = queries.history(engine, queries.Filters(client_id="a"))
    seen = [e["to_status"] for e in moves if e["event"] != "stuck"]  # its reminders apart
    assert seen == ["PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE"]
    timeline = web.get("/r/a/1").get_data(as_text=True)
    assert not re.search(r"-\d+ (d|h|min)", timeline), timeline
    assert "0 h 0 min" in timeline  # the stretch in PENDING_ACTIVATION: 0, not -30 d
    recent = web.get("/activity").get_data(as_text=True).split("Recent events", 1)[1]
    to_statuses = re.findall(r"→ <span class=\"st [a-z-]+\">([A-Z_]+)<", recent)
    assert to_statuses == ["ACTIVE", "PENDING_ACTIVATION"]  # newest recorded first

    report = load_report(engine, clock(), LIMITS)
    spans = [s for p in report.providers for s in (p.to_active, *p.in_status.values())]
    assert all(t >= timedelta(0) for s in spans for t in (s.median, s.p90) if t is not None)
    table = as_table(report, LIMITS, UTC)
    assert not re.search(r"(?<![\d-])-\d", table), table


def _web(engine: sa.Engine, clock: FakeClock) -> FlaskClient:
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, LIMITS), Access(mode="none"), clock=clock)
    return create_app(health, Metrics(health), ui).test_client()


def test_a_channel_wait_asked_while_the_clock_ran_ahead_holds_nothing(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    watch = poller(engine, source, channel, clock)
    watch.poll_once()  # baseline
    clock.now = T0 + AHEAD
    source.rows[0] = row("a", 1, "PENDING_ACTIVATION")
    channel.down = DeliveryFailure("ratelimited", permanent=False, retry_after=60)
    watch.poll_once()  # the move; Slack asks to wait 60 s, 30 days ahead
    channel.down = None
    clock.now = T0 + AHEAD + timedelta(seconds=30)
    watch.poll_once()
    assert not moved_sent(channel)  # a real wait still holds
    clock.now = T0 + timedelta(hours=1)  # the clock back
    watch.poll_once()
    assert moved_sent(channel) == ["status_changed:a/1"]


def moved_sent(channel: FakeChannel) -> list[str]:
    return [x for message in channel.sent for x in message if x.startswith("status_changed")]


def test_a_digest_recorded_while_the_clock_ran_ahead_stands_for_no_fire(engine: sa.Engine) -> None:
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    ahead = monday + 4 * timedelta(weeks=1)
    with engine.begin() as conn:
        at = monday - 60 * timedelta(days=1)
        conn.execute(poll_runs.insert().values(started_at=at, finished_at=at, outcome="ok"))
        conn.execute(
            digests.insert().values(
                period_start=ahead - timedelta(weeks=1),
                period_end=ahead,
                fire_at=ahead,
                content="{}",
                created_at=ahead,
            )
        )
    trigger = cron_trigger("0 9 * * MON", UTC)
    watch = DigestWatch(DigestTable(engine), ["slack"], UTC, trigger)
    now = monday + timedelta(hours=1)
    assert watch.due(now) == monday  # owed, though a digest "of" 4 weeks later exists
    assert watch.compute(now).start == now - FIRST_PERIOD
