"""What Slack interactivity reads and writes (SPEC 12): a click's acknowledgement (app.db.acks)
and the slash command's lists, each the first `limit` registrations with the total count."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.core.ack import Acknowledgement, Request, Taken
from app.core.expect import Outlook, outlooks
from app.db import acks
from app.db.boardreads import late as late_in
from app.db.boardreads import stuck
from app.db.engine import reading
from app.db.reports import provider_figures
from app.db.tables import registrations
from app.domain import Key, StoredRegistration

Found = tuple[list[StoredRegistration], int]


class SlackReads:
    def __init__(
        self,
        engine: Engine,
        stuck_after: Mapping[str, timedelta],
        plan: acks.Planner | None = None,
        late_after: float | None = 0.9,  # LATE_AFTER
        expect_min_activations: int = 5,  # EXPECT_MIN_ACTIVATIONS
    ) -> None:
        self._engine = engine
        self._stuck_after = dict(stuck_after)
        self._plan = plan
        self._late_after, self._min = late_after, expect_min_activations

    def outlooks(self, now: datetime) -> dict[int, Outlook]:
        """Each provider's time to ACTIVE (SPEC 11), folded from the history for one answer
        (about a second at 150,000 events: a slash command is rare, its answer has 3 s)."""
        return outlooks(provider_figures(self._engine, now), self._late_after, self._min)

    def take(self, request: Request, now: datetime) -> Taken:
        return acks.take(self._engine, request, now, self._plan)

    def acknowledgements(self, keys: Collection[Key]) -> dict[Key, Acknowledgement]:
        return acks.latest_of(self._engine, keys)

    def stuck(self, now: datetime, limit: int, late: Mapping[int, timedelta]) -> Found:
        """Present registrations stuck (the day-one rule of the board and the reminders) or late
        (`late`: provider_id -> the waiting past which it is), longest waiting first."""
        clauses = [stuck(now, self._stuck_after, self._engine.dialect.name), *late_in(now, late)]
        return self._found(sa.or_(*clauses), limit)

    def search(self, text: str, limit: int) -> Found:
        """Present registrations whose provider, recipient or client_id contains `text`,
        case-insensitively, longest waiting first."""
        r = registrations.c
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        columns = (r.provider_name, r.client_name, r.client_id)
        where = sa.or_(*(sa.func.lower(c).like(pattern, escape="\\") for c in columns))
        return self._found(where, limit)

    def _found(self, where: sa.ColumnElement[bool], limit: int) -> Found:
        r = registrations.c
        present = sa.and_(r.present.is_(True), where)
        rows = (
            sa.select(registrations)
            .where(present)
            .order_by(r.requested_on, r.client_id, r.provider_id)
            .limit(limit)
        )
        count = sa.select(sa.func.count()).select_from(registrations).where(present)
        with reading(self._engine) as conn:
            found = [acks.stored_from(dict(row._mapping)) for row in conn.execute(rows)]
            total = conn.execute(count).scalar_one()
        return found, int(total)
