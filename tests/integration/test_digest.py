"""The digest (SPEC 9) through a real database, SQLite and PostgreSQL: its content from a seeded
history with known medians, recorded once per scheduled time with its content, delivered through
the outbox with exactly that text, and a digest missed while the service was down sent once at
start across two restarts of the real Service."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.config.schedule import cron_trigger, latest_fire
from app.core.digest import Digest
from app.db import engine as db
from app.db.digests import DigestTable
from app.db.leader import leadership_for
from app.db.outbox import Outbox
from app.db.store import Store
from app.db.tables import deliveries, digests, poll_runs, watcher_notices
from app.domain import BaselineSummary, Event
from app.notify.channel import Channel, Outgoing
from app.notify.deliver import deliver_pending
from app.notify.render import email_parts
from app.watch.digestwatch import DigestWatch
from app.watch.poll import Poller
from app.watch.service import Service
from app.watch.waits import Waits
from tests.integration.test_poll import FakeSource, row
from tests.integration.test_report_history import PA, PACT, T0, _seed

D = timedelta(days=1)
NOW = T0 + 20 * D  # the seeded history's "now" (test_report_history)
SINCE = T0 + 4 * D


@dataclass
class TextChannel(Channel):
    """Keeps the text of every message it is asked to send (the email rendering)."""

    name: str = "email"
    min_interval: float = 0.0
    texts: list[str] = field(default_factory=list)
    then: Callable[[], None] = lambda: None  # called after each message

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        if not events and summary is None:
            return []
        parts = email_parts(events, summary)

        def send() -> str | None:
            self.texts.append(f"{parts.subject}\n{parts.text}")
            self.then()
            return None

        return [Outgoing(tuple(range(len(events))), summary is not None, send)]

    def digests(self) -> list[str]:
        return [text for text in self.texts if text.startswith("flinkswatch digest")]


@pytest.fixture
def seeded(db_url: str) -> Iterator[sa.Engine]:
    """test_report_history's history, plus polls and blind periods in and before the period."""
    engine = db.make_engine(db_url)
    db.migrate(engine)
    _seed(engine)  # poll 1 at T0, the events and registrations
    polls = [
        {"id": i, "started_at": at, "finished_at": at, "outcome": outcome}
        for i, at, outcome in (
            (2, T0 + D, "failed"),  # before the period
            (3, T0 + 5 * D, "ok"),
            (4, T0 + 8 * D, "failed"),
            (5, T0 + 9 * D, "failed"),
            (6, T0 + 10 * D, "ok"),
            (7, T0 + 19 * D, "degraded"),
            (8, T0 + 2 * D, "ok"),  # before the period: the first outage ended
        )
    ]
    notice = {"cause": "flinks_unavailable", "failures": 3}
    notices = [
        {**notice, "poll_id": 2, "kind": "watcher_blind", "since": T0 + D, "repeat": False},
        {**notice, "poll_id": 8, "kind": "watcher_recovered", "since": T0 + D},
        {**notice, "poll_id": 4, "kind": "watcher_blind", "since": T0 + 8 * D, "repeat": False},
        {**notice, "poll_id": 5, "kind": "watcher_blind", "since": T0 + 8 * D, "repeat": True},
        {**notice, "poll_id": 6, "kind": "watcher_recovered", "since": T0 + 8 * D},
    ]
    with engine.begin() as conn:
        conn.execute(poll_runs.insert(), polls)
        for n in notices:  # created when their poll ran
            at = next(p["started_at"] for p in polls if p["id"] == n["poll_id"])
            conn.execute(watcher_notices.insert().values(**n, created_at=at))
    yield engine
    engine.dispose()


def _watch(engine: sa.Engine, channels: Sequence[str] = ("email",)) -> DigestWatch:
    return DigestWatch(DigestTable(engine), list(channels), UTC)


