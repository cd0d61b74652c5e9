"""PostgreSQL bulk writes with COPY, inside the caller's transaction: a first sync or a mass
change of 100,000 rows costs one COPY instead of 100,000 executemany rounds through the driver.
Used by app.store for large cycles only; small cycles take the plain INSERT path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from app.db.tables import registration_events, registrations


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Any]) -> None:
    """COPY `rows` (tuples in `columns` order) into `table`, in this transaction, in order."""
    raw: Any = conn.connection.driver_connection
    names = ", ".join(columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_events(conn: Connection, columns: Sequence[str], rows: Iterable[Any]) -> None:
    # COPY assigns the serial ids in the order rows are written: ids follow the events.
    copy_rows(conn, registration_events.name, columns, rows)


def upsert_registrations(conn: Connection, columns: Sequence[str], rows: Iterable[Any]) -> None:
    """COPY into a temporary table, then one INSERT .. ON CONFLICT from it, with the same
    rule as the plain path: a registration removed earlier keeps its first removal time."""
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
