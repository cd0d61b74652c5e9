"""SQLite's times read as text: faster than the column type's result processor where a read
parses hundreds of thousands of them (`status`, the Kaplan-Meier fold: issue 23)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def sqlite_utc_text(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A tables.UTCDateTime column read on SQLite as its stored text in UTC ('YYYY-MM-DD
    HH:MM:SS.ffffff': it and app/db/sqlitebulk write no offset) plus '+00:00'; NULL stays
    NULL. One datetime.fromisoformat (C) of it is the UTC-aware time."""
    return (sa.type_coerce(column, sa.Text) + sa.literal("+00:00", sa.Text)).label(column.name)
