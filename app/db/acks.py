"""Acknowledgements in the database (SPEC 12): `acknowledged` events, written in one transaction
with their deliveries (when ALERT_EVENTS names them), read back as each registration's latest.
A Slack click carries its identity (`action_key`, UNIQUE): a retried click, on any replica,
inserts nothing and reads who took it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.core import ack
from app.core.ack import Acknowledgement as Acknowledgement
from app.core.ack import Outcome as Outcome
from app.core.ack import Request as Request
from app.core.ack import Taken as Taken
from app.db.engine import reading, translate_errors
from app.db.tables import deliveries, poll_runs, registration_events, registrations
from app.delivery import DeliveryStatus
from app.domain import DeliveryPlan, Event, EventKind, Key, Registration, StoredRegistration

Planner = Callable[[Event], DeliveryPlan]


def take(engine: Engine, request: Request, now: datetime, plan: Planner | None = None) -> Taken:
    """Record the request's `acknowledged` event and its deliveries in one transaction, once."""
    with translate_errors(engine), engine.begin() as conn:
        state = _state(conn, request.key)
        if state is None:
            return Taken(Outcome.UNKNOWN)
        if request.action_key is not None and (known := _by_action(conn, request.action_key)):
            return Taken(Outcome.TAKEN, known, state)
        if request.seen is not None and ack.moved(state, *request.seen):
            return Taken(Outcome.MOVED, None, state)
        current = latest(conn, [request.key]).get(request.key)
        if request.clear and not ack.active(current, state, now):
            return Taken(Outcome.NOT_ACKNOWLEDGED, None, state)
        until = now if request.clear else request.until
        event = ack.acknowledged(state, now, request.by, request.note, until)
        # The latest poll recorded the state acknowledged (a registration exists: so does a poll).
        poll_id = conn.execute(sa.select(sa.func.max(poll_runs.c.id))).scalar_one()
        event_id = _insert(conn, poll_id, event, request.action_key)
        if event_id is None:  # another replica recorded this very click a moment ago
            return Taken(Outcome.TAKEN, _by_action(conn, request.action_key or ""), state)
        if plan is not None:
            _deliveries(conn, (poll_id, event_id), event, plan(event), now)
        return Taken(Outcome.RECORDED, _from_event(event), state)


def latest(conn: Connection, keys: Collection[Key] | None) -> dict[Key, Acknowledgement]:
    """The latest `acknowledged` event of each of `keys` (few: the stuck candidates), or of
    every registration (None: acknowledgements are few, whatever the state's size)."""
    if keys is not None and not keys:
        return {}
    e = registration_events.c
    where = [e.event == EventKind.ACKNOWLEDGED.value]
    if keys is not None:
        where.append(sa.tuple_(e.client_id, e.provider_id).in_(list(keys)))
    # No ORDER BY: SQLite would rather scan the table in id order than read the partial index
    # of acknowledged events (ix_registration_events_acknowledged) and sort the few it finds.
    stmt = sa.select(e.id, e.client_id, e.provider_id, e.by, e.note, e.until, e.observed_at)
    rows = sorted(conn.execute(stmt.where(*where)), key=lambda row: row.id)
    return {(row.client_id, row.provider_id): _from_row(row) for row in rows}


def add_acknowledged(engine: Engine, rows: list[dict[str, Any]], now: datetime) -> None:
    """Give each row of `registrations` (status) its `acknowledged`: by, note, at and until of
    the acknowledgement that holds now, or None."""
    with reading(engine) as conn:
        taken = latest(conn, None)
    for row in rows:
        found = taken.get((row["client_id"], row["provider_id"]))
        holds = ack.holds(found, row["status_since"], bool(row.get("present", True)), now)
        row["acknowledged"] = shown(found) if holds and found is not None else None


def shown(found: Acknowledgement) -> dict[str, Any]:
    return {"by": found.by, "note": found.note, "at": found.at, "until": found.until}


def latest_of(engine: Engine, keys: Collection[Key] | None) -> dict[Key, Acknowledgement]:
    with reading(engine) as conn:
        return latest(conn, keys)


def _state(conn: Connection, key: Key) -> StoredRegistration | None:
    r = registrations.c
    stmt = sa.select(registrations).where(r.client_id == key[0], r.provider_id == key[1])
    row = conn.execute(stmt).first()
    return None if row is None else stored_from(dict(row._mapping))


def stored_from(m: Mapping[str, Any]) -> StoredRegistration:
    """A StoredRegistration from a row of `registrations`."""
    reg = Registration(
        client_id=m["client_id"],
        client_name=m["client_name"],
        provider_id=m["provider_id"],
        provider_name=m["provider_name"],
        country=m["country"],
        registration_status=m["registration_status"],
        requested_on=m["requested_on"],
    )
    return StoredRegistration(
        reg,
        first_seen_at=m["first_seen_at"],
        status_since=m["status_since"],
        missing_polls=m["missing_polls"],
        present=m["present"],
        status_since_exact=m["status_since_exact"],
    )


def _by_action(conn: Connection, action_key: str) -> Acknowledgement | None:
    e = registration_events.c
    stmt = sa.select(e.by, e.note, e.until, e.observed_at).where(e.action_key == action_key)
    row = conn.execute(stmt).first()
    return None if row is None else _from_row(row)


def _insert(conn: Connection, poll_id: int, event: Event, action_key: str | None) -> int | None:
    """The event's id, or None when its action_key is taken (ON CONFLICT DO NOTHING)."""
    row = {
        "poll_id": poll_id,
        "event": event.event.value,
        "client_id": event.client_id,
        "client_name": event.client_name,
        "provider_id": event.provider_id,
        "provider_name": event.provider_name,
        "country": event.country,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "requested_on": event.requested_on,
        "observed_at": event.observed_at,
        "previous_status_since": event.previous_status_since,
        "by": event.by,
        "note": event.note,
        "until": event.until,
        "action_key": action_key,
    }
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    stmt = insert(registration_events).values(row).on_conflict_do_nothing()
    found: int | None = conn.execute(stmt.returning(registration_events.c.id)).scalar()
    return found


def _deliveries(
    conn: Connection, ids: tuple[int, int], event: Event, plan: DeliveryPlan, at: datetime
) -> None:
    """The event's outbox rows, as the plan routes it (ids: its poll's and its own)."""
    channels = [ch for ch in plan.everything if event.event in plan.kinds]
    channels += [ch for ch, indexes in plan.routed if indexes]
    if not channels:
        return
    base = {"poll_id": ids[0], "event_id": ids[1], "kind": "event", "created_at": at}
    status = DeliveryStatus.PENDING.value
    rows = [{**base, "channel": ch, "status": status} for ch in channels]
    conn.execute(sa.insert(deliveries), rows)


def _from_row(row: Any) -> Acknowledgement:
    return Acknowledgement(
        by=row.by or "someone", at=row.observed_at, note=row.note, until=row.until
    )


def _from_event(event: Event) -> Acknowledgement:
    return Acknowledgement(
        by=event.by or "someone", at=event.observed_at, note=event.note, until=event.until
    )
