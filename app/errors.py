"""The errors a user can act on, in a module that imports nothing: the command line catches them
before it has loaded pydantic or SQLAlchemy (`flinkswatch --help` stays instant)."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line naming it, with no secret."""


class DatabaseError(Exception):
    """The database failed; the message is one readable line with no password."""

    kind = "database"  # the failure_kind of the cycle it ends


class DatabaseVanished(DatabaseError):
    """The SQLite file this process opened was deleted or replaced under it (SPEC 8)."""

    kind = "database_vanished"


class NoDatabase(DatabaseError):
    """A SQLite file that does not exist, opened by a command that must not create it."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no database file {path}")
        self.path = path


class LockHeld(Exception):
    """Another instance holds the lock (exit 4, SPEC 4): not a configuration error. The
    message names the holder as far as the lock tells (a pid, a database session)."""