def test_digest_content_from_a_seeded_history(seeded: sa.Engine) -> None:
    content = _watch(seeded).compute(NOW, since=SINCE)
    assert (content.start, content.end) == (SINCE, NOW)
    # In [T0+4d, T0+20d): a, b and c moved (4 status changes), g was removed.
    assert content.moves == (("status_changed", 4), ("removed", 1))
    # Went ACTIVE, in order: a (requested T0-10d, 15 days), c (5 days), b (6 days).
    assert [(x.client_id, x.at, x.age) for x in content.activated] == [
        ("a", T0 + 5 * D, 15 * D),
        ("c", T0 + 6 * D, 5 * D),
        ("b", T0 + 7 * D, 6 * D),
    ]
    # Pending now, longest waiting first (SPEC 11): f (requested T0-5d), e (T0+2d).
    assert [(x.client_id, x.status, x.age) for x in content.pending] == [
        ("f", PACT, 25 * D),
        ("e", PA, 18 * D),
    ]
    assert content.pending_total == 2
    # Median time to ACTIVE over the last 90 days: NBC 15, 6, 5 days -> 6; Bank B none.
    assert [(m.provider_name, m.count, m.median) for m in content.medians] == [("NBC", 3, 6 * D)]
    # The watcher: polls 3-7 in the period, two failed; one blind period (the repeat is not
    # another), recovered at the poll of T0+10d; the one that ended before the period is not.
    assert (content.polls, content.failed_polls) == (5, 2)
    assert [(b.since, b.cause, b.recovered_at) for b in content.blind] == [
        (T0 + 8 * D, "flinks_unavailable", T0 + 10 * D)
    ]


def test_an_outage_begun_before_the_period_is_in_its_record(seeded: sa.Engine) -> None:
    content = _watch(seeded).compute(T0 + 9 * D + timedelta(hours=1), since=T0 + 9 * D)
    assert [(b.since, b.recovered_at) for b in content.blind] == [(T0 + 8 * D, T0 + 10 * D)]
    assert (content.polls, content.failed_polls) == (1, 1)  # poll 5, failed


def test_the_90_days_leave_older_activations_out(seeded: sa.Engine) -> None:
    later = NOW + 90 * D  # a and c went ACTIVE more than 90 days before; b on T0+7d too
    content = _watch(seeded).compute(later, since=later - 7 * D)
    assert content.medians == ()
    assert content.quiet


def test_recorded_once_per_scheduled_time_and_delivered_with_its_own_text(
    seeded: sa.Engine,
) -> None:
    watch = _watch(seeded, ["email", "slack"])
    content = watch.compute(NOW, since=SINCE)
    fire = NOW - timedelta(minutes=1)
    digest_id = watch.record(content, fire)
    assert digest_id is not None
    assert watch.record(watch.compute(NOW + D), fire) is None  # that time is recorded already
    with seeded.connect() as conn:
        rows = conn.execute(sa.select(digests.c.fire_at, digests.c.period_start)).all()
        owed = conn.execute(
            sa.select(deliveries.c.channel, deliveries.c.kind, deliveries.c.poll_id)
            .where(deliveries.c.digest_id == digest_id)
            .order_by(deliveries.c.channel)
        ).all()
    assert [tuple(r) for r in rows] == [(fire, SINCE)]
    assert [tuple(r) for r in owed] == [("email", "digest", None), ("slack", "digest", None)]

    channel = TextChannel()
    report = deliver_pending(Outbox(seeded), [channel], now=lambda: NOW, max_attempts=3)
    assert report.sent == 1
    assert report.failed == 0
    expected = email_parts([], Digest(0, NOW, 0, (), digest_id=digest_id, content=content))
    assert channel.texts == [f"{expected.subject}\n{expected.text}"]
    assert "NBC: 6 days (3 activated, 1 still waiting)" in expected.text
    # The next digest starts where this one ended.
    assert watch.compute(NOW + 7 * D).start == NOW
    assert deliver_pending(Outbox(seeded), [channel], now=lambda: NOW, max_attempts=3).sent == 0


