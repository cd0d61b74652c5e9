"""Engine factory (SQLite pragmas and write locking, PostgreSQL pre-ping), readable database
errors, and Alembic run from code with the migrations shipped inside the package."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.config.types import ENCODE_HINT, psycopg_url
from app.core.redact import Redactor
from app.core.text import one_line
from app.db.private import private_database
from app.db.revision import HEAD_REVISION
from app.errors import DatabaseError as DatabaseError
from app.errors import DatabaseVanished
from app.errors import NoDatabase as NoDatabase

if TYPE_CHECKING:  # Alembic is imported only to migrate: read commands never load it
    from alembic.config import Config

log = logging.getLogger(__name__)

# Any fixed bigint will do; it only has to be the same in every replica of flinkswatch.
MIGRATION_LOCK_KEY = 0x666C_696E_6B73  # "flinks"
# Execution option: this connection only reads, so SQLite may begin a DEFERRED transaction.
READ_ONLY = "flinkswatch_read_only"
_PG_CONNECT_TIMEOUT_SECONDS = 10


def _parse_url(url: str) -> sa.URL:
    return sa.make_url(psycopg_url(url))


def safe_url(url: sa.URL | str) -> str:
    """The URL as it may be shown to people and logs: the password is replaced by ***."""
    parsed = sa.make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for `url` (a SQLAlchemy URL; postgresql:// is read as psycopg 3). With
    create=False a SQLite file (and its folder) is never created: NoDatabase if it is missing."""
    try:
        parsed = _parse_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseError(f"DATABASE_URL is not a valid SQLAlchemy URL; {ENCODE_HINT}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, create=create)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # libpq waits forever by default; a dead server must fail the cycle instead.
        connect_args["connect_timeout"] = _PG_CONNECT_TIMEOUT_SECONDS
    if parsed.get_backend_name() == "postgresql" and "options" not in parsed.query:
        # Timestamps come back as UTC datetimes, with no per-value conversion to do.
        connect_args["options"] = "-c timezone=UTC"
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_engine(url: sa.URL, *, create: bool) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        if not create and not Path(database).expanduser().is_file():
            raise NoDatabase(Path(database).expanduser().absolute())
        private_database(Path(database).expanduser())  # 0600 in a 0700 folder it makes
    engine = sa.create_engine(url)
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    if database and database != ":memory:" and not database.startswith("file:"):
        _FileIdentity(Path(database).expanduser().absolute()).watch(engine)
    return engine


class _FileIdentity:
    """The SQLite file an engine opened, by (device, inode): every connection taken from the
    pool checks that the path still names that file. A deleted file (or folder) would
    otherwise take every write into an unlinked inode while the cycle reports ok, and a new
    connection would create a fresh empty database in its place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None

    def watch(self, engine: Engine) -> None:
        sa.event.listen(engine, "do_connect", self._before_connect)
        sa.event.listen(engine, "connect", self._connected)
        sa.event.listen(engine, "checkout", self._checkout)

    def _current(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_dev, stat.st_ino)

    def _vanished(self) -> DatabaseVanished:
        return DatabaseVanished(
            f"the database file {self.path} vanished or was replaced under the running"
            " process (deleted, moved, or its folder removed): nothing more is written; restore"
            " it (`flinkswatch backup` copies) and restart"
        )

    def _before_connect(self, *_args: Any) -> None:
        if self.identity is not None and self._current() != self.identity:
            raise self._vanished()  # before sqlite3 could create an empty file in its place

    def _connected(self, *_args: Any) -> None:
        if self.identity is None:
            self.identity = self._current()

    def _checkout(self, *_args: Any) -> None:
        if self.identity is not None and self._current() != self.identity:
            raise self._vanished()


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take BEGIN away from pysqlite's legacy transaction control: _sqlite_on_begin emits it.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in (
        "journal_mode=WAL",
        "busy_timeout=5000",
        "foreign_keys=ON",
        "synchronous=NORMAL",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A DEFERRED transaction that later upgrades to a write lock gets SQLITE_BUSY at once,
    # ignoring busy_timeout; IMMEDIATE takes the write lock up front and waits for it.
    mode = "DEFERRED" if conn.get_execution_options().get(READ_ONLY) else "IMMEDIATE"
    conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only: on SQLite it does not take the write lock."""
    with translate_errors(engine), engine.connect() as conn:
        yield conn.execution_options(**{READ_ONLY: True})


_OPEN_DATABASE_ERRORS = (
    "disk I/O error",
    "database or disk is full",
    "disk image is malformed",
    "readonly database",
)


def database_error(exc: sa.exc.DBAPIError, url: sa.URL) -> DatabaseError:
    """Turn a driver error into a one-line DatabaseError that names the URL without password."""
    # psycopg prefixes "connection failed: connection to server at ... failed: <reason>".
    reason = one_line(str(exc.orig) if exc.orig is not None else str(exc)) or "unknown error"
    # The password as a whole token (a one-letter one leaves "connection" whole), and any URL
    # password or credential the driver's text may quote.
    reason = Redactor([str(url.password)] if url.password else [])(reason)
    # Raised while connecting, not by a statement; but commit raises with no statement too, and
    # the disk failing under an open SQLite file is not a failure to connect.
    if exc.statement is None and not any(s in reason for s in _OPEN_DATABASE_ERRORS):
        return DatabaseError(f"cannot connect to database {safe_url(url)}: {reason}")
    return DatabaseError(f"database error on {safe_url(url)}: {reason}")


@contextmanager
def translate_errors(engine: Engine) -> Iterator[None]:
    """Re-raise SQLAlchemy driver errors as DatabaseError (the cause stays chained)."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise database_error(exc, engine.url) from exc


def ping(engine: Engine) -> None:
    """Raise DatabaseError unless the database answers a trivial query."""
    with reading(engine) as conn:
        conn.execute(sa.text("SELECT 1"))


# ---- Alembic (imported inside the functions that migrate) ------------------------------


def alembic_config() -> Config:
    """An Alembic Config built in code; the scripts come from the installed app.migrations."""
    from alembic.config import Config

    location = files("app.migrations")
    if not isinstance(location, Path):
        raise DatabaseError("app.migrations must be installed as files, not inside an archive")
    config = Config()
    config.set_main_option("script_location", str(location).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def hold_migration_lock(conn: Connection) -> None:
    """On PostgreSQL, serialise migrations of starting replicas until this transaction ends.
    SQLite needs nothing: its BEGIN IMMEDIATE already admits one writer."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` in one transaction."""
    from alembic import command

    _run_alembic(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the schema to `revision` ("base" drops every table)."""
    from alembic import command

    _run_alembic(engine, lambda config: command.downgrade(config, revision))


def _run_alembic(engine: Engine, action: Callable[[Config], None]) -> None:
    from alembic.util import CommandError

    config = alembic_config()
    before = current_revision(engine)
    try:
        with translate_errors(engine), _migration_connection(engine) as conn:
            config.attributes["connection"] = conn
            action(config)
    except CommandError as exc:
        # Typically a database migrated by a newer flinkswatch, then an older image started.
        raise DatabaseError(
            f"cannot migrate: the database is at revision {before}, which this flinkswatch "
            f"(head {head_revision()}) does not know: run the newer version, or restore the "
            f"backup taken before the upgrade ({one_line(str(exc))})"
        ) from None
    log.info(
        "db.migrated url=%s from=%s to=%s", safe_url(engine.url), before, current_revision(engine)
    )


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        # Batch migrations copy and drop tables; SQLite ignores this PRAGMA inside a
        # transaction, so it is switched on the raw connection before BEGIN.
        if sqlite:
            _sqlite_foreign_keys(conn, on=False)
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    _check_foreign_keys(conn)
        finally:
            if sqlite:
                _sqlite_foreign_keys(conn, on=True)


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    raw = conn.connection.driver_connection
    if raw is None:  # only a closed connection has none: nothing to set
        return
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise DatabaseError(f"migration left {len(broken)} broken foreign keys; rolled back")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database. Read as
    Alembic does (its alembic_version table) with one SELECT, without importing Alembic."""
    with reading(engine) as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    # Several rows would be branches, which flinkswatch never has: shown, and never "at head".
    return ",".join(sorted(found)) if found else None


def head_revision() -> str:
    """The newest revision shipped with this version of flinkswatch (app.db.revision)."""
    return HEAD_REVISION


def schema_is_current(engine: Engine) -> bool:
    return current_revision(engine) == HEAD_REVISION
