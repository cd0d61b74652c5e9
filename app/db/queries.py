"""What users query (`status`, `history`) and the counts metrics show; read-only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import tables
from app.db.engine import reading
from app.db.outbox import EVENT_FIELDS, load_details
from app.db.utctext import parsed, utc_time
from app.domain import Registration

_REG_FIELDS = tuple(f.name for f in fields(Registration))
# The columns of `flinkswatch status` (current()), in its order.
STATUS_COLUMNS = (
    *_REG_FIELDS,
    "first_seen_at",
    "status_since",
    "present",
    "status_since_exact",
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


def status_counts(engine: Engine) -> dict[str, int]:
    """Present registrations by registration_status."""
    r = tables.registrations.c
    stmt = (
        sa.select(r.registration_status, sa.func.count())
        .where(r.present.is_(True))
        .group_by(r.registration_status)
    )
    with reading(engine) as conn:
        return {status: n for status, n in conn.execute(stmt).all()}  # noqa: C416 (Row to pairs)


def known_statuses(engine: Engine) -> set[str]:
    """Every status a registration has ever had: now, or before or after a recorded event."""
    r, e = tables.registrations.c, tables.registration_events.c
    stmt = sa.union(
        sa.select(r.registration_status),
        sa.select(e.from_status).where(e.from_status.is_not(None)),
        sa.select(e.to_status).where(e.to_status.is_not(None)),
    )
    with reading(engine) as conn:
        return {status for (status,) in conn.execute(stmt)}


def current(engine: Engine, filters: Filters) -> list[dict[str, object]]:
    """Current registrations, sorted by client_name then provider_name."""
    r = tables.registrations.c
    where = _common_filters(r, filters)
    if not filters.include_removed:
        where.append(r.present.is_(True))
    if filters.status is not None:
        where.append(r.registration_status == filters.status)
    dialect = engine.dialect.name
    stmt = (
        sa.select(*(utc_time(r[n], dialect) if n in _TIMES else r[n] for n in STATUS_COLUMNS))
        .where(*where)
        .order_by(r.client_name, r.provider_name, r.client_id, r.provider_id)
    )
    with reading(engine) as conn:
        found = conn.execute(stmt)
        if not parsed(dialect):
            return [dict(zip(STATUS_COLUMNS, row, strict=True)) for row in found]
        return _utc_times(found)


# SQLite's times read as text (app/db/utctext.py), each parsed by one call of
# datetime.fromisoformat: the read of 100,000 rows for `status` takes half the time (issue 23).
_TIMES = ("requested_on", "first_seen_at", "status_since")


def _utc_times(rows: Iterable[Sequence[Any]]) -> list[dict[str, object]]:
    parse, (i, j, k) = datetime.fromisoformat, (STATUS_COLUMNS.index(n) for n in _TIMES)
    return [
        # the keywords replace the text in place: the keys keep STATUS_COLUMNS' order
        dict(
            zip(STATUS_COLUMNS, row, strict=True),
            requested_on=parse(row[i]),
            first_seen_at=parse(row[j]),
            status_since=parse(row[k]),
        )
        for row in rows
    ]


def history(engine: Engine, filters: Filters) -> list[dict[str, object]]:
    """Events in the order recorded, oldest first; see Filters for what each filter matches."""
    e = tables.registration_events.c
    where = _common_filters(e, filters)
    if filters.status is not None:
        where.append(sa.or_(e.to_status == filters.status, e.from_status == filters.status))
    if filters.event is not None:
        where.append(e.event == filters.event)
    if filters.since is not None:
        where.append(e.observed_at >= filters.since)
    stmt = (
        sa.select(e.id, *(e[n] for n in EVENT_FIELDS), e.details)
        .where(*where)
        # In the order recorded: after the clock was set back, a later move carries an
        # earlier time, and ordering by time would put it before the move it followed.
        .order_by(e.id)
    )
    with reading(engine) as conn:
        rows = conn.execute(stmt).all()
    return [{**row._mapping, "details": load_details(row.details)} for row in rows]


def _common_filters(cols: Any, filters: Filters) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if filters.client_id is not None:
        where.append(cols.client_id == filters.client_id)
    if filters.provider_id is not None:
        # No BIGINT holds one out of range: none matches (binding it raises OverflowError).
        fits = -(2**63) <= filters.provider_id < 2**63
        where.append(cols.provider_id == filters.provider_id if fits else sa.false())
    if filters.provider is not None:
        # lower() on both sides, so the database folds the input exactly as it folds the column.
        where.append(sa.func.lower(cols.provider_name) == sa.func.lower(filters.provider))
    return where