def _service(engine: sa.Engine, channel: TextChannel, schedule: str) -> Service:
    leader = leadership_for(engine)
    poller = Poller(
        source=FakeSource([row("a", 1)]),
        store=Store(engine, fence=leader.fence),
        outbox=Outbox(engine),
        channels=[channel],
        sleep=lambda _s: None,
    )
    watch = DigestWatch(
        DigestTable(engine, fence=leader.fence), [channel.name], UTC, cron_trigger(schedule, UTC)
    )
    return Service(poller, Waits(leader), interval=3600, digest=watch, max_cycles=1)


def test_a_missed_digest_is_sent_once_at_start_across_two_restarts(db_url: str) -> None:
    schedule = "0 9 * * MON"
    now = datetime.now(UTC)
    missed = latest_fire(cron_trigger(schedule, UTC), now)
    assert missed is not None
    previous = missed - 7 * D
    engine = db.make_engine(db_url)
    db.migrate(engine)
    with engine.begin() as conn:  # watching for a month; the digest before the missed one sent
        at = now - 30 * D
        conn.execute(poll_runs.insert().values(started_at=at, finished_at=at, outcome="ok"))
        conn.execute(
            digests.insert().values(
                period_start=previous - 7 * D,
                period_end=previous,
                fire_at=previous,
                content="{}",
                created_at=previous,
            )
        )
    try:
        # The service was down at `missed`: it starts (one cycle), stops, and starts again.
        sent = []
        for _start in range(2):
            channel = TextChannel()
            assert _service(engine, channel, schedule).run() == 0
            sent.append(channel.digests())
        assert [len(s) for s in sent] == [1, 0], sent
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(digests.c.fire_at, digests.c.period_start).order_by(digests.c.id)
            ).all()
        assert [r.fire_at for r in rows] == [previous, missed]
        assert rows[1].period_start == previous  # covers the time since the previous digest
    finally:
        engine.dispose()


def test_a_new_install_owes_no_digest_for_times_before_its_first_poll(seeded: sa.Engine) -> None:
    watch = DigestWatch(DigestTable(seeded), ["email"], UTC, cron_trigger("0 9 * * MON", UTC))
    first_poll = T0  # a Thursday: the Monday before it is not owed
    assert watch.due(first_poll + timedelta(hours=1)) is None
    assert watch.due(NOW) == latest_fire(watch.trigger, NOW)


def test_the_cron_job_sends_a_digest_at_its_time_with_the_poll_jobs_lock(db_url: str) -> None:
    """A schedule firing every second (a CronTrigger with seconds): the start's cycle sends the
    time just passed, then the digest job sends the next one itself; the service is stopped by
    the channel once it has both, so nothing here waits on a clock."""
    from apscheduler.triggers.cron import CronTrigger

    engine = db.make_engine(db_url)
    db.migrate(engine)
    at = datetime.now(UTC) - D
    with engine.begin() as conn:
        conn.execute(poll_runs.insert().values(started_at=at, finished_at=at, outcome="ok"))
    channel = TextChannel()
    service = _service(engine, channel, "* * * * *")
    service.max_cycles = None
    assert service.digest is not None
    service.digest.trigger = CronTrigger(second="*", timezone=UTC)
    service.digest.deliver = lambda: deliver_pending(
        service.poller.outbox,
        service.poller.channels,
        now=lambda: datetime.now(UTC),
        max_attempts=3,
    )

    def stop_at_the_second_digest() -> None:
        if len(channel.digests()) == 2:
            service.stop.set()

    channel.then = stop_at_the_second_digest
    try:
        assert service.run() == 0
        with engine.connect() as conn:
            query = sa.select(digests.c.fire_at).order_by(digests.c.id)
            recorded = list(conn.execute(query).scalars())
    finally:
        engine.dispose()
    assert len(channel.digests()) == 2
    assert len(recorded) == len(set(recorded)) == 2  # one digest per scheduled second
    assert recorded == sorted(recorded)
