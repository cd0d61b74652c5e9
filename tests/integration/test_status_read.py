"""`flinkswatch status`'s read (app.db.queries.current) on SQLite and PostgreSQL: its times are
the stored instants as UTC-aware datetimes, whether or not they fall on a whole second, exactly
as the columns' own result processing gives them (SQLite's are parsed from their text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa

from app.db import queries
from app.db.tables import registrations

T = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_current_reads_every_time_as_the_stored_utc_instant(engine: sa.Engine) -> None:
    east = timezone(timedelta(hours=5))
    rows = [
        {
            "client_id": f"c{i}",
            "provider_id": 1000 + i,
            "client_name": f"Client {i}",
            "provider_name": "NBC",
            "country": "CA",
            "registration_status": "PENDING_APPROVAL",
            "requested_on": requested,
            "first_seen_at": T,
            "status_since": requested,
            "present": True,
            "missing_polls": 0,
            "status_since_exact": i % 2 == 0,
        }
        for i, requested in enumerate(
            [T, T + timedelta(microseconds=1), T.astimezone(east) - timedelta(days=400)]
        )
    ]
    with engine.begin() as conn:
        conn.execute(registrations.insert(), rows)
        stmt = sa.select(*(registrations.c[n] for n in queries.STATUS_COLUMNS))
        expected = sorted((dict(r._mapping) for r in conn.execute(stmt)), key=str)
    found = queries.current(engine, queries.Filters())
    assert sorted(found, key=str) == expected
    assert [r["requested_on"] for r in found] == [
        T,
        T + timedelta(microseconds=1),
        T - timedelta(days=400),
    ]
    assert all(r[n].tzinfo is UTC for r in found for n in ("requested_on", "status_since"))
    assert [r["status_since_exact"] for r in found] == [True, False, True]
