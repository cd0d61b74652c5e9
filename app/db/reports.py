"""The reads behind `flinkswatch report` and the /providers page (issue 12): the history the
statistics fold, and the current state; the statistics themselves are app/core/report.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.core.report import HistoryRow, ProviderStats, Report, build_report, stats_by_provider
from app.db.engine import reading
from app.db.state import read_state
from app.db.tables import registration_events, registrations
from app.db.utctext import parsed, utc_time
from app.domain import ACTIVE, EventKind

# The events that start a registration or move it; the others change no status.
_FOLDED = (
    EventKind.BASELINE,
    EventKind.ADDED,
    EventKind.STATUS_CHANGED,
    EventKind.REMOVED,  # ends a wait: censored there (app.core.lifetimes)
    EventKind.REAPPEARED,
)


def report_history(engine: Engine, since: datetime | None = None) -> list[HistoryRow]:
    """The events the statistics fold, oldest first. `since` keeps the moves observed from then
    on (the digest's "last 90 days"), every first sighting, which says what was not seen, and
    every removal and activation, which say what ended before the window."""
    e = registration_events.c
    dialect = engine.dialect.name
    times = (e.observed_at, e.requested_on, e.previous_status_since)
    stmt = sa.select(
        e.event,
        e.client_id,
        e.provider_id,
        e.provider_name,
        e.from_status,
        e.to_status,
        *(utc_time(c, dialect) for c in times),
    ).where(e.event.in_([kind.value for kind in _FOLDED]))
    if since is not None:
        stmt = stmt.where(
            sa.or_(
                e.observed_at >= since,
                e.event.in_([EventKind.BASELINE, EventKind.ADDED, EventKind.REMOVED]),
                e.to_status == ACTIVE,
            )
        )
    with reading(engine) as conn:
        rows = conn.execute(stmt.order_by(e.observed_at, e.id)).all()
    if not parsed(dialect):
        return [HistoryRow(*row) for row in rows]
    # SQLite's times as text (app/db/utctext.py): 0.5 s less at 150,000 events.
    parse = datetime.fromisoformat
    return [
        HistoryRow(kind, cid, pid, name, was, to, parse(at), parse(asked), since and parse(since))
        for kind, cid, pid, name, was, to, at, asked, since in rows
    ]


def provider_figures(engine: Engine, now: datetime) -> tuple[ProviderStats, ...]:
    """The report's per-provider figures over the whole history, at `now`."""
    r = registrations.c
    stmt = (
        sa.select(r.provider_id, sa.func.max(r.provider_name), sa.func.count())
        .where(r.present.is_(True))
        .group_by(r.provider_id)
    )
    with reading(engine) as conn:
        present = {int(pid): (str(name), int(n)) for pid, name, n in conn.execute(stmt)}
    return stats_by_provider(report_history(engine), present, now)


def load_report(engine: Engine, now: datetime, stuck_after: Mapping[str, timedelta]) -> Report:
    """Per-provider statistics over the whole history, and what is stuck at `now`."""
    history = report_history(engine)
    return build_report(history, list(read_state(engine).values()), now, stuck_after)
