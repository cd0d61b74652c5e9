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
    BaselineSummary,
    DeliveryStatus,
    Event,
    EventKind,
    Key,
    Outcome,
    PendingDelivery,
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
class Filters:
    """Query filters of `status` and `history`; None means "any". `provider` is the provider
    NAME, matched case-insensitively but otherwise exactly (SQLite folds ASCII letters only).
    `status` matches registration_status in registrations(), and from_status or to_status in
    history(). `event` and `since` (observed_at >= since) apply to history() only."""

    client_id: str | None = None
    provider_id: int | None = None
    provider: str | None = None
    status: str | None = None
    event: str | None = None
    since: datetime | None = None
    include_removed: bool = False


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

    # ---- deliveries (the outbox) -------------------------------------------------------

    def pending_deliveries(
        self, channel: str, now: datetime, limit: int = 1000
    ) -> list[PendingDelivery]:
        """Deliveries owed to `channel` and due at `now`, oldest first."""
        d, e = deliveries.c, registration_events.c
        stmt = (
            sa.select(
                d.id.label("delivery_id"),
                d.poll_id.label("delivery_poll_id"),
                d.channel,
                d.attempts,
                d.kind,
                d.created_at,
                *(e[name] for name in _EVENT_FIELDS),
                e.previous_status_since,
                e.details,
            )
            .select_from(deliveries.outerjoin(registration_events, d.event_id == e.id))
            .where(
                d.channel == channel,
                d.status == DeliveryStatus.PENDING.value,
                sa.or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now),
            )
            .order_by(d.id)
            .limit(limit)
        )
        with reading(self._engine) as conn:
            rows = conn.execute(stmt).all()
            summary_polls = {r.delivery_poll_id for r in rows if r.kind == "summary"}
            summaries = _baseline_counts(conn, summary_polls)
        return [_pending_from_row(r, summaries) for r in rows]

    def mark_sent(self, ids: Sequence[int], now: datetime, external_ref: str | None = None) -> None:
        stmt = (
            sa.update(deliveries)
            .where(deliveries.c.id == sa.bindparam("delivery_id"))
            .values(status=DeliveryStatus.SENT.value, sent_at=now, external_ref=external_ref)
        )
        self._update_each(stmt, ids)

    def mark_failed(
        self,
        ids: Sequence[int],
        now: datetime,
        error: str,
        *,
        permanent: bool,
        max_attempts: int,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Count a failed attempt. Only a permanent failure that reached max_attempts gives up
        (status failed); transient failures stay pending, so they are retried forever."""
        d = deliveries.c
        attempts = d.attempts + 1
        status: Any = DeliveryStatus.PENDING.value
        if permanent:
            status = sa.case(
                (attempts >= max_attempts, DeliveryStatus.FAILED.value),
                else_=DeliveryStatus.PENDING.value,
            )
        stmt = (
            sa.update(deliveries)
            .where(d.id == sa.bindparam("delivery_id"), d.status == DeliveryStatus.PENDING.value)
            .values(
                attempts=attempts,
                last_error=error[:_MAX_ERROR_CHARS],
                next_attempt_at=next_attempt_at,
                status=status,
            )
        )
        self._update_each(stmt, ids)

    def _update_each(self, stmt: sa.Update, ids: Sequence[int]) -> None:
        if ids:
            with self._write() as conn:
                conn.execute(stmt, [{"delivery_id": i} for i in ids])

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        """(channel, status) -> number of deliveries."""
        d = deliveries.c
        stmt = sa.select(d.channel, d.status, sa.func.count()).group_by(d.channel, d.status)
        with reading(self._engine) as conn:
            return {(ch, st): n for ch, st, n in conn.execute(stmt)}

    # ---- what users query --------------------------------------------------------------

    def status_counts(self) -> dict[str, int]:
        """Present registrations by registration_status."""
        r = registrations.c
        stmt = (
            sa.select(r.registration_status, sa.func.count())
            .where(r.present.is_(True))
            .group_by(r.registration_status)
        )
        with reading(self._engine) as conn:
            return {status: n for status, n in conn.execute(stmt).all()}  # noqa: C416 (Row to pairs)

    def registrations(self, filters: Filters) -> list[dict[str, object]]:
        """Current registrations, sorted by client_name then provider_name."""
        r = registrations.c
        where = _common_filters(r, filters)
        if not filters.include_removed:
            where.append(r.present.is_(True))
        if filters.status is not None:
            where.append(r.registration_status == filters.status)
        stmt = (
            sa.select(*(r[n] for n in _REG_FIELDS), r.first_seen_at, r.status_since, r.present)
            .where(*where)
            .order_by(r.client_name, r.provider_name, r.client_id, r.provider_id)
        )
        with reading(self._engine) as conn:
            return [dict(row._mapping) for row in conn.execute(stmt)]

    def history(self, filters: Filters) -> list[dict[str, object]]:
        """Events oldest first (newest last); see Filters for what each filter matches."""
        e = registration_events.c
        where = _common_filters(e, filters)
        if filters.status is not None:
            where.append(sa.or_(e.to_status == filters.status, e.from_status == filters.status))
        if filters.event is not None:
            where.append(e.event == filters.event)
        if filters.since is not None:
            where.append(e.observed_at >= filters.since)
        stmt = (
            sa.select(e.id, *(e[n] for n in _EVENT_FIELDS), e.details)
            .where(*where)
            .order_by(e.observed_at, e.id)
        )
        with reading(self._engine) as conn:
            rows = conn.execute(stmt).all()
        return [{**row._mapping, "details": _load_details(row.details)} for row in rows]


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


def _load_details(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


# ---- reading helpers -------------------------------------------------------------------


def _common_filters(cols: Any, filters: Filters) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if filters.client_id is not None:
        where.append(cols.client_id == filters.client_id)
    if filters.provider_id is not None:
        where.append(cols.provider_id == filters.provider_id)
    if filters.provider is not None:
        # lower() on both sides, so the database folds the input exactly as it folds the column.
        where.append(sa.func.lower(cols.provider_name) == sa.func.lower(filters.provider))
    return where


def _stored_from_row(row: Row[*tuple[Any, ...]]) -> StoredRegistration:
    reg = Registration(**{name: getattr(row, name) for name in _REG_FIELDS})
    return StoredRegistration(
        registration=reg,
        first_seen_at=row.first_seen_at,
        status_since=row.status_since,
        missing_polls=row.missing_polls,
        present=bool(row.present),
    )


def _event_from_row(row: Row[*tuple[Any, ...]]) -> Event:
    fields = {name: getattr(row, name) for name in _EVENT_FIELDS}
    details = _load_details(row.details) or {}
    changes = tuple((field, old, new) for field, (old, new) in details.items())
    return Event(
        **{**fields, "event": EventKind(row.event)},
        previous_status_since=row.previous_status_since,
        changes=changes,
    )


def _baseline_counts(conn: Connection, poll_ids: set[int]) -> dict[int, BaselineSummary]:
    if not poll_ids:
        return {}
    e = registration_events.c
    stmt = (
        sa.select(e.poll_id, e.to_status, sa.func.count(), sa.func.min(e.observed_at))
        .where(e.event == EventKind.BASELINE.value, e.poll_id.in_(poll_ids))
        .group_by(e.poll_id, e.to_status)
        .order_by(e.poll_id, e.to_status)
    )
    counts: dict[int, list[tuple[str, int]]] = {}
    seen_at: dict[int, datetime] = {}
    for poll_id, status, n, first in conn.execute(stmt):
        counts.setdefault(poll_id, []).append((status or "", n))
        seen_at[poll_id] = min(first, seen_at.get(poll_id, first))
    return {
        pid: BaselineSummary(
            poll_id=pid,
            observed_at=seen_at[pid],
            total=sum(n for _, n in by),
            by_status=tuple(sorted(by)),
        )
        for pid, by in counts.items()
    }


def _pending_from_row(
    row: Row[*tuple[Any, ...]], summaries: dict[int, BaselineSummary]
) -> PendingDelivery:
    summary = None
    if row.kind == "summary":
        empty = BaselineSummary(row.delivery_poll_id, row.created_at, 0, ())
        summary = summaries.get(row.delivery_poll_id, empty)
    return PendingDelivery(
        id=row.delivery_id,
        poll_id=row.delivery_poll_id,
        channel=row.channel,
        attempts=row.attempts,
        summary=summary,
        event=_event_from_row(row) if row.kind == "event" else None,
    )
