"""PostgreSQL bulk writes with COPY, inside the caller's transaction: a first sync or a mass
change of 100,000 rows costs one COPY instead of 100,000 executemany rounds through the driver.
Used by app.store for large cycles only; small cycles take the plain INSERT path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from app.db.tables import registration_events, registrations


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Any]) -> None:
    """COPY `rows` (tuples in `columns` order) into `table`, in this transaction, in order.
    Binary, with each column's type as the table itself has it: psycopg's text format spent
    4 us a row formatting values (0.8 s of a 100,000-row first sync), binary a fifth of it."""
    raw: Any = conn.connection.driver_connection
    names = ", ".join(columns)
    types = _column_types(raw, table, columns)
    sql = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _column_types(raw: Any, table: str, columns: Sequence[str]) -> list[int]:
    """The type OIDs of `columns` of `table` (a temporary table too), read from the catalog."""
    found = dict(
        raw.execute(
            "SELECT attname, atttypid::int FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (table,),
        ).fetchall()
    )
    return [found[column] for column in columns]


def insert_events(conn: Connection, columns: Sequence[str], rows: Iterable[Any]) -> None:
    # COPY assigns the serial ids in the order rows are written: ids follow the events.
    copy_rows(conn, registration_events.name, columns, rows)


def upsert_registrations(conn: Connection, columns: Sequence[str], rows: Iterable[Any]) -> None:
    """COPY into a temporary table, then one INSERT .. ON CONFLICT from it, with the same
    rule as the plain path: a registration removed earlier keeps its first removal time.
    Into an empty table (a first sync) the rows go straight in: nothing to conflict with, and
    half the time of the upsert (docs/performance.md)."""
    empty = f"SELECT NOT EXISTS (SELECT 1 FROM {registrations.name})"  # noqa: S608 - a name
    if conn.exec_driver_sql(empty).scalar():
        copy_rows(conn, registrations.name, columns, rows)
        return
    names = ", ".join(columns)
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE fw_incoming_registrations "
        f"(LIKE {registrations.name} INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    copy_rows(conn, "fw_incoming_registrations", columns, rows)
    keys = {"client_id", "provider_id"}
    updates = [f"{c} = EXCLUDED.{c}" for c in columns if c not in keys and c != "removed_at"]
    updates.append(
        "removed_at = CASE WHEN EXCLUDED.present THEN NULL "
        f"ELSE COALESCE({registrations.name}.removed_at, EXCLUDED.removed_at) END"
    )
    # Table and column names come from app.db.tables, never from input; values go by COPY.
    upsert = (
        f"INSERT INTO {registrations.name} ({names}) "  # noqa: S608 - names, not input
        f"SELECT {names} FROM fw_incoming_registrations "
        f"ON CONFLICT (client_id, provider_id) DO UPDATE SET {', '.join(updates)}"
    )
    conn.exec_driver_sql(upsert)
    conn.exec_driver_sql("DROP TABLE fw_incoming_registrations")
