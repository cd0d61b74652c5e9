"""The removal_holds table: the mass-shrink hold of SPEC 2 as the next cycle and the CLI see it.
The decisions are app.core.shrink's; this module only reads and writes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.db.engine import reading, translate_errors
from app.db.tables import registrations, removal_holds
from app.domain import Guard, HoldState


@dataclass(frozen=True, slots=True)
class Accepted:
    """What `accept-removals` lifted: the hold, and the removals that follow."""

    present: int
    listed: int
    next_cycle: int  # removals the next cycle concludes if the answer still leaves them out
    later: int  # still missing, but short of REMOVAL_CONFIRM_POLLS complete answers


def _open() -> sa.Select[tuple[datetime | None]]:
    h = removal_holds.c
    return sa.select(h.accepted_at).where(h.closed_at.is_(None)).order_by(h.id.desc()).limit(1)


def hold_state(engine: Engine) -> HoldState:
    with reading(engine) as conn:
        row = conn.execute(_open()).first()
    if row is None:
        return HoldState.NONE
    return HoldState.ACTIVE if row.accepted_at is None else HoldState.ACCEPTED


def record_guard(conn: Connection, poll_id: int, guard: Guard, at: datetime) -> None:
    """Inside the cycle's transaction: open a new hold, or close the open one."""
    if guard.opens:
        row = {"poll_id": poll_id, "opened_at": at, "present": guard.present}
        conn.execute(sa.insert(removal_holds).values(**row, listed=guard.listed))
    elif guard.closes:
        h = removal_holds.c
        conn.execute(sa.update(removal_holds).where(h.closed_at.is_(None)).values(closed_at=at))


def accept(engine: Engine, at: datetime, confirm_polls: int) -> Accepted | None:
    """Lift the open hold (None: there is none, or it was lifted already)."""
    h, r = removal_holds.c, registrations.c
    with translate_errors(engine), engine.begin() as conn:
        found = conn.execute(
            sa.select(h.id, h.present, h.listed)
            .where(h.closed_at.is_(None), h.accepted_at.is_(None))
            .order_by(h.id.desc())
            .limit(1)
        ).first()
        if found is None:
            return None
        conn.execute(sa.update(removal_holds).where(h.id == found.id).values(accepted_at=at))
        due = sa.func.sum(sa.case((r.missing_polls + 1 >= confirm_polls, 1), else_=0))
        counts = conn.execute(
            sa.select(sa.func.count(), due).where(r.present.is_(True), r.missing_polls > 0)
        ).one()
        total, next_cycle = counts[0], counts[1] or 0
        return Accepted(found.present, found.listed, next_cycle, total - next_cycle)
