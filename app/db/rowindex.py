"""The row index (app.core.rowprints.RowIndex) in the database: one row of msgpack, written in the
cycle's own transaction, so it always describes the state beside it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.core.rowprints import RowIndex
from app.db.engine import reading
from app.db.tables import registrations, row_index
from app.domain import Key

log = logging.getLogger(__name__)

_ONLY = 1  # the id of the one row
# A map {[client_id, provider_id]: print}: read straight into the dict (100,000 entries: 0.04 s,
# against 0.06 s for the list of pairs the first index of 0007 was, still read).
_ENTRIES = msgspec.msgpack.Decoder(dict[tuple[str, int], bytes])
_PAIRS = msgspec.msgpack.Decoder(list[tuple[tuple[str, int], bytes]])
_ENCODER = msgspec.msgpack.Encoder()


def read_index(engine: Engine) -> RowIndex | None:
    """The index, or None: none written yet, or one that does not list as many present
    registrations as the table holds (then the cycle reads its answer whole, and writes a
    new one)."""
    t, r = row_index.c, registrations.c
    with reading(engine) as conn:
        row = conn.execute(sa.select(t.present, t.entries).where(t.id == _ONLY)).first()
        if row is None:
            return None
        present = sa.select(sa.func.count()).select_from(registrations).where(r.present)
        count = conn.execute(present).scalar_one()
    if count != row.present:
        log.warning(
            "rowindex.ignored reason=lists %d registrations, %d present", row.present, count
        )
        return None
    try:
        entries = _decode(row.entries)
    except msgspec.DecodeError as exc:
        log.warning("rowindex.ignored reason=unreadable (%s)", exc)
        return None
    return RowIndex.of(entries)


def _decode(blob: bytes) -> dict[Key, bytes]:
    try:
        return _ENTRIES.decode(blob)
    except msgspec.ValidationError as exc:
        try:
            return dict(_PAIRS.decode(blob))  # written before the map
        except msgspec.DecodeError:
            raise exc from None  # the map's own error: what the index should have been


def write_index(
    conn: Connection, poll_id: int, entries: Mapping[Key, bytes] | None, at: datetime
) -> None:
    """Replace the index (None: delete it; the next cycle reads its answer whole)."""
    conn.execute(sa.delete(row_index))
    if entries is None:
        return
    blob = _ENCODER.encode(entries)  # {[client_id, provider_id]: print, ...}
    values = {
        "id": _ONLY,
        "poll_id": poll_id,
        "present": len(entries),
        "entries": blob,
        "updated_at": at,
    }
    # Given at execution, not in the statement: SQLAlchemy's statement cache keeps the values
    # of a statement's own .values() alive in its key (here the whole blob, until evicted).
    conn.execute(sa.insert(row_index), values)
