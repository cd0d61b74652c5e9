"""Issue 13: a body byte-identical to the last complete answer is not validated at all (the
digest is compared before any per-row work); every other answer is, with SPEC 2's rules."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from app.core.rowprints import Fetched
from app.db.outbox import Outbox
from app.db.store import Store
from app.db.tables import poll_runs
from app.domain import Answer, Outcome
from app.flinks.listing import FlinksBadAnswer, parse_answer
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.integration.test_poll import FakeChannel, row

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class LazySource:
    """Answers like FlinksClient: the rows are validated only when the cycle asks for them."""

    rows: list[dict[str, object]] = field(default_factory=list)
    validations: int = 0
    refuse: bool = False

    def fetch(self) -> Fetched:
        body = json.dumps(self.rows).encode()

        def validate() -> Answer:
            self.validations += 1
            if self.refuse:
                raise FlinksBadAnswer("Flinks answer is not a JSON array (got object)")
            return parse_answer(body)

        return Fetched(validate, hashlib.sha256(body).hexdigest(), len(body))


def _poller(engine: sa.Engine, source: LazySource) -> tuple[Poller, FakeClock]:
    clock = FakeClock(T0)
    poller = Poller(
        source=source,
        store=Store(engine),
        outbox=Outbox(engine),
        channels=[FakeChannel()],
        removal_confirm_polls=2,
        clock=clock,
        sleep=lambda _s: None,
    )
    return poller, clock


def _runs(engine: sa.Engine) -> list[tuple[str, int, int, bool]]:
    p = poll_runs.c
    stmt = sa.select(p.outcome, p.rows_seen, p.rows_skipped, p.answer_digest).order_by(p.id)
    with engine.connect() as conn:
        return [
            (o, seen, skipped, digest is not None)
            for o, seen, skipped, digest in conn.execute(stmt)
        ]


def test_an_identical_body_is_not_validated_and_is_recorded_like_the_last(
    engine: sa.Engine,
) -> None:
    source = LazySource([row("a", 1), row("b", 2), row("b", 2)])  # an identical duplicate too
    poller, clock = _poller(engine, source)
    assert poller.poll_once().outcome is Outcome.OK
    assert source.validations == 1

    clock.advance(minutes=5)
    same = poller.poll_once()
    assert source.validations == 1  # the digest matched: no row was looked at
    assert (same.outcome, same.rows, same.skipped, same.events) == (Outcome.OK, 2, 0, 0)

    clock.advance(minutes=5)
    source.rows[0] = row("a", 1, "ACTIVE")
    moved = poller.poll_once()
    assert source.validations == 2
    assert (moved.outcome, moved.rows, moved.events) == (Outcome.OK, 2, 1)
    assert _runs(engine) == [("ok", 2, 0, True)] * 3


def test_an_identical_body_after_a_partial_answer_is_validated_again(engine: sa.Engine) -> None:
    bad = {**row("c", 3), "requested_on": "yesterday"}
    source = LazySource([row("a", 1), bad])
    poller, clock = _poller(engine, source)
    for _ in range(2):
        result = poller.poll_once()
        assert (result.outcome, result.rows, result.skipped) == (Outcome.DEGRADED, 1, 1)
        clock.advance(minutes=5)
    assert source.validations == 2  # a partial answer stores no digest: never skipped
    assert _runs(engine) == [("degraded", 1, 1, False)] * 2


def test_an_identical_body_is_validated_while_a_removal_is_counted(engine: sa.Engine) -> None:
    source = LazySource([row("a", 1), row("b", 2)])
    poller, clock = _poller(engine, source)
    poller.poll_once()
    source.rows = [row("a", 1)]
    for _ in range(2):
        clock.advance(minutes=5)
        result = poller.poll_once()
    assert source.validations == 3  # b missing: the same body is diffed again, b is removed
    assert (result.outcome, result.events) == (Outcome.OK, 1)
    clock.advance(minutes=5)
    poller.poll_once()
    assert source.validations == 3  # nothing pending any more: skipped


def test_a_body_refused_when_validated_fails_the_cycle_as_a_bad_answer(engine: sa.Engine) -> None:
    source = LazySource([row("a", 1)], refuse=True)
    poller, _clock = _poller(engine, source)
    result = poller.poll_once()
    assert (result.outcome, result.failure_kind) == (Outcome.FAILED, "flinks_bad_answer")
    assert result.error == "Flinks answer is not a JSON array (got object)"
    assert _runs(engine) == [("failed", 0, 0, False)]
