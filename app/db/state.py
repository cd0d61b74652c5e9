"""Reading the stored state back: one SELECT, converted without SQLAlchemy's per-value
result processors (most of a 100,000-row cycle; docs/performance.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

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
        state: dict[Key, StoredRegistration] = {}
        _convert(conn, conn.exec_driver_sql(sql).cursor, state)
        return state


def read_some(engine: Engine, keys: Collection[Key]) -> dict[Key, StoredRegistration]:
    """The stored registrations of `keys` (those that exist), in one SELECT that looks each
    key up in the primary key: what a cycle that knows its unchanged rows needs of the state
    (app.core.rowprints). The keys go as one parameter: a JSON array on SQLite (json_each), two
    arrays on PostgreSQL (unnest); SQLite would scan the table for a row-value IN list."""
    state: dict[Key, StoredRegistration] = {}
    if not keys:
        return state
    with reading(engine) as conn:
        head = str(_STATE_SELECT.compile(dialect=conn.dialect))
        if conn.dialect.name == "sqlite":
            sql = f"{head} {_SQLITE_KEYS}"
            params: tuple[Any, ...] = (json.dumps(list(keys)),)
        else:
            sql = f"{head} {_PG_KEYS}"
            params = ([key[0] for key in keys], [key[1] for key in keys])
        _convert(conn, conn.exec_driver_sql(sql, params).cursor, state)
    return state


_SQLITE_KEYS = (
    "JOIN json_each(?) AS k ON registrations.client_id = json_extract(k.value, '$[0]') "
    "AND registrations.provider_id = json_extract(k.value, '$[1]')"
)
_PG_KEYS = (
    "JOIN unnest(%s::varchar[], %s::bigint[]) AS k(client_id, provider_id) "
    "ON registrations.client_id = k.client_id AND registrations.provider_id = k.provider_id"
)


def _convert(conn: Connection, cursor: Any, state: dict[Key, StoredRegistration]) -> None:
    """The driver's rows into `state`, in slices: few calls (not one SQLAlchemy fetchone per
    row), and never all 100,000 raw rows alive next to the state built from them."""
    parse = _sqlite_utc if conn.dialect.name == "sqlite" else _aware_utc
    # first_seen_at and status_since are poll times: few distinct values, parsed once and
    # shared (100,000 rows: 200,000 datetimes fewer).
    seen: dict[Any, datetime] = {}

    def poll_time(value: Any) -> datetime:
        found = seen.get(value)
        if found is None:
            found = seen[value] = parse(value)
        return found

    if conn.dialect.name != "sqlite":
        poll_time = parse  # the driver already built every datetime: nothing to share
    while rows := cursor.fetchmany(_CHUNK):
        for row in rows:
            state[row[0], row[2]] = _stored_from_raw(row, parse, poll_time)


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
    _r.status_since_exact,
)


def _stored_from_raw(
    row: Sequence[Any], utc: Callable[[Any], datetime], poll_time: Callable[[Any], datetime]
) -> StoredRegistration:
    cid, cname, pid, pname, country, status, requested, first, since, missing, present, exact = row
    requested_at = utc(requested)
    reg = Registration(cid, cname, pid, pname, country, status, requested_at)
    # A PENDING_APPROVAL seen from its request is in it since requested_on (SPEC 11): that one
    # object, not a poll time (100,000 distinct values would swell the shared cache).
    since_at = requested_at if since == requested else poll_time(since)
    return StoredRegistration(reg, poll_time(first), since_at, missing, bool(present), bool(exact))


def _sqlite_utc(value: str | datetime) -> datetime:
    # SQLAlchemy stores SQLite datetimes as naive UTC text, "2024-01-01 00:00:00.000000".
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _aware_utc(value: datetime) -> datetime:
    # psycopg gives timestamptz in the session's time zone, UTC as app.db sets it up.
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
