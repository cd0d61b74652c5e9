"""Alembic migrations on real SQLite and PostgreSQL: up, down, up again, and they agree with
app/db/tables.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.db import engine as db
from app.db.tables import metadata, registration_events, registrations

APP_TABLES = {
    "registrations",
    "registration_events",
    "removal_holds",
    "watcher_notices",
    "channel_health",
    "stuck_reminders",
    "poll_runs",
    "deliveries",
    "slack_threads",
    "digests",
    "slack_boards",
    "row_index",
    "late_limits",
}


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(db_url)
    yield engine
    engine.dispose()


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_upgrade_downgrade_upgrade(engine: sa.Engine) -> None:
    assert db.current_revision(engine) is None
    db.migrate(engine)
    assert _tables(engine) == APP_TABLES | {"alembic_version"}
    assert db.current_revision(engine) == db.head_revision()

    db.downgrade(engine, "base")
    assert _tables(engine) == {"alembic_version"}
    assert db.current_revision(engine) is None

    db.migrate(engine)
    assert _tables(engine) == APP_TABLES | {"alembic_version"}


def test_migrated_schema_matches_tables(engine: sa.Engine) -> None:
    db.migrate(engine)
    assert _differences(engine) == []


def test_comparison_detects_a_missing_migration(engine: sa.Engine) -> None:
    """Guards the test above: compare_metadata really sees a schema that lags the tables."""
    db.migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_deliveries_channel_status"))
    assert _differences(engine) != []


def test_migrate_twice_is_a_no_op(engine: sa.Engine) -> None:
    db.migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO poll_runs (started_at, finished_at, outcome) "
                "VALUES (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'ok')"
            )
        )
    db.migrate(engine)
    assert db.current_revision(engine) == db.head_revision()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM poll_runs")).scalar() == 1


def test_schema_is_current(engine: sa.Engine) -> None:
    assert not db.schema_is_current(engine)
    db.migrate(engine)
    assert db.schema_is_current(engine)
    db.downgrade(engine, "base")
    assert not db.schema_is_current(engine)


def test_head_revision_is_the_late_limits_one() -> None:
    assert db.head_revision() == "0011"


_REG = (
    "INSERT INTO registrations (client_id, provider_id, client_name, provider_name, country,"
    " registration_status, requested_on, first_seen_at, status_since)"
    " VALUES (:c, 1, 'n', 'p', 'CA', :s, :req, :first, :since)"
)
_EVENT = (
    "INSERT INTO registration_events (poll_id, event, client_id, client_name, provider_id,"
    " provider_name, country, from_status, to_status, observed_at, requested_on,"
    " previous_status_since) VALUES (1, :e, :c, 'n', 1, 'p', 'CA', :f, :t, :at, :req, :since)"
)


def test_0010_marks_stays_first_seen_past_approval_inexact(engine: sa.Engine) -> None:
    """Rows of 0008 come out as a fresh install would write them: a PENDING_APPROVAL first
    seen at the baseline is in it since its request (exact); a PENDING_ACTIVATION first seen
    there is inexact, and so is the stay its later move closed; a stay begun by a seen move
    stays exact. A downgrade drops both columns."""
    db.migrate(engine, "0008")
    req, base, moved = "2026-10-01 00:00:00", "2026-11-30 10:00:00", "2026-12-02 10:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO poll_runs (id, started_at, finished_at, outcome)"
                " VALUES (1, :at, :at, 'ok')"
            ),
            {"at": base},
        )
        for c, status, since in (
            ("a", "PENDING_APPROVAL", base),
            ("b", "PENDING_ACTIVATION", base),
            ("c", "ACTIVE", moved),
        ):
            conn.execute(
                sa.text(_REG), {"c": c, "s": status, "req": req, "first": base, "since": since}
            )
        for c, status in (("a", "PENDING_APPROVAL"), ("b", "PENDING_ACTIVATION")):
            args = {"e": "baseline", "c": c, "f": None, "t": status, "at": base, "since": None}
            conn.execute(sa.text(_EVENT), {**args, "req": req})
        conn.execute(
            sa.text(_EVENT),
            {"e": "status_changed", "c": "c", "f": "PENDING_ACTIVATION", "t": "ACTIVE"}
            | {"at": moved, "req": req, "since": base},
        )
        conn.execute(
            sa.text(_EVENT),
            {"e": "baseline", "c": "c", "f": None, "t": "PENDING_ACTIVATION"}
            | {"at": base, "req": req, "since": None},
        )
    db.migrate(engine)
    r, e = registrations.c, registration_events.c
    with engine.connect() as conn:
        regs = conn.execute(
            sa.select(r.client_id, r.status_since, r.status_since_exact).order_by(r.client_id)
        ).all()
        closed = conn.execute(
            sa.select(e.previous_status_since, e.previous_status_since_exact).where(
                e.event == "status_changed"
            )
        ).one()
    at = {"req": datetime(2026, 10, 1, tzinfo=UTC), "base": datetime(2026, 11, 30, 10, tzinfo=UTC)}
    moved_at = datetime(2026, 12, 2, 10, tzinfo=UTC)
    assert [tuple(x) for x in regs] == [
        ("a", at["req"], True),
        ("b", at["base"], False),
        ("c", moved_at, True),
    ]
    assert tuple(closed) == (at["base"], False)
    db.downgrade(engine, "0008")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("registrations")}
    assert "status_since_exact" not in columns


def test_0008_stores_the_row_index_uncompressed_on_postgresql(engine: sa.Engine) -> None:
    """EXTERNAL after 0008, PostgreSQL's default (EXTENDED) again after a downgrade; SQLite
    has no storage setting and migrates through 0008 unchanged."""
    storage = sa.text(
        "SELECT attstorage FROM pg_attribute "
        "WHERE attrelid = 'row_index'::regclass AND attname = 'entries'"
    )
    db.migrate(engine, "0008")
    if engine.dialect.name != "postgresql":
        assert db.current_revision(engine) == "0008"
        return
    with engine.connect() as conn:
        assert conn.execute(storage).scalar() == "e"
    db.downgrade(engine, "0007")
    with engine.connect() as conn:
        assert conn.execute(storage).scalar() == "x"


def test_0004_keeps_the_outbox_and_polls_of_0003(engine: sa.Engine) -> None:
    """Upgrading a database in use: its polls and pending deliveries come through untouched."""
    db.migrate(engine, "0003")
    at = "2026-11-30 10:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO poll_runs (id, started_at, finished_at, outcome, error)"
                " VALUES (1, :at, :at, 'failed', 'boom')"
            ),
            {"at": at},
        )
        conn.execute(
            sa.text(
                "INSERT INTO deliveries (poll_id, channel, kind, status, created_at)"
                " VALUES (1, 'email', 'summary', 'pending', :at)"
            ),
            {"at": at},
        )
    db.migrate(engine)
    with engine.connect() as conn:
        poll = conn.execute(sa.text("SELECT error, failure_kind FROM poll_runs")).one()
        row = conn.execute(sa.text("SELECT channel, kind, status, notice_id FROM deliveries")).one()
    assert tuple(poll) == ("boom", None)
    assert tuple(row) == ("email", "summary", "pending", None)


def test_0005_keeps_the_deliveries_of_0004_and_records_digests_once(engine: sa.Engine) -> None:
    """Upgrading a database in use keeps its pending deliveries; a digest then has deliveries
    of its own (no poll), and a second digest for the same scheduled time is refused."""
    db.migrate(engine, "0004")
    at = "2026-11-30 10:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO poll_runs (id, started_at, finished_at, outcome)"
                " VALUES (1, :at, :at, 'ok')"
            ),
            {"at": at},
        )
        conn.execute(
            sa.text(
                "INSERT INTO deliveries (poll_id, channel, kind, status, created_at)"
                " VALUES (1, 'slack', 'summary', 'pending', :at)"
            ),
            {"at": at},
        )
    db.migrate(engine)
    insert_digest = sa.text(
        "INSERT INTO digests (period_start, period_end, fire_at, content, created_at)"
        " VALUES (:at, :at, :at, '{}', :at)"
    )
    with engine.begin() as conn:
        conn.execute(insert_digest, {"at": at})
        digest_id = conn.execute(sa.text("SELECT id FROM digests")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO deliveries (digest_id, channel, kind, status, created_at)"
                " VALUES (:d, 'slack', 'digest', 'pending', :at)"
            ),
            {"d": digest_id, "at": at},
        )
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(insert_digest, {"at": at})
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT poll_id, kind, digest_id FROM deliveries ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [(1, "summary", None), (None, "digest", digest_id)]
    db.downgrade(engine, "0004")  # a digest's deliveries go with it; the others stay
    with engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT poll_id, kind FROM deliveries")).all()
    assert [tuple(r) for r in kept] == [(1, "summary")]


def test_0006_adds_slack_boards_one_per_destination_and_keeps_0005(engine: sa.Engine) -> None:
    """Upgrading from 0005 keeps its digests; a destination has one board row; down drops it."""
    db.migrate(engine, "0005")
    at = "2026-11-30 10:00:00"
    insert_digest = sa.text(
        "INSERT INTO digests (period_start, period_end, fire_at, content, created_at)"
        " VALUES (:at, :at, :at, '{}', :at)"
    )
    with engine.begin() as conn:
        conn.execute(insert_digest, {"at": at})
    db.migrate(engine)
    insert_board = sa.text(
        "INSERT INTO slack_boards (destination, slack_channel, ts, content_digest, updated_at)"
        " VALUES ('#partners', 'C123', :ts, 'abc', :at)"
    )
    with engine.begin() as conn:
        conn.execute(insert_board, {"ts": "1.000001", "at": at})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(insert_board, {"ts": "2.000002", "at": at})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT ts FROM slack_boards")).scalars().all() == ["1.000001"]
        assert conn.execute(sa.text("SELECT count(*) FROM digests")).scalar_one() == 1
    db.downgrade(engine, "0005")
    assert "slack_boards" not in _tables(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM digests")).scalar_one() == 1


def test_0009_adds_acknowledgements_keeps_0008_events_and_drops_its_own_on_downgrade(
    engine: sa.Engine,
) -> None:
    """Events of 0008 keep their rows (the new columns NULL); action_key is UNIQUE, NULLs
    apart; a downgrade drops the acknowledged events it introduced."""
    db.migrate(engine, "0008")
    at = {"at": "2026-12-01 10:00:00"}
    columns = (
        "INSERT INTO registration_events (poll_id, event, client_id, client_name, provider_id,"
        " provider_name, country, observed_at, requested_on"
    )
    added = sa.text(f"{columns}) VALUES (1, 'added', 'a', 'A', 1, 'B', 'CA', :at, :at)")
    ack = sa.text(
        f'{columns}, "by", action_key)'
        " VALUES (1, 'acknowledged', 'a', 'A', 1, 'B', 'CA', :at, :at, 'Ana', 'k1')"
    )
    poll = "INSERT INTO poll_runs (started_at, finished_at, outcome) VALUES (:at, :at, 'ok')"
    with engine.begin() as conn:
        conn.execute(sa.text(poll), at)
        conn.execute(added, at)
        conn.execute(added, at)
    db.migrate(engine)
    new_columns = 'SELECT "by", note, until, action_key FROM registration_events'
    with engine.begin() as conn:
        conn.execute(ack, at)
        rows = conn.execute(sa.text(f"{new_columns} WHERE event = 'added'")).all()
        assert [tuple(row) for row in rows] == [(None, None, None, None)] * 2
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(ack, at)
    db.downgrade(engine, "0008")
    with engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT event FROM registration_events")).scalars().all()
    assert kinds == ["added", "added"]
