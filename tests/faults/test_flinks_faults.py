"""Flinks misbehaving, through the simulator over real HTTP: timeouts, resets, 5xx storms, 429,
the token endpoint down or a token revoked, truncated, huge and partial answers. A failed cycle
changes nothing but its poll_runs row; what moved meanwhile is recorded once on the next one."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
import stamina

from app.config.settings import load_settings
from app.db import engine as db
from app.db import holds
from app.db.tables import registration_events, registrations
from app.demo.simulator import FlinksSimulator, bulk_rows
from app.domain import Outcome
from app.wiring import App, build_app
from tests.faults.test_outages import move
from tests.faults.upstream import seed_rows

pytestmark = pytest.mark.faults


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    """Retries stay bounded (4 attempts) but do not wait: the behaviour, not the clock."""
    with stamina.set_testing(True, attempts=4):
        yield


@pytest.fixture
def sim() -> Iterator[FlinksSimulator]:
    rows = seed_rows(10, random.Random(11))
    with FlinksSimulator("fault-client", "fault-secret-value", rows=rows) as simulator:
        yield simulator


@pytest.fixture
def app(sqlite_url: str, sim: FlinksSimulator) -> Iterator[App]:
    built = build_app(
        load_settings(
            stuck_after="",  # the seeded rows were requested weeks ago: no reminders here
            late_after="",
            database_url=sqlite_url,
            flinks_client_id="fault-client",
            flinks_client_secret="fault-secret-value",
            flinks_base_url=sim.base_url,
            flinks_token_url=sim.token_url,
            flinks_timeout_seconds=0.5,
            removal_confirm_polls=2,
        )
    )
    try:
        assert built.poller.poll_once().outcome is Outcome.OK  # the baseline
        yield built
    finally:
        built.close()


def events(app: App, kind: str | None = None) -> list[tuple[Any, ...]]:
    e = registration_events.c
    stmt = sa.select(e.event, e.client_id, e.from_status, e.to_status).where(e.event != "baseline")
    if kind is not None:
        stmt = stmt.where(e.event == kind)
    with db.reading(app.engine) as conn:
        return [tuple(row) for row in conn.execute(stmt.order_by(e.id))]


def present(app: App) -> int:
    r = registrations.c
    stmt = sa.select(sa.func.count()).where(r.present.is_(True), r.missing_polls == 0)
    with db.reading(app.engine) as conn:
        return int(conn.execute(stmt).scalar_one())


def _storm(sim: FlinksSimulator) -> None:
    for status in (500, 502, 503, 504):
        sim.fail_next(1, status)


def _token_down(sim: FlinksSimulator) -> None:
    sim.revoke_tokens()  # so a new token is needed
    sim.fail_next(4, 503, path="token")


def _refused(sim: FlinksSimulator) -> None:
    sim.revoke_tokens()
    sim.fail_next(1, 400, b'{"error":"invalid_client"}', path="token")


FAULTS: dict[str, tuple[Callable[[FlinksSimulator], None], str]] = {
    "timeouts": (lambda s: s.delay_next(2.0, n=4), "flinks_unavailable"),
    "connection resets": (lambda s: s.fail_next(4, 0), "flinks_unavailable"),
    "5xx storm": (_storm, "flinks_unavailable"),
    "429 storm": (
        lambda s: s.fail_next(4, 429, b"slow down", {"Retry-After": "1"}),
        "flinks_unavailable",
    ),
    "token endpoint down": (_token_down, "flinks_unavailable"),
    "credentials refused": (_refused, "flinks_auth"),
    "truncated JSON": (
        lambda s: s.set_raw_body(json.dumps(s.rows).encode()[:-40]),
        "flinks_bad_answer",
    ),
    "not an array": (lambda s: s.set_raw_body(b'{"message": "maintenance"}'), "flinks_bad_answer"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failed_fetch_changes_nothing_and_the_next_cycle_catches_up(
    app: App, sim: FlinksSimulator, fault: str
) -> None:
    inject, kind = FAULTS[fault]
    moved = move(sim, 0)
    inject(sim)
    failed = app.poller.poll_once()
    assert failed.outcome is Outcome.FAILED
    assert failed.failure_kind == kind
    assert "fault-secret-value" not in (failed.error or "")
    assert events(app) == []
    assert present(app) == 10, "no absence counted from a failed answer"

    sim.set_raw_body(None)
    recovered = app.poller.poll_once()
    assert recovered.outcome is Outcome.OK
    assert events(app) == [(moved[0], moved[1], moved[3], moved[4])]
    assert present(app) == 10


def test_429_with_retry_after_is_retried_within_the_cycle(
    app: App, sim: FlinksSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    move(sim, 1)
    sim.fail_next(1, 429, b"", {"Retry-After": "1"})
    before = sim.listing_requests
    with caplog.at_level(logging.WARNING):
        result = app.poller.poll_once()
    assert result.outcome is Outcome.OK
    assert result.events == 1
    assert sim.listing_requests - before == 2
    assert any(
        "status=429" in r.getMessage() and "retry_after=1.0" in r.getMessage()
        for r in caplog.records
    )


def test_token_revoked_mid_run_is_renewed_once(app: App, sim: FlinksSimulator) -> None:
    tokens = sim.token_requests
    sim.revoke_tokens()
    moved = move(sim, 2)
    result = app.poller.poll_once()
    assert result.outcome is Outcome.OK
    assert sim.token_requests == tokens + 1
    assert events(app) == [(moved[0], moved[1], moved[3], moved[4])]


def test_one_empty_answer_between_full_ones_removes_nothing(app: App, sim: FlinksSimulator) -> None:
    rows = sim.rows
    sim.set_rows([])
    assert app.poller.poll_once().outcome is Outcome.OK
    sim.set_rows(rows)
    assert app.poller.poll_once().outcome is Outcome.OK
    assert events(app) == []
    assert present(app) == 10, "every absence counter was reset"


def test_answer_missing_most_rows_is_held_until_accepted_and_said_once(
    app: App, sim: FlinksSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """9 of 10 missing is a mass shrink (SPEC 2, REMOVAL_HOLD_PERCENT=50): held, one new hold
    however many cycles repeat it, then removed once `accept-removals` lifted it."""
    sim.set_rows(sim.rows[:1])
    with caplog.at_level(logging.WARNING, logger="app.watch.poll"):
        for _ in range(3):
            assert app.poller.poll_once().outcome is Outcome.OK
    assert events(app, "removed") == [], "held, not concluded"
    held = [r.getMessage() for r in caplog.records if "poll.removals_held" in r.getMessage()]
    assert [m for m in held if "new_hold=True" in m] == [held[0]]
    assert "poll.removals_pending" not in caplog.text
    lifted = holds.accept(app.engine, datetime.now(UTC), confirm_polls=2)
    assert lifted is not None
    assert (lifted.next_cycle, lifted.later) == (9, 0)
    assert app.poller.poll_once().outcome is Outcome.OK
    assert len(events(app, "removed")) == 9
    assert app.poller.poll_once().outcome is Outcome.OK
    assert len(events(app, "removed")) == 9, "concluded once"


def test_huge_answer_is_handled_in_one_cycle(sqlite_url: str) -> None:
    rows = bulk_rows(30_000, seed=3)
    rows[0]["client_name"] = "x" * 1_000_000  # one absurd value among many rows
    with FlinksSimulator("fault-client", "fault-secret-value", rows=rows) as sim:
        app = build_app(
            load_settings(
                stuck_after="",  # the seeded rows were requested weeks ago: no reminders here
                late_after="",
                database_url=sqlite_url,
                flinks_client_id="fault-client",
                flinks_client_secret="fault-secret-value",
                flinks_base_url=sim.base_url,
                flinks_token_url=sim.token_url,
            )
        )
        try:
            started = time.monotonic()
            baseline = app.poller.poll_once()
            assert baseline.outcome is Outcome.OK
            assert baseline.rows == 30_000
            moved = move(sim, 5)
            assert app.poller.poll_once().events == 1
            assert events(app) == [(moved[0], moved[1], moved[3], moved[4])]
            assert time.monotonic() - started < 60
        finally:
            app.close()
