"""The reads of the web page (SPEC 10): read-only, each a bounded SELECT; the board and the
timeline reuse app/db/queries.py (the rows of `flinkswatch status` and `history`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.core.report import HistoryRow, Report
from app.db import queries, tables
from app.db.engine import reading
from app.db.reports import load_report, report_history
from app.domain import Key

Row = dict[str, object]


class WebReads:
    """What the pages show, read from one engine; no method writes."""

    def __init__(self, engine: Engine, stuck_after: Mapping[str, timedelta]) -> None:
        self._engine = engine
        self.stuck_after = stuck_after

    def current(self, filters: queries.Filters) -> list[Row]:
        """The rows of `flinkswatch status` (the board filters them further)."""
        return queries.current(self._engine, filters)

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

    def report(self, now: datetime) -> Report:
        return load_report(self._engine, now, self.stuck_after)

    def moves(self, since: datetime) -> list[HistoryRow]:
        """The moves observed since `since` (and first sightings): the weekly chart's input."""
        return report_history(self._engine, since)

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
            .order_by(e.observed_at.desc(), e.id.desc())
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
            .order_by(d.created_at.desc(), d.id.desc())
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
