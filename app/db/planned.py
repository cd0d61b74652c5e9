"""The outbox rows one cycle's DeliveryPlan calls for (app.core.routing decided it), written in
the cycle's own transaction (app.db.store)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.db.tables import UTCDateTime, deliveries, registration_events
from app.delivery import DeliveryStatus
from app.domain import DeliveryPlan, EventKind


def insert_deliveries(
    conn: Connection,
    poll_id: int,
    plan: DeliveryPlan,
    created_at: datetime,
    only: EventKind | None = None,
) -> None:
    """The outbox rows of one poll, as planned by app.core.routing: summaries, then the rows
    of channels taking every alerted event (built in SQL from the events just inserted, no id
    round trip), then those of routed channels (by position in the poll's events). `only`: the
    plan is for the poll's events of this kind, recorded after the others (stuck reminders)."""
    base = {"poll_id": poll_id, "status": DeliveryStatus.PENDING.value, "created_at": created_at}
    notices = [(ch, "summary") for ch in plan.summaries] + [(ch, "held") for ch in plan.held]
    if notices:
        rows = [{**base, "event_id": None, "channel": ch, "kind": kind} for ch, kind in notices]
        conn.execute(sa.insert(deliveries), rows)
    e = registration_events.c
    target = ["poll_id", "event_id", "channel", "kind", "status", "created_at"]
    kinds = sorted(kind.value for kind in plan.kinds)
    for channel in plan.everything:
        select = (
            sa.select(
                e.poll_id,
                e.id,
                sa.literal(channel, sa.String()),
                sa.literal("event", sa.String()),
                sa.literal(base["status"], sa.String()),
                sa.literal(created_at, UTCDateTime()),
            )
            .where(e.poll_id == poll_id, e.event.in_(kinds), *_only(only))
            .order_by(e.id)
        )
        conn.execute(sa.insert(deliveries).from_select(target, select))
    if plan.routed:
        # Event ids follow the order of the poll's events (_insert_events).
        ids = conn.execute(
            sa.select(e.id).where(e.poll_id == poll_id, *_only(only)).order_by(e.id)
        ).scalars()
        by_index = list(ids)
        rows = [
            {**base, "event_id": by_index[i], "channel": channel, "kind": "event"}
            for channel, indexes in plan.routed
            for i in indexes
        ]
        conn.execute(sa.insert(deliveries), rows)


def _only(kind: EventKind | None) -> tuple[sa.ColumnElement[bool], ...]:
    return () if kind is None else (registration_events.c.event == kind.value,)
