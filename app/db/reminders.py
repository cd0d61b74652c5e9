"""The stuck reminders of SPEC 9 in the database: the registrations that may be due (present,
in a status of STUCK_AFTER for longer than the shortest limit) with their last reminder;
app.db.store records the reminders app.core.stuck decides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.core.stuck import Candidate
from app.db import acks
from app.db.engine import reading
from app.db.tables import registrations, stuck_reminders
from app.domain import ACTIVE, Event


def candidates(
    engine: Engine,
    now: datetime,
    stuck_after: Mapping[str, timedelta],
    repeat: timedelta,
    late: Mapping[int, timedelta] | None = None,
) -> list[Candidate]:
    """Only those that may be due: past the shortest limit (or waiting past their provider's
    late limit, `late`: provider_id -> it), and not reminded within `repeat` in their current
    stay (an index range, never the whole state, whatever its size)."""
    if not stuck_after and not late:
        return []
    r, s = registrations.c, stuck_reminders.c
    stmt = (
        sa.select(registrations, s.reminded_at)
        .select_from(
            registrations.outerjoin(
                stuck_reminders, sa.and_(s.client_id == r.client_id, s.provider_id == r.provider_id)
            )
        )
        .where(
            sa.or_(_stuck(now, stuck_after), _late(now, late or {})),
            r.present.is_(True),
            sa.or_(
                s.reminded_at.is_(None),
                s.reminded_at < r.status_since,
                s.reminded_at <= now - repeat,
                s.reminded_at > now,  # recorded while the clock ran ahead (core/stuck.py)
            ),
        )
    )
    with reading(engine) as conn:
        found = [_candidate(row) for row in conn.execute(stmt)]
        # Their acknowledgements (SPEC 12): app.core.stuck skips those that hold.
        taken = acks.latest(conn, [c.stored.key for c in found])
    return [replace(c, acknowledgement=taken.get(c.stored.key)) for c in found]


def _stuck(now: datetime, stuck_after: Mapping[str, timedelta]) -> sa.ColumnElement[bool]:
    if not stuck_after:
        return sa.false()
    r, shortest = registrations.c, min(stuck_after.values())
    return sa.and_(
        r.registration_status.in_(sorted(stuck_after)),
        sa.or_(
            r.status_since < now - shortest,
            # an inexact stay is measured by its waiting (SPEC 11's sum rule)
            sa.and_(r.status_since_exact.is_(False), r.requested_on < now - shortest),
        ),
    )


def _late(now: datetime, late: Mapping[int, timedelta]) -> sa.ColumnElement[bool]:
    if not late:
        return sa.false()
    r = registrations.c
    by_provider = [
        sa.and_(r.provider_id == pid, r.requested_on < now - limit)
        for pid, limit in sorted(late.items())
    ]
    return sa.and_(r.registration_status != ACTIVE, sa.or_(*by_provider))


def record(conn: Connection, events: Sequence[Event]) -> None:
    """Inside the reminders' transaction: each one's time, for the next STUCK_REPEAT."""
    s = stuck_reminders.c
    keys = [(ev.client_id, ev.provider_id) for ev in events]
    conn.execute(sa.delete(stuck_reminders).where(sa.tuple_(s.client_id, s.provider_id).in_(keys)))
    rows = [
        {"client_id": ev.client_id, "provider_id": ev.provider_id, "reminded_at": ev.observed_at}
        for ev in events
    ]
    conn.execute(sa.insert(stuck_reminders), rows)


def _candidate(row: sa.Row[tuple[object, ...]]) -> Candidate:
    m = row._mapping
    stored = acks.stored_from(dict(m))
    return Candidate(stored, m["reminded_at"])
