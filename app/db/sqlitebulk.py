"""SQLite bulk writes, inside the caller's transaction: plain tuples of values converted here
once, sent through one prepared statement (`exec_driver_sql` with many rows: the driver's
executemany, driver errors still translated), the SQLite counterpart of app.db.pgcopy. Through
SQLAlchemy's compiled insert, each of 100,000 rows paid for bind processing of its seven
datetimes, most of a first sync (docs/performance.md). Values are stored exactly as
SQLAlchemy stores them (tables.UTCDateTime on SQLite: naive UTC text with microseconds;
booleans 1 and 0), so either path reads back the same."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from app.db.tables import registration_events, registrations
from app.domain import Event, Key, StoredRegistration

_CHUNK = 5000  # rows per executemany: the tuples of one slice alive at a time


def utc_text(value: datetime | None) -> str | None:
    """A UTC-aware datetime as SQLAlchemy's SQLite DATETIME text: '2026-01-02 03:04:05.000000'."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without its "+00:00"


def _send(conn: Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _CHUNK:
            conn.exec_driver_sql(sql, batch)
            batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)


def _shared_text() -> Callable[[datetime | None], str | None]:
    """utc_text, remembered: poll times (first_seen_at, observed_at...) are few distinct values
    across 100,000 rows."""
    known: dict[datetime | None, str | None] = {}

    def text(value: datetime | None) -> str | None:
        if value in known:
            return known[value]
        found = known[value] = utc_text(value)
        return found

    return text


EVENT_COLUMNS = (
    "poll_id", "event", "client_id", "client_name", "provider_id", "provider_name", "country",
    "from_status", "to_status", "requested_on", "observed_at", "previous_status_since", "details",
    "previous_status_since_exact",
)  # fmt: skip
REGISTRATION_COLUMNS = (
    "client_id", "provider_id", "client_name", "provider_name", "country",
    "registration_status", "requested_on", "first_seen_at", "status_since", "missing_polls",
    "present", "removed_at", "status_since_exact",
)  # fmt: skip


def insert_events(
    conn: Connection,
    poll_id: int,
    events: Sequence[Event],
    details: Callable[[Event], str | None],
) -> None:
    """The events of one poll; executemany inserts in order, so ids follow `events`."""
    shared = _shared_text()
    rows = (
        (
            poll_id, ev.event.value, ev.client_id, ev.client_name, ev.provider_id,
            ev.provider_name, ev.country, ev.from_status, ev.to_status,
            utc_text(ev.requested_on), shared(ev.observed_at), shared(ev.previous_status_since),
            details(ev), 1 if ev.previous_status_since_exact else 0,
        )
        for ev in events
    )  # fmt: skip
    names, marks = ", ".join(EVENT_COLUMNS), ", ".join("?" for _ in EVENT_COLUMNS)
    # Table and column names come from app.db.tables, never from input; values are bound.
    _send(conn, f"INSERT INTO {registration_events.name} ({names}) VALUES ({marks})", rows)  # noqa: S608


def upsert_registrations(
    conn: Connection,
    latest: Sequence[StoredRegistration],
    removed: Mapping[Key, datetime],
    at: datetime,
) -> None:
    """INSERT .. ON CONFLICT with the rule of the other paths: a registration removed earlier
    keeps the time it was first found removed (`removed`: this cycle's removals, else `at`)."""
    shared = _shared_text()
    rows = (
        (
            s.registration.client_id, s.registration.provider_id, s.registration.client_name,
            s.registration.provider_name, s.registration.country,
            s.registration.registration_status, utc_text(s.registration.requested_on),
            shared(s.first_seen_at), shared(s.status_since), s.missing_polls,
            1 if s.present else 0, None if s.present else shared(removed.get(s.key, at)),
            1 if s.status_since_exact else 0,
        )
        for s in latest
    )  # fmt: skip
    columns = REGISTRATION_COLUMNS
    keys = {"client_id", "provider_id"}
    updates = [f"{c} = excluded.{c}" for c in columns if c not in keys and c != "removed_at"]
    updates.append(
        "removed_at = CASE WHEN excluded.present THEN NULL "
        f"ELSE COALESCE({registrations.name}.removed_at, excluded.removed_at) END"
    )
    sql = (
        f"INSERT INTO {registrations.name} ({', '.join(columns)}) "  # noqa: S608 - names only
        f"VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT (client_id, provider_id) DO UPDATE SET {', '.join(updates)}"
    )
    _send(conn, sql, rows)
