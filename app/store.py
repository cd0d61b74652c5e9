"""The only place that reads and writes the database: SQLAlchemy Core, bulk statements, one
transaction per poll cycle. Datetimes go in and come out UTC-aware. Driver errors are raised as
app.db.DatabaseError."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, Row

from app.db import reading, translate_errors
from app.domain import (
    DeliveryStatus,
    Event,
    EventKind,
    Key,
    Outcome,
    Registration,
    StoredRegistration,
)
from app.tables import UTCDateTime, deliveries, poll_runs, registration_events, registrations

_SUCCESS = (Outcome.OK.value, Outcome.DEGRADED.value)
_MAX_ERROR_CHARS = 500
_REG_FIELDS = tuple(f.name for f in fields(Registration))
# The columns of registration_events that history() shows, named as the Event fields.
_EVENT_FIELDS = tuple(
    f.name for f in fields(Event) if f.name not in ("previous_status_since", "changes")
)


@dataclass(frozen=True, slots=True)
class PollInfo:
    id: int
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    error: str | None


class Store:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with translate_errors(self._engine), self._engine.begin() as conn:
            yield conn

    # ---- the poll cycle ----------------------------------------------------------------

    def load_state(self) -> dict[Key, StoredRegistration]:
        """Every registration, present or removed, in one SELECT."""
        with reading(self._engine) as conn:
            rows = conn.execute(sa.select(registrations))
            return {(r.client_id, r.provider_id): _stored_from_row(r) for r in rows}

    def record_cycle(
        self,
        *,
        started_at: datetime,
        finished_at: datetime,
        outcome: Outcome,
        rows_seen: int,
        rows_skipped: int,
        changed: Sequence[StoredRegistration],
        events: Sequence[Event],
        channels: Sequence[str],
        alerted: Collection[EventKind],
        digest: str | None,
    ) -> int:
        """In ONE transaction: the poll_runs row, the upserted state, the events, and the
        deliveries they call for (one per alerted event and channel, plus one baseline summary
        per channel). Returns the poll id."""
        run = {
            "started_at": started_at,
            "finished_at": finished_at,
            "outcome": outcome.value,
            "rows_seen": rows_seen,
            "rows_skipped": rows_skipped,
            "events": len(events),
            "answer_digest": digest,
        }
        with self._write() as conn:
            poll_id: int = conn.execute(
                sa.insert(poll_runs).values(run).returning(poll_runs.c.id)
            ).scalar_one()
            _upsert(conn, changed, events, finished_at)
            _insert_events(conn, poll_id, events)
            has_baseline = any(ev.event is EventKind.BASELINE for ev in events)
            _insert_deliveries(conn, poll_id, channels, alerted, has_baseline, finished_at)
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

    def has_synced(self) -> bool:
        """True once any poll succeeded (ok or degraded): later sightings are `added`."""
        stmt = sa.select(sa.exists().where(poll_runs.c.outcome.in_(_SUCCESS)))
        with reading(self._engine) as conn:
            return bool(conn.execute(stmt).scalar())

    def last_answer_digest(self) -> str | None:
        """The digest of the latest successful poll if it was ok; None if it was degraded."""
        stmt = (
            sa.select(poll_runs.c.outcome, poll_runs.c.answer_digest)
            .where(poll_runs.c.outcome.in_(_SUCCESS))
            .order_by(poll_runs.c.id.desc())
            .limit(1)
        )
        with reading(self._engine) as conn:
            row = conn.execute(stmt).first()
        return row.answer_digest if row is not None and row.outcome == Outcome.OK else None

    def has_pending_removals(self) -> bool:
        """Any present registration missing from recent answers (a removal may be due)."""
        r = registrations.c
        stmt = sa.select(sa.exists().where(r.present.is_(True), r.missing_polls > 0))
        with reading(self._engine) as conn:
            return bool(conn.execute(stmt).scalar())

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
    rows = {s.key: _stored_to_row(s, removed_at.get(s.key, at)) for s in changed}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(registrations)
    t, new = registrations.c, stmt.excluded
    updates: dict[str, Any] = {
        c.name: new[c.name] for c in registrations.c if not c.primary_key and c.name != "removed_at"
    }
    # A registration removed earlier keeps the time it was first found removed.
    updates["removed_at"] = sa.case(
        (new.present, sa.null()), else_=sa.func.coalesce(t.removed_at, new.removed_at)
    )
    stmt = stmt.on_conflict_do_update(index_elements=[t.client_id, t.provider_id], set_=updates)
    conn.execute(stmt, list(rows.values()))


def _stored_to_row(stored: StoredRegistration, removed_at: datetime) -> dict[str, Any]:
    reg = stored.registration
    return {
        **{name: getattr(reg, name) for name in _REG_FIELDS},
        "first_seen_at": stored.first_seen_at,
        "status_since": stored.status_since,
        "missing_polls": stored.missing_polls,
        "present": stored.present,
        "removed_at": None if stored.present else removed_at,
    }


def _insert_events(conn: Connection, poll_id: int, events: Sequence[Event]) -> None:
    # executemany runs the rows in order, so ids follow the order of `events`.
    rows = [
        {
            **{name: getattr(ev, name) for name in _EVENT_FIELDS},
            "event": ev.event.value,
            "poll_id": poll_id,
            "previous_status_since": ev.previous_status_since,
            "details": _dump_details(ev),
        }
        for ev in events
    ]
    if rows:
        conn.execute(sa.insert(registration_events), rows)


def _insert_deliveries(
    conn: Connection,
    poll_id: int,
    channels: Sequence[str],
    alerted: Collection[EventKind],
    has_baseline: bool,
    created_at: datetime,
) -> None:
    """The outbox rows of one poll: a baseline summary per channel, then per channel one row
    for each alerted event, built in SQL from the events just inserted (no id round trip)."""
    pending = DeliveryStatus.PENDING.value
    base = {"poll_id": poll_id, "status": pending, "created_at": created_at}
    if has_baseline and channels:
        summaries = [
            {**base, "event_id": None, "channel": ch, "kind": "summary"} for ch in channels
        ]
        conn.execute(sa.insert(deliveries), summaries)
    kinds = [kind.value for kind in alerted if kind is not EventKind.BASELINE]
    if not kinds:
        return
    e = registration_events.c
    target = ["poll_id", "event_id", "channel", "kind", "status", "created_at"]
    for channel in channels:
        rows = (
            sa.select(
                e.poll_id,
                e.id,
                sa.literal(channel, sa.String()),
                sa.literal("event", sa.String()),
                sa.literal(pending, sa.String()),
                sa.literal(created_at, UTCDateTime()),
            )
            .where(e.poll_id == poll_id, e.event.in_(kinds))
            .order_by(e.id)
        )
        conn.execute(sa.insert(deliveries).from_select(target, rows))


def _dump_details(event: Event) -> str | None:
    if not event.changes:
        return None
    return json.dumps({field: [old, new] for field, old, new in event.changes})


# ---- reading helpers -------------------------------------------------------------------


def _stored_from_row(row: Row[*tuple[Any, ...]]) -> StoredRegistration:
    reg = Registration(**{name: getattr(row, name) for name in _REG_FIELDS})
    return StoredRegistration(
        registration=reg,
        first_seen_at=row.first_seen_at,
        status_since=row.status_since,
        missing_polls=row.missing_polls,
        present=bool(row.present),
    )
