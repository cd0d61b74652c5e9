"""The Slack board's reads and its message reference (SPEC 10): the slack_boards table, and the
facts the board shows, read with the queries `status`, `report` and the stuck reminders already
use, and the mark that says when the providers' figures must be folded again."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.core.ack import active
from app.core.report import ProviderStats, stuck_now
from app.db import acks, queries
from app.db.boardreads import late as late_in
from app.db.boardreads import stuck
from app.db.engine import reading, translate_errors
from app.db.outbox import EVENT_FIELDS, event_from_row
from app.db.polls import PollReads
from app.db.reports import provider_figures
from app.db.tables import registration_events, registrations, slack_boards
from app.domain import Event, EventKind, StoredRegistration
from app.notify.board_render import STUCK_SHOWN, BoardFacts, BoardRef

_NOT_CHANGES = (EventKind.BASELINE.value, EventKind.STUCK.value, EventKind.ACKNOWLEDGED.value)
_NOT_FOLDED = (EventKind.STUCK.value, EventKind.ACKNOWLEDGED.value)


class BoardTable(PollReads):
    def __init__(self, engine: Engine, fence: Callable[[Connection], None] | None = None) -> None:
        self._engine = engine
        self._fence = fence or (lambda _conn: None)

    def board_ref(self, destination: str) -> BoardRef | None:
        """The board message of a destination as configured (SLACK_CHANNEL), or None."""
        b = slack_boards.c
        stmt = sa.select(b.slack_channel, b.ts, b.content_digest, b.updated_at)
        with reading(self._engine) as conn:
            row = conn.execute(stmt.where(b.destination == destination)).first()
        if row is None:
            return None
        return BoardRef(row.slack_channel, row.ts, row.content_digest, row.updated_at)

    def save_board(self, destination: str, ref: BoardRef, now: datetime) -> None:
        row = {
            "destination": destination,
            "slack_channel": ref.slack_channel,
            "ts": ref.ts,
            "content_digest": ref.digest,
            "updated_at": now,
        }
        from sqlalchemy.dialects import postgresql, sqlite  # on use: `status` loads neither

        with translate_errors(self._engine), self._engine.begin() as conn:
            self._fence(conn)
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(slack_boards).values(row)
            changed = {k: stmt.excluded[k] for k in row if k != "destination"}
            conn.execute(stmt.on_conflict_do_update(index_elements=["destination"], set_=changed))

    def figures_mark(self) -> int:
        """The newest event the providers' figures depend on (0: none): any but a reminder or
        an acknowledgement, which change nobody's time to ACTIVE. Read backwards along the
        primary key until one is found."""
        e = registration_events.c
        stmt = sa.select(e.id).where(e.event.not_in(_NOT_FOLDED)).order_by(e.id.desc()).limit(1)
        with reading(self._engine) as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def provider_stats(self, now: datetime) -> tuple[ProviderStats, ...]:
        """The report's per-provider figures over the whole history (app.db.reports)."""
        return provider_figures(self._engine, now)

    def board_facts(
        self,
        now: datetime,
        stuck_after: Mapping[str, timedelta],
        late: Mapping[int, timedelta] | None = None,
    ) -> BoardFacts:
        """Counts; the first STUCK_SHOWN stuck ones (longest first) and, `late` (provider_id ->
        the waiting past which it is late, app.core.expect.late_thresholds), the first late ones
        not stuck (longest waiting first), with how many of each; the last change and poll.
        Only the registrations shown are read: at 100,000 with most stuck, reading them all
        took seconds, every cycle."""
        counts = queries.status_counts(self._engine)
        r = registrations.c
        is_stuck = sa.and_(r.present.is_(True), stuck(now, stuck_after, self._engine.dialect.name))
        is_late = sa.and_(r.present.is_(True), sa.or_(sa.false(), *late_in(now, late or {})))
        since = sa.case((r.status_since_exact.is_(True), r.status_since), else_=r.requested_on)
        with reading(self._engine) as conn:
            found, stuck_total = _first(conn, is_stuck, since)
            overdue, late_total = _first(conn, sa.and_(is_late, sa.not_(is_stuck)), r.requested_on)
            taken = acks.latest(conn, [s.key for s in (*found, *overdue)])
            change = _last_change(conn)
        return BoardFacts(
            tuple(sorted(counts.items())),
            stuck_now(found, now, stuck_after),
            change,
            self.last_success_at(),
            tuple(
                (s.key, ack.by)
                for s in (*found, *overdue)
                if (ack := taken.get(s.key)) is not None and active(ack, s, now)
            ),
            late=overdue,
            now=now,
            stuck_total=stuck_total,
            late_total=late_total,
        )


def _first(
    conn: Connection, where: sa.ColumnElement[bool], oldest: sa.ColumnElement[Any]
) -> tuple[tuple[StoredRegistration, ...], int]:
    """The first STUCK_SHOWN registrations matching `where`, `oldest` first (then by recipient
    and provider name, as app.core.report.stuck_now), and how many match."""
    r = registrations.c
    stmt = (
        sa.select(registrations)
        .where(where)
        .order_by(oldest, r.client_name, r.provider_name, r.client_id, r.provider_id)
        .limit(STUCK_SHOWN)
    )
    shown = tuple(acks.stored_from(dict(row._mapping)) for row in conn.execute(stmt))
    total = conn.execute(sa.select(sa.func.count()).select_from(registrations).where(where))
    return shown, int(total.scalar_one())


def _last_change(conn: Connection) -> Event | None:
    e = registration_events.c
    stmt = (
        sa.select(e.id, *(e[n] for n in EVENT_FIELDS), e.previous_status_since, e.details)
        .where(e.event.not_in(_NOT_CHANGES))
        .order_by(e.observed_at.desc(), e.id.desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    return event_from_row(row) if row is not None else None
