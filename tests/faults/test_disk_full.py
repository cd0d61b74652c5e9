"""A database that cannot record a send (SQLite `database or disk is full`): the message that
went out is not sent again on the next cycles, the failure is counted, and once the disk has
room the send is recorded. The allowed duplicate window is one crash, not one per cycle."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from app.db import engine as db
from app.db.tables import deliveries
from app.demo.simulator import FlinksSimulator
from app.domain import Outcome
from tests.fakes.slack_server import FakeSlack, Scripted
from tests.faults.test_outages import in_process, move, slack_alerts
from tests.faults.upstream import seed_rows

pytestmark = pytest.mark.faults

_WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def disk_full(engine: sa.Engine) -> Iterator[None]:
    """Every write fails as SQLite fails it when the disk is full; reads still work."""

    def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(_WRITES):
            raise sqlite3.OperationalError("database or disk is full")

    sa.event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", refuse)


@pytest.fixture
def sim() -> Iterator[FlinksSimulator]:
    rows = seed_rows(6, random.Random(3))
    with FlinksSimulator("fault-client", "fault-secret-value", rows=rows) as simulator:
        yield simulator


def test_a_send_that_cannot_be_recorded_is_not_repeated_every_cycle(
    sqlite_url: str, sim: FlinksSimulator
) -> None:
    with FakeSlack(token="xoxb-full-token") as slack:
        app = in_process(
            sqlite_url,
            sim,
            slack_bot_token=slack.token,
            slack_channel="C0FULL",
            slack_api_url=slack.api_url,
        )
        try:
            assert app.poller.poll_once().outcome is Outcome.OK  # baseline summary, sent
            slack.wait_for(1)
            expected = Counter([move(sim, 0), move(sim, 1)])
            slack.enqueue(Scripted(503, "down"))  # the alerts stay pending
            assert app.poller.poll_once().delivery_failures == 1
            assert len(slack.received) == 1

            with disk_full(app.engine):
                full = [app.poller.poll_once() for _ in range(4)]
            # One message went out before the first failed mark; the channel then stopped. At
            # the third unrecordable cycle the watcher said, directly, that it is blind (SPEC 8).
            blind = [m for m in slack.received if "flinkswatch is blind" in m.text]
            alerts = [m for m in slack.received if m not in blind]
            assert len(alerts) == 2, "posted once, not once per cycle"
            assert len(blind) == 1
            assert "database unavailable" in blind[0].text
            assert max(slack_alerts(slack).values()) == 1
            for result in full:
                assert result.delivery_failures >= 1, "an unrecorded send is a failure"
            assert all(r.outcome is Outcome.FAILED for r in full)  # nothing could be recorded

            after = app.poller.poll_once()  # room again: the send is recorded, not repeated
            assert after.delivery_failures == 0
            assert sum("flinkswatch can see again" in m.text for m in slack.received) == 1
            assert slack_alerts(slack) == expected, "the rest once, the first not again"
            with db.reading(app.engine) as conn:
                states = Counter(conn.execute(sa.select(deliveries.c.status)).scalars())
            assert set(states) == {"sent"}
        finally:
            app.close()
