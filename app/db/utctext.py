"""Times read without the column type's result processor, where a read takes hundreds of
thousands of them (`status`, the Kaplan-Meier fold: issue 23): several times quicker."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def utc_time(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """A tables.UTCDateTime column read as the driver gives it, UTC either way: on SQLite, its
    stored text in UTC ('YYYY-MM-DD HH:MM:SS.ffffff': it and app/db/sqlitebulk write no
    offset) plus '+00:00', NULL staying NULL, for one datetime.fromisoformat (C) each (see
    parsed()); on PostgreSQL, psycopg's own datetime, aware and in UTC already (the sessions'
    time zone is UTC: app/db/engine.py)."""
    if dialect == "sqlite":
        return (sa.type_coerce(column, sa.Text) + sa.literal("+00:00", sa.Text)).label(column.name)
    return sa.type_coerce(column, sa.DateTime(timezone=True)).label(column.name)


def parsed(dialect: str) -> bool:
    """Whether the times utc_time() reads are text to parse (SQLite), or datetimes."""
    return dialect == "sqlite"
