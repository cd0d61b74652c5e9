"""SPEC 8 with a real database (SQLite and PostgreSQL): the watcher says when it is blind, once
per outage whatever restarts in between, reminds, recovers, tells the other channels when one
fails, and speaks without the database when the database is what failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from app.core.blind import BlindPolicy
from app.db.outbox import Outbox
from app.db.store import Store
from app.db.tables import channel_health, deliveries, poll_runs, watcher_notices
from app.delivery import DeliveryFailure
from app.domain import BaselineSummary, Event, NoticeKind, Outcome, WatcherNotice
from app.errors import DatabaseError
from app.flinks.errors import FlinksAuthError
from app.notify.channel import Channel, Outgoing
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.integration.test_poll import T0, FakeSource, row

POLICY = BlindPolicy(after=3, repeat=timedelta(hours=24))
REJECTED = FlinksAuthError("Flinks refused the credentials: token endpoint answered 401")


@dataclass
class Recorder(Channel):
    """Keeps what it sends: notice kinds, 'summary', and event labels; fails while `down`."""

    name: str = "slack"
    min_interval: float = 0.0
    down: DeliveryFailure | None = None
    sent: list[str] = field(default_factory=list)
    notices: list[WatcherNotice] = field(default_factory=list)

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        def send() -> str | None:
            if self.down is not None:
                raise self.down
            if isinstance(summary, WatcherNotice):
                self.sent.append(str(summary.kind))
                self.notices.append(summary)
            elif summary is not None:
                self.sent.append("summary")
            self.sent += [f"{e.event}:{e.client_id}" for e in events]
            return None

        return [Outgoing(tuple(range(len(events))), summary is not None, send)]


class SwitchableStore(Store):
    """A Store whose every database call fails while `down` (the database is unavailable)."""

    down = False

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and object.__getattribute__(self, "down"):
            raise DatabaseError("cannot connect to database sqlite:///x.db: disk I/O error")
        return object.__getattribute__(self, name)


class SwitchableOutbox(Outbox):
    down = False

    def pending_deliveries(self, channel: str, now: Any, limit: int = 1000) -> Any:
        if self.down:
            raise DatabaseError("cannot connect to database sqlite:///x.db: disk I/O error")
        return super().pending_deliveries(channel, now, limit)


def poller(
    engine: sa.Engine,
    source: FakeSource,
    channels: Sequence[Channel],
    clock: FakeClock,
    policy: BlindPolicy = POLICY,
    store: Store | None = None,
    outbox: Outbox | None = None,
) -> Poller:
    return Poller(
        source=source,
        store=store or Store(engine),
        outbox=outbox or Outbox(engine),
        channels=list(channels),
        clock=clock,
        sleep=lambda _s: None,
        blind_policy=policy,
    )


def notices(engine: sa.Engine) -> list[tuple[str, str | None]]:
    n = watcher_notices.c
    with engine.connect() as conn:
        return [
            (r.kind, r.channel) for r in conn.execute(sa.select(n.kind, n.channel).order_by(n.id))
        ]


def test_five_rejected_polls_then_a_good_one_give_one_blind_and_one_recovered(
    engine: sa.Engine,
) -> None:
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    slack, email = Recorder("slack"), Recorder("email")
    watch = poller(engine, source, [slack, email], clock)
    watch.poll_once()  # baseline
    source.error = REJECTED
    for _ in range(5):
        clock.advance(minutes=5)
        assert watch.poll_once().outcome is Outcome.FAILED
    clock.advance(minutes=5)
    source.error = None
    source.rows.append(row("b", 2))
    assert watch.poll_once().outcome is Outcome.OK
    for channel in (slack, email):
        assert channel.sent == ["summary", "watcher_blind", "watcher_recovered", "added:b"]
        blind, back = channel.notices
        assert (blind.cause, blind.failures, blind.since) == (
            "flinks_auth",
            3,
            T0 + timedelta(minutes=5),
        )
        assert "401" in blind.last_error
        assert (back.since, back.count, back.failures) == (blind.since, 1, 5)
    assert notices(engine) == [("watcher_blind", None), ("watcher_recovered", None)]


def test_a_restart_in_the_middle_of_an_outage_announces_it_once(engine: sa.Engine) -> None:
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    first = Recorder("slack")
    poller(engine, source, [first], clock).poll_once()
    source.error = REJECTED
    for _ in range(4):
        clock.advance(minutes=5)
        poller(engine, source, [first], clock).poll_once()  # a process per poll, as cron runs it
    after_restart = Recorder("slack")
    restarted = poller(engine, source, [after_restart], clock)
    for _ in range(3):
        clock.advance(minutes=5)
        restarted.poll_once()
    source.error = None
    clock.advance(minutes=5)
    poller(engine, source, [after_restart], clock).poll_once()
    assert first.sent == ["summary", "watcher_blind"]
    assert after_restart.sent == ["watcher_recovered"]


def test_an_outage_is_reminded_every_blind_repeat_and_never_with_zero(engine: sa.Engine) -> None:
    for repeat, expected in ((timedelta(hours=1), 1 + 3), (timedelta(0), 1)):
        with engine.begin() as conn:
            for table in (deliveries, watcher_notices, poll_runs):
                conn.execute(sa.delete(table))
        source, clock, slack = FakeSource(error=REJECTED), FakeClock(T0), Recorder()
        watch = poller(engine, source, [slack], clock, BlindPolicy(after=2, repeat=repeat))
        for _ in range(4 * 12 - 1):  # four hours of polls every five minutes
            watch.poll_once()
            clock.advance(minutes=5)
        assert slack.sent == ["watcher_blind"] * expected
        assert [n.repeat for n in slack.notices] == [False] + [True] * (expected - 1)


def test_a_failing_channel_is_announced_on_the_others_and_its_recovery_too(
    engine: sa.Engine,
) -> None:
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    slack = Recorder(
        "slack", down=DeliveryFailure("Slack refused the token: invalid_auth", permanent=True)
    )
    email = Recorder("email")
    watch = poller(engine, source, [slack, email], clock)
    watch.poll_once()
    clock.advance(minutes=5)
    source.rows.append(row("b", 2))
    watch.poll_once()
    assert email.sent == ["summary", "channel_failing", "added:b"]
    failing = email.notices[0]
    assert (failing.channel, failing.cause, failing.count) == ("slack", "permanent", 1)
    assert "invalid_auth" in failing.last_error
    with engine.connect() as conn:
        health = conn.execute(sa.select(channel_health)).one()
    assert (health.channel, health.announced) == ("slack", True)

    clock.advance(minutes=5)
    source.rows.append(row("c", 3))
    watch.poll_once()
    assert email.sent[3:] == ["added:c"]  # announced once, not every cycle

    slack.down = None
    clock.advance(minutes=5)
    source.rows.append(row("d", 4))
    watch.poll_once()
    assert email.sent[4:] == ["added:d", "channel_recovered"]
    # Everything it owed went out when it worked again (a permanent error gives up only
    # after DELIVERY_MAX_ATTEMPTS), and the recovery says how much that was.
    assert slack.sent == ["summary", "added:b", "added:c", "added:d"]
    assert email.notices[1].count == 4
    assert notices(engine) == [("channel_failing", "slack"), ("channel_recovered", "slack")]


def test_with_the_database_down_the_blind_alert_goes_out_directly_once(engine: sa.Engine) -> None:
    store, outbox = SwitchableStore(engine), SwitchableOutbox(engine)
    source, clock, slack = FakeSource([row("a", 1)]), FakeClock(T0), Recorder()
    watch = poller(engine, source, [slack], clock, store=store, outbox=outbox)
    watch.poll_once()
    store.down = outbox.down = True
    for _ in range(6):
        clock.advance(minutes=5)
        assert watch.poll_once().failure_kind == "database"
    assert slack.sent == ["summary", "watcher_blind"]
    assert slack.notices[0].cause == "database"
    assert "disk I/O error" in slack.notices[0].last_error

    store.down = outbox.down = False
    clock.advance(minutes=5)
    assert watch.poll_once().outcome is Outcome.OK
    assert slack.sent == ["summary", "watcher_blind", "watcher_recovered"]
    assert notices(engine) == [("watcher_blind", None), ("watcher_recovered", None)]
    with engine.connect() as conn:
        told = conn.execute(
            sa.text("SELECT status FROM deliveries WHERE kind = 'watcher_blind'")
        ).scalars()
        assert list(told) == ["sent"]  # recorded as told, never sent again
    assert slack.notices[1].kind is NoticeKind.WATCHER_RECOVERED
