"""What a driver error is called in the one line a user reads: a failure to connect, or an error
of a database that was open (issue 14: a disk I/O error is not "cannot connect")."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from app.db.engine import database_error

URL = sa.make_url("sqlite:////var/lib/flinkswatch/flinkswatch.db")


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("unable to open database file", "cannot connect to database"),
        ("disk I/O error", "database error on"),
        ("database or disk is full", "database error on"),
        ("database disk image is malformed", "database error on"),
        ("attempt to write a readonly database", "database error on"),
    ],
)
def test_an_error_of_an_open_database_is_not_a_connection_failure(
    reason: str, expected: str
) -> None:
    # statement=None: raised by commit or by the driver, not by one statement.
    error = sa.exc.OperationalError(None, None, sqlite3.OperationalError(reason))
    message = str(database_error(error, URL))
    assert message.startswith(f"{expected} sqlite:////var/lib/flinkswatch/flinkswatch.db")
    assert message.endswith(reason)
