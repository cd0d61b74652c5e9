"""Digests in the database (SPEC 9): what a digest is computed from (the history of its period,
the pending registrations, the polls and blind periods, and the queries of `report` for the
90-day medians), and the digests table with one outbox delivery per channel. The content itself
is app.core.digest's."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.core.digest import (
    MEDIAN_WINDOW,
    BlindPeriod,
    Digest,
    DigestContent,
    DigestInputs,
    LastDigests,
    from_json,
    to_json,
)
from app.core.report import ACTIVE
from app.db.engine import reading, translate_errors
from app.db.reports import report_history
from app.db.state import read_state
from app.db.tables import deliveries, digests, poll_runs, registration_events, watcher_notices
from app.delivery import DeliveryStatus
from app.domain import Event, EventKind, NoticeKind, Outcome

DIGEST_KIND = "digest"  # deliveries.kind
_EVENT_FIELDS = tuple(f for f in Event.__dataclass_fields__ if f != "changes")


class DigestTable:
    def __init__(self, engine: Engine, fence: Callable[[Connection], None] | None = None) -> None:
        self._engine = engine
        self._fence = fence or (lambda _conn: None)

    def last(self, now: datetime) -> LastDigests:
        """As of `now`: a digest recorded while the clock ran ahead (its times later than
        now) neither starts the next period nor stands for a scheduled time already served."""
        d, p = digests.c, poll_runs.c
        with reading(self._engine) as conn:
            end = conn.execute(
                sa.select(sa.func.max(d.period_end)).where(d.period_end <= now)
            ).scalar()
            fire = conn.execute(sa.select(sa.func.max(d.fire_at)).where(d.fire_at <= now)).scalar()
            first = conn.execute(sa.select(sa.func.min(p.started_at))).scalar()
        return LastDigests(end, fire, first)

    def inputs(self, start: datetime, end: datetime) -> DigestInputs:
        """Everything the digest of [start, end) is computed from."""
        e = registration_events.c
        in_period = (e.observed_at >= start, e.observed_at < end)
        with reading(self._engine) as conn:
            moves: dict[str, int] = dict(
                conn.execute(
                    sa.select(e.event, sa.func.count()).where(*in_period).group_by(e.event)
                ).all()
            )
            activations = conn.execute(
                sa.select(*(e[name] for name in _EVENT_FIELDS))
                .where(
                    *in_period,
                    e.to_status == ACTIVE,
                    e.event.in_([EventKind.STATUS_CHANGED.value, EventKind.REAPPEARED.value]),
                )
                .order_by(e.observed_at, e.id)
            ).all()
            polls, failed = _polls(conn, start, end)
            blind = _blind(conn, start, end)
        pending = [
            s
            for s in read_state(self._engine).values()
            if s.present and s.registration.registration_status != ACTIVE
        ]
        return DigestInputs(
            moves=moves,
            activations=[
                Event(**{**row._mapping, "event": EventKind(row.event)}) for row in activations
            ],
            pending=pending,
            history=report_history(self._engine, since=end - MEDIAN_WINDOW),
            polls=polls,
            failed_polls=failed,
            blind=blind,
        )

    def record(
        self, content: DigestContent, fire_at: datetime | None, channels: Sequence[str]
    ) -> int | None:
        """The digest and one pending delivery per channel, in one transaction. None when a
        digest for `fire_at` is recorded already (by a previous start or another leader)."""
        row = {
            "period_start": content.start,
            "period_end": content.end,
            "fire_at": fire_at,
            "content": to_json(content),
            "created_at": content.end,
        }
        from sqlalchemy.dialects import postgresql, sqlite  # on use: `status` loads neither

        dialect = self._engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(digests)
            .values(row)
            .on_conflict_do_nothing(index_elements=["fire_at"])
            .returning(digests.c.id)
        )
        with translate_errors(self._engine), self._engine.begin() as conn:
            self._fence(conn)
            digest_id: int | None = conn.execute(stmt).scalar()
            if digest_id is None:
                return None
            base = {"digest_id": digest_id, "kind": DIGEST_KIND, "created_at": content.end}
            pending = DeliveryStatus.PENDING.value
            rows = [{**base, "channel": ch, "status": pending} for ch in dict.fromkeys(channels)]
            if rows:
                conn.execute(sa.insert(deliveries), rows)
        return digest_id


def _polls(conn: Connection, start: datetime, end: datetime) -> tuple[int, int]:
    p = poll_runs.c
    failed = sa.func.sum(sa.case((p.outcome == Outcome.FAILED.value, 1), else_=0))
    stmt = sa.select(sa.func.count(), failed).where(p.started_at >= start, p.started_at < end)
    total, failures = conn.execute(stmt).one()
    return int(total or 0), int(failures or 0)


def _blind(conn: Connection, start: datetime, end: datetime) -> list[BlindPeriod]:
    """The blind periods overlapping [start, end): each announcement (not its reminders) with
    its recovery, so an outage begun before the period and still going is not missed."""
    n, r = watcher_notices.c, watcher_notices.alias("recovered").c
    recovered = (
        sa.select(sa.func.min(r.created_at))
        .where(r.kind == NoticeKind.WATCHER_RECOVERED.value, r.id > n.id)
        .scalar_subquery()
    )
    stmt = (
        sa.select(n.since, n.created_at, n.cause, recovered)
        .where(
            n.kind == NoticeKind.WATCHER_BLIND.value,
            n.repeat.is_(False),
            n.created_at < end,
            sa.or_(recovered.is_(None), recovered >= start),  # overlaps the period
        )
        .order_by(n.id)
    )
    return [
        BlindPeriod(since or created, cause, back)
        for since, created, cause, back in conn.execute(stmt)
    ]


def load_digests(conn: Connection, ids: Iterable[int]) -> dict[int, Digest]:
    """The stored digests by id, as the summaries their deliveries carry."""
    wanted = set(ids)
    if not wanted:
        return {}
    d = digests.c
    rows = conn.execute(sa.select(d.id, d.content, d.created_at).where(d.id.in_(wanted)))
    return {
        row.id: Digest(0, row.created_at, 0, (), digest_id=row.id, content=from_json(row.content))
        for row in rows
    }
