"""The late limits as last folded (app.core.latelimits) in the database: one row, so that a
cron `poll` (a process per cycle) reuses them as the running service does in memory."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.core.latelimits import LateLimits
from app.db.engine import reading, translate_errors
from app.db.tables import late_limits

_ONLY = 1  # the id of the one row


def read_late_limits(engine: Engine) -> LateLimits | None:
    """The limits last kept, or None: never folded yet."""
    t = late_limits.c
    with reading(engine) as conn:
        row = conn.execute(sa.select(late_limits).where(t.id == _ONLY)).first()
    if row is None:
        return None
    limits = {
        int(pid): (timedelta(seconds=float(seconds)), str(reason))
        for pid, (seconds, reason) in json.loads(row.limits).items()
    }
    return LateLimits(row.computed_at, row.late_after, row.min_activations, limits)


def keep_late_limits(engine: Engine, kept: LateLimits) -> None:
    """Replace the row with `kept` (its own short transaction: a cache, not the cycle's)."""
    limits = {
        str(pid): [limit.total_seconds(), reason] for pid, (limit, reason) in kept.limits.items()
    }
    row = {
        "id": _ONLY,
        "computed_at": kept.computed_at,
        "late_after": kept.late_after,
        "min_activations": kept.min_activations,
        "limits": json.dumps(limits, sort_keys=True),
    }
    with translate_errors(engine), engine.begin() as conn:
        conn.execute(sa.delete(late_limits).where(late_limits.c.id == _ONLY))
        conn.execute(sa.insert(late_limits), row)
