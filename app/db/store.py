"""The poll cycle's reads and its one write transaction: SQLAlchemy Core, bulk statements.
Datetimes go in and come out UTC-aware. Driver errors are raised as DatabaseError."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.core.blind import BlindState, ChannelHealth
from app.core.latelimits import LateLimits
from app.core.report import ProviderStats
from app.core.rowprints import RowIndex
from app.core.stuck import Candidate
from app.db import holds, notices, pgcopy, planned, reminders, reports, rowindex, sqlitebulk
from app.db.engine import translate_errors
from app.db.latelimits import keep_late_limits, read_late_limits
from app.db.polls import PollInfo as PollInfo
from app.db.polls import PollReads
from app.db.state import read_some, read_state
from app.db.tables import poll_runs, registration_events, registrations
from app.domain import (
    CycleRecord,
    DeliveryPlan,
    Event,
    EventKind,
    Key,
    NoticePlan,
    Outcome,
    StoredRegistration,
)

_SUCCESS = (Outcome.OK.value, Outcome.DEGRADED.value)
_MAX_ERROR_CHARS = 500
_CHUNK = 5000  # rows per executemany of a large cycle
_COPY_THRESHOLD = 2000  # above this many rows, PostgreSQL writes with COPY (app/pgcopy.py)


class Store(PollReads):
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

    def load_some(self, keys: Collection[Key]) -> dict[Key, StoredRegistration]:
        """The stored registrations of `keys` (app.db.state)."""
        return read_some(self._engine, keys)

    def row_index(self) -> RowIndex | None:
        """The fingerprints of the rows the state was read from (app.db.rowindex)."""
        return rowindex.read_index(self._engine)

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
            # Notices first: "can see again" goes out before the changes found on return.
            notices.record_notices(conn, poll_id, record.notices, record.finished_at)
            planned.insert_deliveries(conn, poll_id, record.deliveries, record.finished_at)
            holds.record_guard(conn, poll_id, record.guard, record.finished_at)
            if record.index is not None or record.drop_index:
                rowindex.write_index(conn, poll_id, record.index, record.finished_at)
        return poll_id

    def record_failure(
        self,
        *,
        started_at: datetime,
        finished_at: datetime,
        error: str,
        kind: str | None = None,
        notices_due: Sequence[NoticePlan] = (),
    ) -> int:
        """The failed poll, and the watcher notices it calls for (SPEC 8), in one transaction."""
        run = {
            "started_at": started_at,
            "finished_at": finished_at,
            "outcome": Outcome.FAILED.value,
            "error": error[:_MAX_ERROR_CHARS],
            "failure_kind": kind,
        }
        with self._write() as conn:
            self._fence(conn)
            stmt = sa.insert(poll_runs).values(run).returning(poll_runs.c.id)
            poll_id: int = conn.execute(stmt).scalar_one()
            notices.record_notices(conn, poll_id, notices_due, finished_at)
        return poll_id

    def stuck_candidates(
        self,
        now: datetime,
        stuck_after: Mapping[str, timedelta],
        repeat: timedelta,
        late: Mapping[int, timedelta] | None = None,
    ) -> list[Candidate]:
        """The registrations that may be due a reminder (SPEC 9, late: SPEC 11), with their
        last one."""
        return reminders.candidates(self._engine, now, stuck_after, repeat, late or {})

    def provider_stats(self, now: datetime) -> tuple[ProviderStats, ...]:
        """The report's Kaplan-Meier figures per provider (late reminders read them)."""
        return reports.provider_figures(self._engine, now)

    def kept_late_limits(self) -> LateLimits | None:
        """The late limits as last folded, by this process or another (a cron `poll`)."""
        return read_late_limits(self._engine)

    def keep_late_limits(self, kept: LateLimits) -> None:
        keep_late_limits(self._engine, kept)

    def record_reminders(self, poll_id: int, events: Sequence[Event], plan: DeliveryPlan) -> None:
        """The `stuck` events of a poll and their deliveries, in one transaction."""
        if not events:
            return
        with self._write() as conn:
            self._fence(conn)
            _insert_events(conn, poll_id, events)
            reminders.record(conn, events)
            at = events[0].observed_at
            planned.insert_deliveries(conn, poll_id, plan, at, only=EventKind.STUCK)

    def blind_state(self) -> BlindState:
        """Failed polls since the last good one, and the open blind announcement (SPEC 8)."""
        return notices.read_blind_state(self._engine)

    def channel_health(self) -> dict[str, ChannelHealth]:
        return notices.read_channel_health(self._engine)

    def record_channel_health(
        self,
        poll_id: int,
        records: Sequence[ChannelHealth],
        due: Sequence[NoticePlan],
        at: datetime,
    ) -> None:
        """Each channel's new delivery record and the notices it calls for, in one transaction."""
        with self._write() as conn:
            self._fence(conn)
            notices.save_channel_health(conn, records, at)
            notices.record_notices(conn, poll_id, due, at)


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
    from sqlalchemy.dialects import postgresql  # on use: SQLite never loads it

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
        "status_since_exact": stored.status_since_exact,
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
        "previous_status_since_exact": ev.previous_status_since_exact,
        "details": _dump_details(ev),
    }


def _dump_details(event: Event) -> str | None:
    if not event.changes:
        return None
    return json.dumps({field: [old, new] for field, old, new in event.changes})
