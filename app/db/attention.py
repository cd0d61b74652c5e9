"""The board's "needs attention" list (SPEC 10): the present registrations the board's filters
keep that are stuck or in a status not documented, longest waiting first (or by provider,
recipient, status), bounded: the first `limit` rows and how many there are in all."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import tables
from app.db.engine import reading

Row = dict[str, object]
# Each order's columns; every one ends with the waiting (requested_on) and the key, so that two
# reads of the same state list the same rows in the same order.
_r = tables.registrations.c
_TAIL = (_r.requested_on, _r.client_id, _r.provider_id)
ORDERS: dict[str, tuple[sa.ColumnElement[object], ...]] = {
    "waiting": _TAIL,
    "provider": (_r.provider_name, *_TAIL),
    "recipient": (_r.client_name, *_TAIL),
    "status": (_r.registration_status, *_TAIL),
}
_COLUMNS = (
    "client_id",
    "client_name",
    "provider_id",
    "provider_name",
    "country",
    "registration_status",
    "requested_on",
    "status_since",
    "status_since_exact",
    "present",
)


@dataclass(frozen=True, slots=True)
class Attention:
    rows: list[Row]  # the first `limit`, in the order asked
    total: int  # how many registrations need attention in all


def attention(
    engine: Engine,
    where: list[sa.ColumnElement[bool]],
    order: str,
    limit: int,
    total: int | None = None,
) -> Attention:
    """The first `limit` registrations matching `where`, in ORDERS[order], and their count
    (`total` when the caller counted them already, in a scan it made anyway). Each is a scan
    of the present registrations at worst and a top-`limit` sort, never a sort of all."""
    if total == 0:  # none, as counted: no scan for an empty list (the usual board)
        return Attention([], 0)
    stmt = (
        sa.select(*(_r[name] for name in _COLUMNS))
        .where(*where)
        .order_by(*ORDERS[order])
        .limit(limit)
    )
    with reading(engine) as conn:
        rows = [dict(row._mapping) for row in conn.execute(stmt)]
        if len(rows) < limit:
            return Attention(rows, len(rows))
        if total is not None:  # counted in another read: a poll in between may have moved one
            return Attention(rows, max(total, len(rows)))
        count = sa.select(sa.func.count()).select_from(tables.registrations).where(*where)
        return Attention(rows, int(conn.execute(count).scalar_one()))
