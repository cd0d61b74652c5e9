"""Reading the stored state back: one SELECT, converted without SQLAlchemy's per-value
result processors (most of a 100,000-row cycle; docs/performance.md)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db.engine import reading
from app.db.tables import registrations
from app.domain import Key, Registration, StoredRegistration

_CHUNK = 5000  # rows per fetchmany


def read_state(engine: Engine) -> dict[Key, StoredRegistration]:
    """Every registration, present or removed, in one SELECT. The driver's rows are
    converted here rather than by SQLAlchemy's per-value result processors, which were most
    of a 100,000-row cycle (docs/performance.md)."""
    with reading(engine) as conn:
        sql = str(_STATE_SELECT.compile(dialect=conn.dialect))
        parse = _sqlite_utc if conn.dialect.name == "sqlite" else _aware_utc
        # first_seen_at and status_since are poll times: few distinct values, parsed once
        # and shared (100,000 rows: 200,000 datetimes fewer).
        seen: dict[Any, datetime] = {}

        def poll_time(value: Any) -> datetime:
            found = seen.get(value)
            if found is None:
                found = seen[value] = parse(value)
            return found

        if conn.dialect.name != "sqlite":
            poll_time = parse  # the driver already built every datetime: nothing to share

        # The driver's cursor in slices: few calls (not one SQLAlchemy fetchone per row),
        # and never all 100,000 raw rows alive next to the state built from them.
        cursor = conn.exec_driver_sql(sql).cursor
        state: dict[Key, StoredRegistration] = {}
        while rows := cursor.fetchmany(_CHUNK):
            for row in rows:
                state[row[0], row[2]] = _stored_from_raw(row, parse, poll_time)
        return state


_r = registrations.c
# The columns of load_state, in the order of Registration then StoredRegistration.
_STATE_SELECT = sa.select(
    _r.client_id,
    _r.client_name,
    _r.provider_id,
    _r.provider_name,
    _r.country,
    _r.registration_status,
    _r.requested_on,
    _r.first_seen_at,
    _r.status_since,
    _r.missing_polls,
    _r.present,
)


def _stored_from_raw(
    row: Sequence[Any], utc: Callable[[Any], datetime], poll_time: Callable[[Any], datetime]
) -> StoredRegistration:
    cid, cname, pid, pname, country, status, requested, first, since, missing, present = row
    reg = Registration(cid, cname, pid, pname, country, status, utc(requested))
    return StoredRegistration(reg, poll_time(first), poll_time(since), missing, bool(present))


def _sqlite_utc(value: str | datetime) -> datetime:
    # SQLAlchemy stores SQLite datetimes as naive UTC text, "2024-01-01 00:00:00.000000".
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _aware_utc(value: datetime) -> datetime:
    # psycopg gives timestamptz in the session's time zone, UTC as app.db sets it up.
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


_KEYS_PER_SELECT = 500


def read_some(engine: Engine, keys: Collection[Key]) -> dict[Key, StoredRegistration]:
    """The stored registrations of `keys` (those that exist), a few hundred keys per SELECT:
    what a cycle that knows its unchanged rows needs of the state (app.rowprints)."""
    r, wanted, state = registrations.c, sorted(keys), {}
    with reading(engine) as conn:
        for start in range(0, len(wanted), _KEYS_PER_SELECT):
            chunk = wanted[start : start + _KEYS_PER_SELECT]
            stmt = _STATE_SELECT.where(sa.tuple_(r.client_id, r.provider_id).in_(chunk))
            for row in conn.execute(stmt):
                # The columns' own types have made every datetime UTC-aware already.
                state[row[0], row[2]] = _stored_from_raw(row, _aware_utc, _aware_utc)
    return state
