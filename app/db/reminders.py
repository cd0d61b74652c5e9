"""The stuck reminders of SPEC 9 in the database: the registrations that may be due (present,
in a status of STUCK_AFTER for longer than the shortest limit) with their last reminder;
app.db.store records the reminders app.core.stuck decides."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.core.stuck import Candidate
from app.db.engine import reading
from app.db.tables import registration_events, registrations
from app.domain import EventKind, Registration, StoredRegistration


def candidates(
    engine: Engine, now: datetime, stuck_after: Mapping[str, timedelta]
) -> list[Candidate]:
    """Only the few that may be stuck: never the whole state, whatever its size."""
    if not stuck_after:
        return []
    r, e = registrations.c, registration_events.c
    last = (
        sa.select(e.client_id, e.provider_id, sa.func.max(e.observed_at).label("reminded_at"))
        .where(e.event == EventKind.STUCK.value)
        .group_by(e.client_id, e.provider_id)
        .subquery()
    )
    stmt = (
        sa.select(registrations, last.c.reminded_at)
        .select_from(
            registrations.outerjoin(
                last, sa.and_(last.c.client_id == r.client_id, last.c.provider_id == r.provider_id)
            )
        )
        .where(
            r.present.is_(True),
            r.registration_status.in_(sorted(stuck_after)),
            r.status_since < now - min(stuck_after.values()),
        )
    )
    with reading(engine) as conn:
        return [_candidate(row) for row in conn.execute(stmt)]


def _candidate(row: sa.Row[tuple[object, ...]]) -> Candidate:
    m = row._mapping
    reg = Registration(
        client_id=m["client_id"],
        client_name=m["client_name"],
        provider_id=m["provider_id"],
        provider_name=m["provider_name"],
        country=m["country"],
        registration_status=m["registration_status"],
        requested_on=m["requested_on"],
    )
    stored = StoredRegistration(
        reg,
        first_seen_at=m["first_seen_at"],
        status_since=m["status_since"],
        missing_polls=m["missing_polls"],
        present=m["present"],
    )
    return Candidate(stored, m["reminded_at"])
