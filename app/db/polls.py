"""The poll cycle's small reads of its own bookkeeping (poll_runs, the state's flags), mixed
into app.db.store.Store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import holds
from app.db.engine import reading
from app.db.tables import poll_runs, registrations
from app.domain import HoldState, Outcome

_SUCCESS = (Outcome.OK.value, Outcome.DEGRADED.value)


@dataclass(frozen=True, slots=True)
class PollInfo:
    id: int
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    error: str | None


class PollReads:
    _engine: Engine

    def last_success_id(self) -> int | None:
        """The id of the latest ok or degraded poll: the one whose state is stored now."""
        p = poll_runs.c
        stmt = sa.select(p.id).where(p.outcome.in_(_SUCCESS)).order_by(p.id.desc()).limit(1)
        with reading(self._engine) as conn:
            found: int | None = conn.execute(stmt).scalar()
        return found

    def last_answer_digest(self) -> str | None:
        """The digest of the latest successful poll if it was ok; None if it was degraded."""
        last = self.last_complete_answer()
        return None if last is None else last[0]

    def last_complete_answer(self) -> tuple[str, int] | None:
        """(digest, rows seen) of the latest successful poll if it was ok (complete); None if
        it was degraded or there is none."""
        p = poll_runs.c
        stmt = (
            sa.select(p.outcome, p.answer_digest, p.rows_seen)
            .where(p.outcome.in_(_SUCCESS))
            .order_by(p.id.desc())
            .limit(1)
        )
        with reading(self._engine) as conn:
            row = conn.execute(stmt).first()
        if row is None or row.outcome != Outcome.OK or row.answer_digest is None:
            return None
        return row.answer_digest, row.rows_seen

    def has_pending_removals(self) -> bool:
        """Any present registration missing from recent answers (a removal may be due)."""
        r = registrations.c
        stmt = sa.select(sa.exists().where(r.present.is_(True), r.missing_polls > 0))
        with reading(self._engine) as conn:
            return bool(conn.execute(stmt).scalar())

    def removal_hold(self) -> HoldState:
        """The mass-shrink hold the next cycle finds (app.db.holds)."""
        return holds.hold_state(self._engine)

    def last_poll(self) -> PollInfo | None:
        p = poll_runs.c
        stmt = sa.select(p.id, p.started_at, p.finished_at, p.outcome, p.error)
        with reading(self._engine) as conn:
            row = conn.execute(stmt.order_by(p.id.desc()).limit(1)).first()
        if row is None:
            return None
        return PollInfo(row.id, row.started_at, row.finished_at, Outcome(row.outcome), row.error)

    def last_success_at(self) -> datetime | None:
        """When the latest ok or degraded poll finished."""
        p = poll_runs.c
        stmt = (
            sa.select(p.finished_at).where(p.outcome.in_(_SUCCESS)).order_by(p.id.desc()).limit(1)
        )
        with reading(self._engine) as conn:
            found: datetime | None = conn.execute(stmt).scalar()
        return found
