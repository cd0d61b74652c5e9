"""The poll cycle with a real database: what is recorded, delivered, and left after a failure."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.rowprints import Fetched
from app.db import engine as db
from app.db import queries
from app.db.outbox import Outbox
from app.db.store import Store
from app.delivery import DeliveryFailure
from app.domain import Answer, BaselineSummary, Event, Outcome
from app.flinks.client import FlinksUnavailable
from app.flinks.listing import parse_answer
from app.notify.channel import Channel, Outgoing
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.unit.test_poison_rows import hostile_rows

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def row(client: str, provider: int, status: str = "PENDING_APPROVAL") -> dict[str, object]:
    return {
        "client_id": client,
        "client_name": f"Client {client}",
        "provider_id": provider,
        "provider_name": f"Bank {provider}",
        "country": "CA",
        "registration_status": status,
        "requested_on": "2026-10-01T10:00:00.1234567Z",
    }


@dataclass
class FakeSource:
    """Answers with the rows it holds, or raises the error it was given."""

    rows: list[dict[str, object]] = field(default_factory=list)
    error: Exception | None = None

    def fetch(self) -> Fetched:
        if self.error is not None:
            raise self.error
        body = json.dumps(self.rows).encode()
        return Fetched(parse_answer(body), hashlib.sha256(body).hexdigest(), len(body))


@dataclass
class FakeChannel(Channel):
    """Collects what it was asked to send; fails while `down` is set."""

    name: str = "slack"
    min_interval: float = 0.0
    down: DeliveryFailure | None = None
    sent: list[tuple[str, ...]] = field(default_factory=list)

    def render(self, events: Sequence[Event], summary: BaselineSummary | None) -> list[Outgoing]:
        labels = tuple(f"{e.event}:{e.client_id}/{e.provider_id}" for e in events)
        if summary is not None:
            labels = (f"summary:{summary.total}", *labels)

        def send() -> str | None:
            if self.down is not None:
                raise self.down
            self.sent.append(labels)
            return None

        return [Outgoing(tuple(range(len(events))), summary is not None, send)]


def make_poller(
    engine: sa.Engine, source: FakeSource, channel: FakeChannel, clock: FakeClock
) -> Poller:
    return Poller(
        source=source,
        store=Store(engine),
        outbox=Outbox(engine),
        channels=[channel],
        removal_confirm_polls=2,
        clock=clock,
        sleep=lambda _s: None,
    )


def events(engine: sa.Engine) -> list[tuple[str, str, int]]:
    return [
        (e["event"], str(e["client_id"]), int(str(e["provider_id"])))
        for e in queries.history(engine, queries.Filters())
    ]


def test_baseline_then_one_alert_per_change_then_silence(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1), row("b", 2)]), FakeChannel(), FakeClock(T0)
    poller = make_poller(engine, source, channel, clock)

    assert poller.poll_once().outcome is Outcome.OK
    assert channel.sent == [("summary:2",)]

    clock.advance(minutes=5)
    source.rows[0] = row("a", 1, "PENDING_ACTIVATION")
    result = poller.poll_once()
    assert (result.outcome, result.events, result.delivered) == (Outcome.OK, 1, 1)
    assert channel.sent[1:] == [("status_changed:a/1",)]

    clock.advance(minutes=5)
    quiet = poller.poll_once()
    assert (quiet.events, quiet.delivered) == (0, 0)
    assert len(channel.sent) == 2


def test_identical_answers_still_conclude_a_pending_removal(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1), row("b", 2)]), FakeChannel(), FakeClock(T0)
    poller = make_poller(engine, source, channel, clock)
    poller.poll_once()
    source.rows = [row("a", 1)]
    for _ in range(3):  # the same bytes three times: the second one confirms the removal
        clock.advance(minutes=5)
        poller.poll_once()
    assert events(engine)[-1] == ("removed", "b", 2)
    assert [e for e in events(engine) if e[0] == "removed"] == [("removed", "b", 2)]
    assert channel.sent[-1] == ("removed:b/2",)


def test_failed_fetch_records_nothing_but_still_retries_deliveries(engine: sa.Engine) -> None:
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    channel = FakeChannel(down=DeliveryFailure("Slack is down", permanent=False))
    poller = make_poller(engine, source, channel, clock)
    poller.poll_once()
    assert channel.sent == []
    assert Outbox(engine).delivery_counts() == {("slack", "pending"): 1}

    clock.advance(minutes=5)
    channel.down = None
    source.error = FlinksUnavailable(
        "Flinks unavailable: GET /api/v1/recipients/providers/requests 503"
    )
    result = poller.poll_once()
    assert result.outcome is Outcome.FAILED
    assert result.failure_kind == "flinks_unavailable"
    assert channel.sent == [("summary:1",)]  # delivered although the fetch failed
    assert events(engine) == [("baseline", "a", 1)]


def test_alerts_owed_by_a_dead_process_are_sent_by_the_next_one(engine: sa.Engine) -> None:
    source, clock = FakeSource([row("a", 1)]), FakeClock(T0)
    make_poller(engine, source, FakeChannel(), clock).poll_once()
    source.rows.append(row("b", 2))
    # The first process records the cycle, then dies before delivering anything.
    doomed = FakeChannel(down=DeliveryFailure("killed", permanent=False))
    make_poller(engine, source, doomed, clock).poll_once()
    survivor = FakeChannel()
    make_poller(engine, FakeSource(source.rows), survivor, clock).poll_once()
    assert survivor.sent == [("added:b/2",)]


def test_database_down_fails_the_cycle_without_raising(engine: sa.Engine) -> None:
    broken = db.make_engine("postgresql+psycopg://nobody:pw@127.0.0.1:1/none?connect_timeout=1")
    source, channel = FakeSource([row("a", 1)]), FakeChannel()
    result = make_poller(broken, source, channel, FakeClock(T0)).poll_once()
    assert result.outcome is Outcome.FAILED
    assert result.failure_kind == "database"
    assert "cannot connect to database" in (result.error or "")
    assert ":pw@" not in (result.error or "")
    assert channel.sent == []


def test_degraded_answer_records_valid_rows_and_reports_skips(engine: sa.Engine) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    poller = make_poller(engine, source, channel, clock)
    poller.poll_once()
    clock.advance(minutes=5)
    source.rows = [row("b", 2), {**row("a", 1), "requested_on": "yesterday"}]
    result = poller.poll_once()
    assert (result.outcome, result.skipped, result.events) == (Outcome.DEGRADED, 1, 1)
    assert events(engine) == [("baseline", "a", 1), ("added", "b", 2)]


def test_a_cycle_that_lost_leadership_writes_and_sends_nothing(engine: sa.Engine) -> None:
    from app.db.store import Store
    from app.domain import Interrupted

    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    poller = make_poller(engine, source, channel, clock)

    def lost() -> None:
        raise Interrupted("leader lock lost during the cycle")

    poller.guard = lost
    result = poller.poll_once()
    assert (result.outcome, result.failure_kind) == (Outcome.FAILED, "leadership")
    assert events(engine) == []
    assert Store(engine).last_poll() is None  # not even a failed poll row
    assert channel.sent == []


def test_state_kept_between_cycles_is_dropped_when_another_process_wrote(
    engine: sa.Engine,
) -> None:
    """A replica that took over and wrote polls: our remembered state is stale, read it back."""
    clock = FakeClock(T0)
    mine = make_poller(engine, FakeSource([row("a", 1)]), FakeChannel(), clock)
    mine.poll_once()
    clock.advance(minutes=5)
    other = make_poller(
        engine, FakeSource([row("a", 1, "PENDING_ACTIVATION")]), FakeChannel(), clock
    )
    assert other.poll_once().events == 1
    clock.advance(minutes=5)
    # A different answer (so no identical-answer shortcut): only b is new.
    mine.source = FakeSource([row("a", 1, "PENDING_ACTIVATION"), row("b", 2)])
    assert mine.poll_once().events == 1  # not a second status_changed from a stale memory
    assert events(engine) == [
        ("baseline", "a", 1),
        ("status_changed", "a", 1),
        ("added", "b", 2),
    ]


def test_remembered_state_survives_a_failed_write(engine: sa.Engine) -> None:
    """A cycle whose write failed changed nothing: the next one diffs against the same state."""
    from app.domain import Interrupted

    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    poller = make_poller(engine, source, channel, clock)
    poller.poll_once()
    source.rows = [row("a", 1, "ACTIVE")]

    def refuse() -> None:
        raise Interrupted("leader lock lost during the cycle")

    poller.guard = refuse
    assert poller.poll_once().failure_kind == "leadership"
    poller.guard = lambda: None
    assert poller.poll_once().events == 1
    assert [e[0] for e in events(engine)] == ["baseline", "status_changed"]


# ---- issue 14, hostile days: one row never stops the others, on both databases ------------------


@pytest.mark.parametrize("requested_on", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_row_with_an_unrepresentable_date_is_skipped_not_fatal(
    engine: sa.Engine, requested_on: str
) -> None:
    source, channel, clock = FakeSource([row("a", 1)]), FakeChannel(), FakeClock(T0)
    poller = make_poller(engine, source, channel, clock)
    poller.poll_once()
    clock.advance(minutes=5)
    source.rows = [row("a", 1, "ACTIVE"), {**row("poison", 9), "requested_on": requested_on}]

    result = poller.poll_once()

    assert (result.outcome, result.skipped, result.events) == (Outcome.DEGRADED, 1, 1)
    assert events(engine) == [("baseline", "a", 1), ("status_changed", "a", 1)]
    assert channel.sent[-1] == ("status_changed:a/1",)


@given(items=st.lists(hostile_rows(), min_size=1, max_size=5))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_hostile_rows_make_a_cycle_ok_or_degraded_and_are_stored_as_parsed(
    engine: sa.Engine, items: list[dict[str, Any]]
) -> None:
    """Every parsed row is storable: the cycle that stores it never fails (one database for all
    examples, so later examples also update what earlier ones stored)."""
    source = FakeSource([row("anchor", 1), *items])
    expected = source.fetch().answer.rows

    result = make_poller(engine, source, FakeChannel(), FakeClock(T0)).poll_once()

    assert result.outcome in (Outcome.OK, Outcome.DEGRADED), result.error
    state = Store(engine).load_state()
    for parsed in expected:
        assert state[parsed.key].registration == parsed
        assert state[parsed.key].present


def test_conflicting_duplicates_leave_the_stored_state_of_their_key_untouched(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    source, channel, clock = FakeSource([row("a", 1), row("b", 2)]), FakeChannel(), FakeClock(T0)
    poller = make_poller(engine, source, channel, clock)
    poller.poll_once()
    before = Store(engine).load_state()[("a", 1)]
    clock.advance(minutes=5)
    caplog.set_level(logging.WARNING, logger="app.flinks")
    source.rows = [row("a", 1, "ACTIVE"), row("b", 2, "ACTIVE"), row("a", 1, "PENDING_ACTIVATION")]

    for _ in range(3):  # and again: an absent-by-conflict key is never counted toward a removal
        result = poller.poll_once()
        assert (result.outcome, result.skipped) == (Outcome.DEGRADED, 2)
        clock.advance(minutes=5)

    assert Store(engine).load_state()[("a", 1)] == before
    assert events(engine) == [
        ("baseline", "a", 1),
        ("baseline", "b", 2),
        ("status_changed", "b", 2),
    ]
    conflicts = [r.getMessage() for r in caplog.records if "conflicting_rows" in r.getMessage()]
    assert len(conflicts) == 3
    assert "key=a/1 rows=2 statuses=ACTIVE,PENDING_ACTIVATION" in conflicts[0]

    clock.advance(minutes=5)
    source.rows = [row("a", 1, "ACTIVE"), row("b", 2, "ACTIVE")]  # Flinks makes up its mind
    assert poller.poll_once().outcome is Outcome.OK
    assert events(engine)[-1] == ("status_changed", "a", 1)


def test_the_cyclic_collector_is_paused_while_the_answer_is_read_and_recorded_only(
    engine: sa.Engine,
) -> None:
    """Off while the rows are validated, diffed and written (app.watch.memory); on while fetching
    (whose retries may wait for minutes) and after."""
    fetching: list[bool] = []
    validating: list[bool] = []

    class Watching(FakeSource):
        def fetch(self) -> Fetched:
            fetching.append(gc.isenabled())
            body = json.dumps(self.rows).encode()

            def answer() -> Answer:
                validating.append(gc.isenabled())
                return parse_answer(body)

            return Fetched(answer, hashlib.sha256(body).hexdigest(), len(body))

    poller = make_poller(engine, Watching([row("a", 1)]), FakeChannel(), FakeClock(T0))
    assert gc.isenabled()

    assert poller.poll_once().outcome is Outcome.OK
    assert (fetching, validating) == ([True], [False])
    assert gc.isenabled()
