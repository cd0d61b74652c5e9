"""Issue 13: SQLite's bulk path (app.db.sqlitebulk) stores exactly what SQLAlchemy's compiled
insert stored, so rows written by either read back the same and compare the same in SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db import engine as db
from app.db import sqlitebulk
from app.db.store import Store
from app.db.tables import registration_events, registrations
from app.domain import (
    CycleRecord,
    DeliveryPlan,
    Event,
    EventKind,
    Outcome,
    Registration,
    StoredRegistration,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
INSTANTS = [
    T0,  # no microseconds: SQLAlchemy still writes .000000
    datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC),
    datetime(1, 1, 2, tzinfo=UTC),
    datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 6, 1, 1, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> sa.Engine:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    db.migrate(engine)
    return engine


def test_columns_are_those_of_the_tables() -> None:
    assert tuple(c.name for c in registrations.c) == sqlitebulk.REGISTRATION_COLUMNS
    # An acknowledgement's own columns are written by app/db/acks.py alone, never by a cycle.
    own = {"id", "by", "note", "until", "action_key"}
    assert set(sqlitebulk.EVENT_COLUMNS) == {c.name for c in registration_events.c} - own


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_datetimes_are_stored_as_sqlalchemy_stores_them(
    sqlite_engine: sa.Engine, instant: datetime
) -> None:
    t = sa.table("probe", sa.column("at", registrations.c.requested_on.type))
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (at TEXT)")
        conn.execute(sa.insert(t).values(at=instant))
        stored = conn.exec_driver_sql("SELECT at FROM probe").scalar_one()
    assert sqlitebulk.utc_text(instant) == stored


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlitebulk.utc_text(datetime(2026, 1, 1))


def test_a_cycle_written_in_bulk_reads_back_the_same(sqlite_engine: sa.Engine) -> None:
    regs = [
        Registration(f"c{i}", "Name", i, "Bank", "CA", "ACTIVE", INSTANTS[i % len(INSTANTS)])
        for i in range(12_000)
    ]
    changed = tuple(StoredRegistration(r, T0, T0 + timedelta(seconds=1)) for r in regs)
    gone = StoredRegistration(regs[0], T0, T0, missing_polls=2, present=False)
    events = tuple(
        Event(EventKind.BASELINE, r.client_id, r.client_name, r.provider_id, r.provider_name,
              r.country, None, r.registration_status, r.requested_on, T0)
        for r in regs
    )  # fmt: skip
    store = Store(sqlite_engine)
    record = CycleRecord(
        T0, T0, Outcome.OK, len(regs), 0, (*changed, gone), events, DeliveryPlan(), None
    )
    poll_id = store.record_cycle(record)
    state = store.load_state()
    assert state == {s.key: s for s in (gone, *changed[1:])}
    with sqlite_engine.connect() as conn:
        ids = conn.execute(
            sa.select(registration_events.c.id, registration_events.c.client_id)
            .where(registration_events.c.poll_id == poll_id)
            .order_by(registration_events.c.id)
        ).all()
        removed_at = conn.execute(
            sa.select(registrations.c.removed_at).where(registrations.c.client_id == "c0")
        ).scalar_one()
    assert [cid for _id, cid in ids] == [r.client_id for r in regs]  # ids follow the events
    assert removed_at == T0
