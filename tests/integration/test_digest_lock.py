"""The digest job never runs beside a poll (app/watch/service.py, issue 28 item 3): a digest job
that fires while a cycle is in flight waits for the cycle's lock and only then checks the leader
lock, records and sends. The poll is held inside its fetch by an event, the job is the one the
scheduler runs at DIGEST_SCHEDULE, started by hand at that moment, and its wait for the lock is
seen by the lock itself, so nothing here waits on a clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType

from app.core.rowprints import Fetched
from app.db import engine as db
from app.db.leader import Leadership, Role
from app.db.tables import poll_runs
from tests.integration.test_digest import TextChannel, _service
from tests.integration.test_poll import FakeSource, row

DEADLINE = 30.0  # seconds; only a broken build waits this long


class WatchedLock:
    """A lock that tells when a second job had to wait for it."""

    def __init__(self, waited: threading.Event) -> None:
        self._lock = threading.Lock()
        self.waited = waited
        self.waits = 0

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            self.waits += 1
            self.waited.set()
            self._lock.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release()


@dataclass
class HeldSource(FakeSource):
    """Answers only once `release` is set; `polling` says a fetch is in flight."""

    polling: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def fetch(self) -> Fetched:
        self.polling.set()
        try:
            assert self.release.wait(DEADLINE), "the test never released the poll"
            return super().fetch()
        finally:
            self.polling.clear()


@dataclass
class WatchedLeader:
    """The service's leader lock, noting for each check whether a poll was in flight."""

    inner: Leadership
    source: HeldSource
    seen: threading.Event  # set when a check comes while a poll is in flight
    during_a_poll: list[bool] = field(default_factory=list)

    def check(self) -> Role:
        polling = self.source.polling.is_set()
        self.during_a_poll.append(polling)
        if polling:
            self.seen.set()
        return self.inner.check()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_a_digest_job_fired_during_a_poll_waits_for_the_poll_to_finish(db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    at = datetime.now(UTC) - timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(poll_runs.insert().values(started_at=at, finished_at=at, outcome="ok"))
    service = _service(engine, TextChannel(), "0 9 1 1 *")  # the scheduler never fires it here
    service.max_cycles = None
    source = HeldSource([row("a", 1)])
    service.poller.source = source
    contended = threading.Event()  # the digest job waited for the poll, or ran beside it
    leader = WatchedLeader(service.leader, source, contended)
    service.leader = leader  # type: ignore[assignment]  # the same lock, watched
    busy = WatchedLock(contended)
    service._busy = busy  # type: ignore[assignment]  # the job lock, watched
    runner = threading.Thread(target=service.run)
    digest_job = threading.Thread(target=service._digest_job)
    runner.start()
    try:
        assert source.polling.wait(DEADLINE), "the first cycle never started its fetch"
        digest_job.start()  # DIGEST_SCHEDULE fires while the poll is in flight
        assert contended.wait(DEADLINE), "the digest job neither waited nor ran"
        source.release.set()
        digest_job.join(DEADLINE)
        assert not digest_job.is_alive(), "the digest job never got the lock"
    finally:
        source.release.set()
        service.stop.set()
        runner.join(DEADLINE)
        engine.dispose()
    # At start, before the cycle, then the digest job's, after the cycle: none beside the poll.
    assert leader.during_a_poll == [False, False, False]
    assert busy.waits == 1  # the digest job waited for the poll's lock
    assert service.cycles == 1
