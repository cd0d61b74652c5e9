"""`flinkswatch backup` (SPEC 4): a copy of a SQLite database taken with sqlite3's online backup
API while the service runs, verified (integrity_check, the flinkswatch schema) before it is put
in place under its name. It never creates nor writes the source database."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from app.config.types import ENCODE_HINT, psycopg_url
from app.core.text import one_line
from app.db.private import private_file
from app.errors import DatabaseError, NoDatabase

SCHEMA_TABLES = ("alembic_version", "registrations", "registration_events")
_BUSY_TIMEOUT_MS = 10_000


class BackupRefused(Exception):
    """Nothing was copied: the target is unusable, or the source is not a flinkswatch database."""


class NotFlinkswatch(BackupRefused):
    """The source exists but holds no flinkswatch schema (an empty file, another program's)."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    revision: str
    registrations: int
    events: int


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite DATABASE_URL; None for any other database."""
    try:
        parsed = sa.make_url(psycopg_url(url))
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseError(f"DATABASE_URL is not a valid SQLAlchemy URL; {ENCODE_HINT}") from None
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupRefused(f"cannot back up the database {database or ':memory:'!r}: not a file")
    return Path(database).expanduser().absolute()


def target_file(path: Path, now_stamp: str) -> Path:
    """PATH itself (it must not exist), or a dated file inside PATH when it is a folder."""
    if path.is_dir():
        path = path / f"flinkswatch-{now_stamp}.db"
    if path.exists() or path.is_symlink():
        raise BackupRefused(f"{path} exists: a backup never overwrites; choose a new name")
    if not path.parent.is_dir():
        raise BackupRefused(f"the folder {path.parent} does not exist")
    return path.absolute()


def backup_sqlite(source: Path, target: Path) -> Backup:
    """Copy `source` to `target` (which must not exist) in one consistent snapshot: writers
    carry on meanwhile (WAL). The copy is written beside the target, checked, then renamed."""
    if not source.is_file():
        raise NoDatabase(source)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        # mode=rw: opening never creates the file, as opening a missing path otherwise would.
        with closing(sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True)) as src:
            src.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            revision = _schema_revision(src, source)
            private_file(partial)  # 0600 whatever the umask: the copy holds every name
            with closing(sqlite3.connect(partial)) as dst:
                src.backup(dst)  # every page in one step: one read snapshot of the source
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        done = verify(partial, expected_revision=revision)
        if target.exists():
            raise BackupRefused(f"{target} appeared while the backup ran: left as it was")
        partial.replace(target)
    except sqlite3.Error as exc:
        raise DatabaseError(f"backup of {source} failed: {one_line(str(exc))}") from None
    except OSError as exc:
        raise DatabaseError(
            f"backup to {target} failed: {exc.strerror or one_line(str(exc))}"
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    return Backup(target, target.stat().st_size, done.revision, done.registrations, done.events)


def verify(path: Path, *, expected_revision: str | None = None) -> Backup:
    """integrity_check is ok and the flinkswatch schema is there (at the source's revision)."""
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise DatabaseError(f"the copy failed integrity_check: {one_line('; '.join(result))}")
        revision = _schema_revision(conn, path)
        if expected_revision is not None and revision != expected_revision:
            raise DatabaseError(f"the copy is at schema {revision}, not {expected_revision}")
        registrations = _count(conn, "registrations")
        events = _count(conn, "registration_events")
    return Backup(path, path.stat().st_size, revision, registrations, events)


def _schema_revision(conn: sqlite3.Connection, path: Path) -> str:
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.DatabaseError as exc:  # "file is not a database"
        raise NotFlinkswatch(f"{path} is not a SQLite database ({exc})") from None
    missing = [name for name in SCHEMA_TABLES if name not in tables]
    row = None if missing else conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None:
        lacking = ", ".join(missing) if missing else "a revision in alembic_version"
        raise NotFlinkswatch(f"{path} has no flinkswatch schema (no {lacking})")
    return str(row[0])


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 (a constant)
