"""The delivery outbox: which alerts each channel still owes, and the bookkeeping of each try.
Rows are created by app.store in the poll's own transaction; this module reads and updates them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from app.db import notices
from app.db.digests import load_digests
from app.db.engine import reading, translate_errors
from app.db.tables import deliveries, registration_events, removal_holds
from app.delivery import DeliveryStatus, PendingDelivery, attempts_allowed
from app.domain import BaselineSummary, Event, EventKind, RemovalsHeld

_MAX_ERROR_CHARS = 500
_NO_HOLD = 2**62  # larger than any delivery id
# No service asks for a longer wait (Slack's Retry-After is capped at an hour): a next try
# further ahead was set while the clock ran ahead, and holds nothing once it is back.
MAX_WAIT = timedelta(days=1)
# The columns of registration_events named as the Event fields.
EVENT_FIELDS = tuple(
    f.name for f in fields(Event) if f.name not in ("previous_status_since", "changes")
)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    d = deliveries.c
    return sa.or_(
        d.next_attempt_at.is_(None),
        d.next_attempt_at <= now,
        d.next_attempt_at > now + MAX_WAIT,  # asked while the clock ran ahead: no wait now
    )


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with translate_errors(self._engine), self._engine.begin() as conn:
            yield conn

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
                d.notice_id,
                d.digest_id,
                d.created_at,
                *(e[name] for name in EVENT_FIELDS),
                e.previous_status_since,
                e.details,
            )
            .select_from(deliveries.outerjoin(registration_events, d.event_id == e.id))
            .where(
                d.channel == channel,
                d.status == DeliveryStatus.PENDING.value,
                _due(now),
                # A channel told to wait (429 Retry-After) waits as a whole: nothing recorded
                # after the held delivery overtakes it, whatever poll it came from.
                d.id < sa.func.coalesce(self._held_from(channel, now), _NO_HOLD),
            )
            .order_by(d.id)
            .limit(limit)
        )
        with reading(self._engine) as conn:
            rows = conn.execute(stmt).all()
            summary_polls = {r.delivery_poll_id for r in rows if r.kind == "summary"}
            summaries = _baseline_counts(conn, summary_polls)
            held_polls = {r.delivery_poll_id for r in rows if r.kind == "held"}
            summaries = {**summaries, **{-pid: n for pid, n in _holds(conn, held_polls).items()}}
            notice_ids = {r.notice_id for r in rows if r.notice_id}
            digest_ids = {r.digest_id for r in rows if r.digest_id}
            found: dict[tuple[str, int], BaselineSummary] = {
                ("notice", i): n for i, n in notices.load_notices(conn, notice_ids).items()
            }
            found |= {("digest", i): g for i, g in load_digests(conn, digest_ids).items()}
        return [_pending_from_row(r, summaries, found) for r in rows]

    @staticmethod
    def _held_from(channel: str, now: datetime) -> sa.ScalarSelect[Any]:
        """The first pending delivery of `channel` whose next try is still in the future."""
        d = deliveries.c
        return (
            sa.select(sa.func.min(d.id))
            .where(
                d.channel == channel,
                d.status == DeliveryStatus.PENDING.value,
                d.next_attempt_at > now,
                d.next_attempt_at <= now + MAX_WAIT,
            )
            .scalar_subquery()
        )

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
        count_attempt: bool = True,
    ) -> None:
        """Count a failed attempt; at `attempts_allowed(max_attempts, permanent=...)` failed
        attempts the delivery gives up (status failed). `count_attempt=False` (deliveries queued
        behind a failure, never tried) only records the reason and the next try time."""
        d = deliveries.c
        attempts: Any = d.attempts + 1 if count_attempt else d.attempts
        status: Any = DeliveryStatus.PENDING.value
        if count_attempt:
            status = sa.case(
                (
                    attempts >= attempts_allowed(max_attempts, permanent=permanent),
                    DeliveryStatus.FAILED.value,
                ),
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

    def list_deliveries(
        self, status: str | None = None, channel: str | None = None, limit: int = 1000
    ) -> list[dict[str, object]]:
        """Deliveries newest first with what they carry, for `flinkswatch deliveries`."""
        d, e = deliveries.c, registration_events.c
        stmt = (
            sa.select(
                d.id,
                d.created_at,
                d.channel,
                d.kind,
                d.status,
                d.attempts,
                d.next_attempt_at,
                d.sent_at,
                d.last_error,
                d.external_ref,
                e.event,
                e.client_id,
                e.provider_id,
                e.provider_name,
                e.to_status,
            )
            .select_from(deliveries.outerjoin(registration_events, d.event_id == e.id))
            .order_by(d.id.desc())
            .limit(limit)
        )
        if status is not None:
            stmt = stmt.where(d.status == status)
        if channel is not None:
            stmt = stmt.where(d.channel == channel)
        with reading(self._engine) as conn:
            return [dict(row._mapping) for row in conn.execute(stmt)]


def event_from_row(row: Row[*tuple[Any, ...]]) -> Event:
    fields = {name: getattr(row, name) for name in EVENT_FIELDS}
    details = load_details(row.details) or {}
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


def _holds(conn: Connection, poll_ids: set[int]) -> dict[int, BaselineSummary]:
    """The removals-held alert of each poll that opened a hold (app.db.holds)."""
    if not poll_ids:
        return {}
    h = removal_holds.c
    stmt = sa.select(h.poll_id, h.opened_at, h.present, h.listed).where(h.poll_id.in_(poll_ids))
    return {
        row.poll_id: RemovalsHeld(
            row.poll_id, row.opened_at, 0, (), present=row.present, listed=row.listed
        )
        for row in conn.execute(stmt)
    }


def _pending_from_row(
    row: Row[*tuple[Any, ...]],
    summaries: dict[int, BaselineSummary],
    found: dict[tuple[str, int], BaselineSummary],
) -> PendingDelivery:
    summary: BaselineSummary | None = None
    if row.notice_id is not None:
        summary = found[("notice", row.notice_id)]
    elif row.digest_id is not None:
        summary = found[("digest", row.digest_id)]
    elif row.kind in ("summary", "held"):
        # A held notice is keyed by minus its poll id: a poll never has both, but stay distinct.
        key = -row.delivery_poll_id if row.kind == "held" else row.delivery_poll_id
        empty = BaselineSummary(row.delivery_poll_id, row.created_at, 0, ())
        summary = summaries.get(key, empty)
    return PendingDelivery(
        id=row.delivery_id,
        poll_id=row.delivery_poll_id or 0,  # 0: a digest, which belongs to no poll
        channel=row.channel,
        attempts=row.attempts,
        summary=summary,
        event=event_from_row(row) if row.kind == "event" else None,
        created_at=row.created_at,
    )


def load_details(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None
