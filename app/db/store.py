"""The poll cycle's reads and its one write transaction: SQLAlchemy Core, bulk statements.
Datetimes go in and come out UTC-aware. Driver errors are raised as DatabaseError."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from app.db import holds, pgcopy, sqlitebulk
from app.db.engine import reading, translate_errors
from app.db.state import read_state
from app.db.tables import UTCDateTime, deliveries, poll_runs, registration_events, registrations
from app.domain import (
    CycleRecord,
    DeliveryPlan,
    DeliveryStatus,
    Event,
    EventKind,
    HoldState,
    Key,
    Outcome,
    StoredRegistration,
)

_SUCCESS = (Outcome.OK.value, Outcome.DEGRADED.value)
_MAX_ERROR_CHARS = 500
_CHUNK = 5000  # rows per executemany of a large cycle
_COPY_THRESHOLD = 2000  # above this many rows, PostgreSQL writes with COPY (app/pgcopy.py)


@dataclass(frozen=True, slots=True)
class PollInfo:
    id: int
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    error: str | None


class Store:
    def __init__(self, engine: Engine, fence: Callable[[Connection], None] | None = None) -> None:
        self._engine = engine
        # Leadership inside the write (app.db.leader: Leadership.fence): raises to refuse it.
        self._fence = fence or (lambda _conn: None)

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with translate_errors(self._engine), self._engine.begin() as conn:
            yield conn

    # ---- the poll cycle ----------------------------------------------------------------

    def load_state(self) -> dict[Key, StoredRegistration]:
        """Every registration, present or removed (app.db.state)."""
        return read_state(self._engine)

    def record_cycle(self, record: CycleRecord) -> int:
        """In ONE transaction: the poll_runs row, the upserted state, the events, and the
        deliveries the plan calls for. Returns the poll id."""
        run = {
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "outcome": record.outcome.value,
            "rows_seen": record.rows_seen,
            "rows_skipped": record.rows_skipped,
            "events": len(record.events),
            "answer_digest": record.digest,
        }
        with self._write() as conn:
            self._fence(conn)  # a deposed leader's cycle rolls back here, writing nothing
            poll_id: int = conn.execute(
                sa.insert(poll_runs).values(run).returning(poll_runs.c.id)
            ).scalar_one()
            _upsert(conn, record.changed, record.events, record.finished_at)
            _insert_events(conn, poll_id, record.events)
            _insert_deliveries(conn, poll_id, record.deliveries, record.finished_at)
            holds.record_guard(conn, poll_id, record.guard, record.finished_at)
        return poll_id

    def record_failure(self, *, started_at: datetime, finished_at: datetime, error: str) -> int:
        run = {
            "started_at": started_at,
            "finished_at": finished_at,
            "outcome": Outcome.FAILED.value,
            "error": error[:_MAX_ERROR_CHARS],
        }
        with self._write() as conn:
            stmt = sa.insert(poll_runs).values(run).returning(poll_runs.c.id)
            poll_id: int = conn.execute(stmt).scalar_one()
        return poll_id

    def last_success_id(self) -> int | None:
        """The id of the latest ok or degraded poll: the one whose state is stored now."""
        p = poll_runs.c
        stmt = sa.select(p.id).where(p.outcome.in_(_SUCCESS)).order_by(p.id.desc()).limit(1)
        with reading(self._engine) as conn:
            found: int | None = conn.execute(stmt).scalar()
        return found

    def last_answer_digest(self) -> str | None:
        """The digest of the latest successful poll if it was ok; None if it was degraded."""
        last = self.last_complete_answer()
        return None if last is None else last[0]

    def last_complete_answer(self) -> tuple[str, int] | None:
        """(digest, rows seen) of the latest successful poll if it was ok (complete); None if
        it was degraded or there is none."""
        p = poll_runs.c
        stmt = (
            sa.select(p.outcome, p.answer_digest, p.rows_seen)
            .where(p.outcome.in_(_SUCCESS))
            .order_by(p.id.desc())
            .limit(1)
        )
        with reading(self._engine) as conn:
            row = conn.execute(stmt).first()
        if row is None or row.outcome != Outcome.OK or row.answer_digest is None:
            return None
        return row.answer_digest, row.rows_seen

    def has_pending_removals(self) -> bool:
        """Any present registration missing from recent answers (a removal may be due)."""
        r = registrations.c
        stmt = sa.select(sa.exists().where(r.present.is_(True), r.missing_polls > 0))
        with reading(self._engine) as conn:
            return bool(conn.execute(stmt).scalar())

    def removal_hold(self) -> HoldState:
        """The mass-shrink hold the next cycle finds (app.db.holds)."""
        return holds.hold_state(self._engine)

    def last_poll(self) -> PollInfo | None:
        p = poll_runs.c
        stmt = sa.select(p.id, p.started_at, p.finished_at, p.outcome, p.error)
        with reading(self._engine) as conn:
            row = conn.execute(stmt.order_by(p.id.desc()).limit(1)).first()
        if row is None:
            return None
        return PollInfo(row.id, row.started_at, row.finished_at, Outcome(row.outcome), row.error)

    def last_success_at(self) -> datetime | None:
        """When the latest ok or degraded poll finished."""
        p = poll_runs.c
        stmt = (
            sa.select(p.finished_at).where(p.outcome.in_(_SUCCESS)).order_by(p.id.desc()).limit(1)
        )
        with reading(self._engine) as conn:
            found: datetime | None = conn.execute(stmt).scalar()
        return found


# ---- writing helpers -------------------------------------------------------------------


def _upsert(
    conn: Connection, changed: Sequence[StoredRegistration], events: Sequence[Event], at: datetime
) -> None:
    if not changed:
        return
    removed_at = {e.key: e.observed_at for e in events if e.event is EventKind.REMOVED}
    # One row per key: PostgreSQL refuses to update a row twice in one INSERT .. ON CONFLICT.
    latest = list({s.key: s for s in changed}.values())
    if conn.dialect.name == "sqlite":
        sqlitebulk.upsert_registrations(conn, latest, removed_at, at)
        return
    stmt = postgresql.insert(registrations)
    t, new = registrations.c, stmt.excluded
    updates: dict[str, Any] = {
        c.name: new[c.name] for c in registrations.c if not c.primary_key and c.name != "removed_at"
    }
    # A registration removed earlier keeps the time it was first found removed.
    updates["removed_at"] = sa.case(
        (new.present, sa.null()), else_=sa.func.coalesce(t.removed_at, new.removed_at)
    )
    if len(latest) > _COPY_THRESHOLD:
        columns = list(_stored_to_row(latest[0], at))
        pgcopy.upsert_registrations(
            conn,
            columns,
            (tuple(_stored_to_row(s, removed_at.get(s.key, at)).values()) for s in latest),
        )
        return
    stmt = stmt.on_conflict_do_update(index_elements=[t.client_id, t.provider_id], set_=updates)
    # In slices: the parameter dicts of 100,000 rows, and SQLAlchemy's processed copy of
    # them, made most of the memory peak of a first sync (docs/performance.md).
    for start in range(0, len(latest), _CHUNK):
        rows = [
            _stored_to_row(s, removed_at.get(s.key, at)) for s in latest[start : start + _CHUNK]
        ]
        conn.execute(stmt, rows)


def _stored_to_row(stored: StoredRegistration, removed_at: datetime) -> dict[str, Any]:
    reg = stored.registration
    return {
        "client_id": reg.client_id,
        "client_name": reg.client_name,
        "provider_id": reg.provider_id,
        "provider_name": reg.provider_name,
        "country": reg.country,
        "registration_status": reg.registration_status,
        "requested_on": reg.requested_on,
        "first_seen_at": stored.first_seen_at,
        "status_since": stored.status_since,
        "missing_polls": stored.missing_polls,
        "present": stored.present,
        "removed_at": None if stored.present else removed_at,
    }


def _insert_events(conn: Connection, poll_id: int, events: Sequence[Event]) -> None:
    # executemany runs the rows in order, and the slices go in order: ids follow `events`.
    if conn.dialect.name == "sqlite":
        sqlitebulk.insert_events(conn, poll_id, events, _dump_details)
        return
    if len(events) > _COPY_THRESHOLD:
        columns = list(_event_to_row(events[0], poll_id))
        rows = (tuple(_event_to_row(ev, poll_id).values()) for ev in events)
        pgcopy.insert_events(conn, columns, rows)
        return
    stmt = sa.insert(registration_events)
    for start in range(0, len(events), _CHUNK):
        conn.execute(stmt, [_event_to_row(ev, poll_id) for ev in events[start : start + _CHUNK]])


def _event_to_row(ev: Event, poll_id: int) -> dict[str, Any]:
    return {
        "poll_id": poll_id,
        "event": ev.event.value,
        "client_id": ev.client_id,
        "client_name": ev.client_name,
        "provider_id": ev.provider_id,
        "provider_name": ev.provider_name,
        "country": ev.country,
        "from_status": ev.from_status,
        "to_status": ev.to_status,
        "requested_on": ev.requested_on,
        "observed_at": ev.observed_at,
        "previous_status_since": ev.previous_status_since,
        "details": _dump_details(ev),
    }


def _insert_deliveries(
    conn: Connection, poll_id: int, plan: DeliveryPlan, created_at: datetime
) -> None:
    """The outbox rows of one poll, as planned by app.notify.routing: summaries, then the rows
    of channels taking every alerted event (built in SQL from the events just inserted, no id
    round trip), then those of routed channels (by position in the poll's events)."""
    base = {"poll_id": poll_id, "status": DeliveryStatus.PENDING.value, "created_at": created_at}
    notices = [(ch, "summary") for ch in plan.summaries] + [(ch, "held") for ch in plan.held]
    if notices:
        rows = [{**base, "event_id": None, "channel": ch, "kind": kind} for ch, kind in notices]
        conn.execute(sa.insert(deliveries), rows)
    e = registration_events.c
    target = ["poll_id", "event_id", "channel", "kind", "status", "created_at"]
    kinds = sorted(kind.value for kind in plan.kinds)
    for channel in plan.everything:
        select = (
            sa.select(
                e.poll_id,
                e.id,
                sa.literal(channel, sa.String()),
                sa.literal("event", sa.String()),
                sa.literal(base["status"], sa.String()),
                sa.literal(created_at, UTCDateTime()),
            )
            .where(e.poll_id == poll_id, e.event.in_(kinds))
            .order_by(e.id)
        )
        conn.execute(sa.insert(deliveries).from_select(target, select))
    if plan.routed:
        # Event ids follow the order of the poll's events (_insert_events).
        ids = conn.execute(sa.select(e.id).where(e.poll_id == poll_id).order_by(e.id)).scalars()
        by_index = list(ids)
        rows = [
            {**base, "event_id": by_index[i], "channel": channel, "kind": "event"}
            for channel, indexes in plan.routed
            for i in indexes
        ]
        conn.execute(sa.insert(deliveries), rows)


def _dump_details(event: Event) -> str | None:
    if not event.changes:
        return None
    return json.dumps({field: [old, new] for field, old, new in event.changes})
