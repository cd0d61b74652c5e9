"""Leadership inside the write (PostgreSQL): a leader whose lock session dies between its
last check and its commit is deposed, and its commit is refused: nothing of that cycle is
written, not even a failed poll row, and nothing is delivered. A new leader waits for a write
already past the check, so two leaders' cycles never interleave."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app.db import engine as db
from app.db.leader import FENCE_LOCK_KEY, PgLeader, Role
from app.db.tables import deliveries, poll_runs, registration_events, registrations
from app.demo.simulator import FlinksSimulator
from app.domain import Outcome
from app.watch.poll import LEADERSHIP_LOST
from tests.faults.test_outages import in_process, move
from tests.faults.upstream import seed_rows

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


@pytest.fixture
def sim() -> Iterator[FlinksSimulator]:
    rows = seed_rows(6, random.Random(9))
    with FlinksSimulator("fault-client", "fault-secret-value", rows=rows) as simulator:
        yield simulator


def _terminate_lock_session(engine: sa.Engine) -> list[bool]:
    admin = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        # Wait until the backend is gone: only then are its locks released.
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                        " WHERE application_name LIKE 'flinkswatch-leader@%'"
                        " AND datname = current_database()"
                    )
                ).scalars()
            )
    finally:
        admin.dispose()


def _counts(engine: sa.Engine) -> dict[str, int]:
    with db.reading(engine) as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in (poll_runs, registrations, registration_events, deliveries)
        }


def test_a_deposed_leaders_commit_is_refused(pg_url: str, sim: FlinksSimulator) -> None:
    app = in_process(pg_url, sim)
    try:
        assert app.leader.check() is Role.LEADER
        assert app.poller.poll_once().outcome is Outcome.OK  # the baseline, as leader
        move(sim, 0)
        before = _counts(app.engine)

        checked = app.poller.guard

        def check_then_lose_the_session() -> None:
            checked()  # the leader check passes ...
            assert _terminate_lock_session(app.engine) == [True]  # ... then the session dies

        app.poller.guard = check_then_lose_the_session
        result = app.poller.poll_once()
        assert result.outcome is Outcome.FAILED
        assert result.failure_kind == LEADERSHIP_LOST
        assert _counts(app.engine) == before, "the deposed leader's commit was refused"

        app.poller.guard = checked
        assert app.leader.check() is Role.LEADER  # a new session: leader again
        after = app.poller.poll_once()
        assert after.outcome is Outcome.OK
        assert after.events == 1, "the move is recorded once, by the leader"
    finally:
        app.close()


def test_a_new_leader_waits_for_a_write_already_past_the_fence(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    leader = PgLeader(engine)
    taken: list[Role] = []
    try:
        with engine.connect() as writer, writer.begin():
            # A deposed leader's write transaction, past its fence check, not yet committed.
            writer.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(FENCE_LOCK_KEY)))
            takeover = threading.Thread(target=lambda: taken.append(leader.check()))
            takeover.start()
            takeover.join(timeout=1.0)
            assert not taken, "the new leader must not start while that write is in flight"
        takeover.join(timeout=10)
        assert taken == [Role.LEADER]
    finally:
        leader.release()
        engine.dispose()
