"""The reads of the web page (SPEC 10): read-only, each a bounded SELECT or a streamed one; the
board's are app/db/boardreads.py, the timeline reuses app/db/queries.py (`history`), the
providers' statistics those of `flinkswatch report` (app/db/reports.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.core.ack import Acknowledgement
from app.core.report import ProviderStats
from app.db import acks, queries, tables
from app.db.attention import Attention, attention
from app.db.boardreads import BoardFilter, BoardPage, BoardReads, matching, needs_attention
from app.db.engine import reading
from app.db.reports import provider_figures
from app.domain import EventKind, Key, Outcome

Row = dict[str, object]


class WebReads:
    """What the pages show, read from one engine; no method writes."""

    def __init__(
        self,
        engine: Engine,
        stuck_after: Mapping[str, timedelta],
        late_after: float | None = 0.9,  # LATE_AFTER (SPEC 11)
        expect_min_activations: int = 5,  # EXPECT_MIN_ACTIVATIONS
    ) -> None:
        self._engine = engine
        self.stuck_after = stuck_after
        self.late_after, self.expect_min_activations = late_after, expect_min_activations

    def current(self, filters: queries.Filters) -> list[Row]:
        """The rows of `flinkswatch status`."""
        return queries.current(self._engine, filters)

    def board(
        self,
        f: BoardFilter,
        now: datetime,
        page: int,
        per_page: int,
        late: Mapping[int, timedelta] | None = None,
    ) -> BoardPage:
        """One page of the board, and how many of its registrations need attention (`late`:
        as attention() takes it); see BoardReads.page."""
        dialect = self._engine.dialect.name
        where = matching(f, now, self.stuck_after, dialect)
        flagged = needs_attention(now, self.stuck_after, dialect, late)
        return BoardReads(self._engine).page(where, page, per_page, flagged)

    def board_export(self, f: BoardFilter, now: datetime) -> Iterator[Sequence[object]]:
        """Every registration the board's filters keep, as records of STATUS_COLUMNS,
        streamed (see BoardReads.stream)."""
        return BoardReads(self._engine).stream(
            matching(f, now, self.stuck_after, self._engine.dialect.name)
        )

    def attention(
        self,
        f: BoardFilter,
        now: datetime,
        order: str,
        limit: int,
        late: Mapping[int, timedelta] | None = None,
        total: int | None = None,
    ) -> Attention:
        """The board's "needs attention" list under its filters (app/db/attention.py); `late`:
        provider_id -> the waiting past which its registrations are late; `total`: their
        count when already known (board()'s `flagged`), which saves a scan."""
        dialect = self._engine.dialect.name
        where = [*matching(f, now, self.stuck_after, dialect)]
        where.append(needs_attention(now, self.stuck_after, dialect, late))
        return attention(self._engine, where, order, limit, total)

    def last_success_at(self) -> datetime | None:
        """When the latest ok or degraded poll finished (the board's "polled 40 s ago")."""
        p = tables.poll_runs.c
        success = (Outcome.OK.value, Outcome.DEGRADED.value)
        stmt = sa.select(p.finished_at).where(p.outcome.in_(success))
        with reading(self._engine) as conn:
            found: datetime | None = conn.execute(stmt.order_by(p.id.desc()).limit(1)).scalar()
        return found

    def first_key(self) -> Row | None:
        """One present registration's key (the benchmark times its timeline)."""
        r = tables.registrations.c
        stmt = sa.select(r.client_id, r.provider_id).where(r.present.is_(True)).limit(1)
        return next(iter(self._rows(stmt)), None)

    def acknowledgements(self) -> dict[Key, Acknowledgement]:
        """Each registration's latest acknowledgement (SPEC 12; few, whatever the state)."""
        return acks.latest_of(self._engine, None)

    def events(self, key: Key) -> list[Row]:
        """Every event of one registration, oldest first."""
        return queries.history(self._engine, queries.Filters(client_id=key[0], provider_id=key[1]))

    def threads(self, key: Key) -> list[Row]:
        """The Slack thread of the registration in each destination where one was started."""
        t = tables.slack_threads.c
        stmt = (
            sa.select(t.destination, t.slack_channel, t.ts)
            .where(t.client_id == key[0], t.provider_id == key[1])
            .order_by(t.destination)
        )
        return self._rows(stmt)

    def history_mark(self) -> int:
        """The newest event's id (0: none): every change the providers' figures show (a move,
        an addition, a removal, a rename) is an event, so a new mark means new figures."""
        e = tables.registration_events.c
        with reading(self._engine) as conn:
            return int(conn.execute(sa.select(sa.func.max(e.id))).scalar() or 0)

    def provider_stats(self) -> tuple[ProviderStats, ...]:
        """The statistics of `flinkswatch report` per provider, over the whole history."""
        return provider_figures(self._engine, datetime.now(UTC))

    def moves(self, since: datetime) -> list[tuple[str, datetime]]:
        """(to_status, observed_at) of the moves into PENDING_ACTIVATION or ACTIVE observed
        since `since`: the weekly chart's input (the index on observed_at serves it)."""
        e = tables.registration_events.c
        stmt = sa.select(e.to_status, e.observed_at).where(
            e.observed_at >= since,
            e.event == EventKind.STATUS_CHANGED.value,
            e.to_status.in_(("PENDING_ACTIVATION", "ACTIVE")),
        )
        with reading(self._engine) as conn:
            return [(str(to), at) for to, at in conn.execute(stmt)]

    def recent_events(self, limit: int) -> list[Row]:
        e = tables.registration_events.c
        stmt = (
            sa.select(
                e.observed_at,
                e.event,
                e.client_id,
                e.client_name,
                e.provider_id,
                e.provider_name,
                e.from_status,
                e.to_status,
            )
            .order_by(e.id.desc())  # newest recorded first, whatever the clock said then
            .limit(limit)
        )
        return self._rows(stmt)

    def open_deliveries(self, limit: int) -> list[Row]:
        """Deliveries not sent: pending ones (retried) and failed ones, with their last error."""
        d = tables.deliveries.c
        stmt = (
            sa.select(
                d.id,
                d.created_at,
                d.channel,
                d.kind,
                d.status,
                d.attempts,
                d.next_attempt_at,
                d.last_error,
            )
            .where(d.status.in_(("pending", "failed")))
            # Newest first by id, which follows created_at (set at insert): the primary key
            # walked backwards stops at `limit` rows, where sorting by created_at read every
            # open delivery (41,000 after a day of a channel down: 200 ms on PostgreSQL).
            .order_by(d.id.desc())
            .limit(limit)
        )
        return self._rows(stmt)

    def polls(self, limit: int) -> list[Row]:
        p = tables.poll_runs.c
        stmt = (
            sa.select(
                p.id,
                p.started_at,
                p.finished_at,
                p.outcome,
                p.rows_seen,
                p.rows_skipped,
                p.events,
                p.failure_kind,
                p.error,
            )
            .order_by(p.id.desc())
            .limit(limit)
        )
        return self._rows(stmt)

    def notices(self, limit: int) -> list[Row]:
        """The watcher's own notices (blind, recovered, a channel failing...), newest first."""
        n = tables.watcher_notices.c
        stmt = (
            sa.select(n.id, n.created_at, n.kind, n.channel, n.since, n.failures, n.last_error)
            .order_by(n.id.desc())
            .limit(limit)
        )
        return self._rows(stmt)

    def _rows(self, stmt: sa.Select[tuple[object, ...]]) -> list[Row]:
        with reading(self._engine) as conn:
            return [dict(row._mapping) for row in conn.execute(stmt)]
