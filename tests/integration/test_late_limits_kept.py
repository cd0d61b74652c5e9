"""The late limits (SPEC 11) kept in the database: a cron `poll`, a new process each cycle,
reuses the limits an earlier process folded while they stand (under an hour old, same
settings) instead of folding the whole history again; after that, or with other settings, it
folds and keeps them anew. Real SQLite and PostgreSQL; each "process" a new Store and Poller."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.core.latelimits import LateLimits
from app.core.report import ProviderStats
from app.db.outbox import Outbox
from app.db.store import Store
from app.domain import Outcome
from app.errors import DatabaseError
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.integration.test_poll import T0, FakeChannel, FakeSource, row
from tests.integration.test_stuck_reminders import stuck_sent


class CountingStore(Store):
    """The real store, counting the folds of the whole history (the reads of provider_stats)."""

    folds = 0

    def provider_stats(self, now: datetime) -> tuple[ProviderStats, ...]:
        self.folds += 1
        return super().provider_stats(now)


class UnkeptStore(CountingStore):
    def keep_late_limits(self, kept: LateLimits) -> None:
        raise DatabaseError("database error on sqlite:///x.db: disk full")


def cron_poll(
    store: Store, source: FakeSource, channel: FakeChannel, clock: FakeClock, late: float = 0.9
) -> Outcome:
    """One `flinkswatch poll` process: nothing in memory from the last one."""
    watch = Poller(
        source=source,
        store=store,
        outbox=Outbox(store.engine),
        channels=[channel],
        clock=clock,
        sleep=lambda _s: None,
        stuck_after={},
        late_after=late,
        expect_min_activations=5,
    )
    return watch.poll_once().outcome


def _history(engine: sa.Engine, clock: FakeClock, channel: FakeChannel) -> FakeSource:
    """Ten of Bank 1's eleven registrations activated (k still waits), the limits then folded."""
    source = FakeSource([row(c, 1) for c in "abcdefghijk"])
    cron_poll(Store(engine), source, channel, clock)
    clock.advance(seconds=10)
    source.rows[:10] = [row(c, 1, "ACTIVE") for c in "abcdefghij"]
    cron_poll(Store(engine), source, channel, clock)
    clock.advance(hours=1)  # the first poll's limits (no activation yet) no longer stand
    folded = CountingStore(engine)
    cron_poll(folded, source, channel, clock)
    assert folded.folds == 1
    return source


def test_a_cron_poll_reuses_the_limits_an_earlier_one_folded(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    clock, channel = FakeClock(T0), FakeChannel()
    source = _history(engine, clock, channel)
    assert stuck_sent(channel) == ["stuck:k/1"]  # late, by the limits folded an hour on
    kept = Store(engine).kept_late_limits()
    assert kept is not None
    assert set(kept.limits) == {1}
    clock.advance(minutes=5)
    second = CountingStore(engine)
    with caplog.at_level(logging.INFO, logger="app.poll"):
        assert cron_poll(second, source, channel, clock) is Outcome.OK
    assert second.folds == 0  # no new fold: the kept limits were read back
    assert "poll.late_limits source=kept" in caplog.text
    assert Store(engine).kept_late_limits() == kept  # and left as they were


def test_a_cron_poll_folds_again_after_an_hour_or_with_other_settings(engine: sa.Engine) -> None:
    clock, channel = FakeClock(T0), FakeChannel()
    source = _history(engine, clock, channel)
    clock.advance(minutes=59, seconds=59)
    within = CountingStore(engine)
    cron_poll(within, source, channel, clock)
    other_settings = CountingStore(engine)
    cron_poll(other_settings, source, channel, clock, late=0.5)  # LATE_AFTER changed
    clock.advance(hours=1)
    after_an_hour = CountingStore(engine)
    cron_poll(after_an_hour, source, channel, clock, late=0.5)
    assert (within.folds, other_settings.folds, after_an_hour.folds) == (0, 1, 1)
    kept = Store(engine).kept_late_limits()
    assert kept is not None
    assert (kept.late_after, kept.computed_at) == (0.5, clock())


def test_a_clock_set_back_folds_again(engine: sa.Engine) -> None:
    clock, channel = FakeClock(T0), FakeChannel()
    source = _history(engine, clock, channel)
    clock.advance(minutes=-10)  # limits from the future: their curves belong to a later now
    back = CountingStore(engine)
    cron_poll(back, source, channel, clock)
    assert back.folds == 1


def test_the_service_folds_once_an_hour_in_memory(engine: sa.Engine) -> None:
    clock, channel = FakeClock(T0), FakeChannel()
    source = FakeSource([row(c, 1) for c in "abcdefghijk"])
    store = CountingStore(engine)
    watch = Poller(
        source=source,
        store=store,
        outbox=Outbox(engine),
        channels=[channel],
        clock=clock,
        sleep=lambda _s: None,
        stuck_after={},
        late_after=0.9,
    )
    for _ in range(4):
        watch.poll_once()
        clock.advance(minutes=20)  # polls at 0, 20, 40 and 60 minutes
    assert store.folds == 2  # at 0 and at 60 minutes


def test_limits_that_cannot_be_kept_still_serve_the_cycle(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    clock, channel = FakeClock(T0), FakeChannel()
    source = FakeSource([row(c, 1) for c in "abcdefghijk"])
    cron_poll(Store(engine), source, channel, clock)
    clock.advance(seconds=10)
    source.rows[:10] = [row(c, 1, "ACTIVE") for c in "abcdefghij"]
    cron_poll(Store(engine), source, channel, clock)
    clock.advance(hours=1)
    unkept = UnkeptStore(engine)
    with caplog.at_level(logging.WARNING, logger="app.poll"):
        assert cron_poll(unkept, source, channel, clock) is Outcome.OK
    assert stuck_sent(channel) == ["stuck:k/1"]  # reminded by the limits it folded
    assert "poll.late_limits_not_kept error=database error on sqlite:///x.db" in caplog.text
    assert unkept.folds == 1
