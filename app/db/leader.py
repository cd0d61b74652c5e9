"""Who may poll and deliver: one leader per database. PostgreSQL: a session-level advisory lock
on a dedicated connection, so replicas stand by and take over; SQLite: an exclusive file lock,
so a second instance on the same file refuses to start."""

from __future__ import annotations

import contextlib
import enum
import fcntl
import logging
import os
import socket
from pathlib import Path
from typing import IO, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from app.db.engine import DatabaseError, database_error, safe_url
from app.db.private import private_folder
from app.domain import Interrupted
from app.errors import LockHeld as LockHeld

log = logging.getLogger(__name__)

# Any fixed bigint, the same in every replica; distinct from app.db.MIGRATION_LOCK_KEY.
LEADER_LOCK_KEY = 0x666C_696E_6B6C  # "flinkl"
# Held shared by each write transaction of a leader, taken exclusive for a moment by a new
# leader: the new leader's first cycle waits for a deposed leader's write already under way.
FENCE_LOCK_KEY = 0x666C_696E_6B66  # "flinkf"
_TAKEOVER_WAIT = "30s"  # lock_timeout of that wait: a frozen old writer must not block us
_PG_CONNECT_TIMEOUT_SECONDS = 5
# A dead peer must not keep us "leader" for the kernel's default two hours.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


class Deposed(Interrupted):
    """Raised inside a write transaction when this instance no longer holds the leader lock:
    the transaction rolls back, so a deposed leader commits nothing."""


def _application_name() -> str:
    # pg_stat_activity shows it: who holds the lock, for the one line a second `poll` prints.
    return f"flinkswatch-leader@{socket.gethostname()}:{os.getpid()}"[:63]


class Role(enum.StrEnum):
    LEADER = "leader"
    STANDBY = "standby"  # another instance holds the lock
    UNKNOWN = "unknown"  # the lock cannot be checked (database unreachable)


class Leadership(Protocol):
    """Asked before every cycle; only a LEADER may poll and deliver."""

    def acquire(self) -> None:
        """Claim at start where a second instance must be refused before it migrates or
        serves (a SQLite file: LockHeld); elsewhere nothing, the first check() decides."""
        return

    def check(self) -> Role:
        """Take or confirm the lock; never raises."""
        ...

    def still_held(self) -> bool:
        """A cheap re-check inside a cycle (between two messages)."""
        ...

    def release(self) -> None: ...

    def holder(self) -> str:
        """Who else holds the lock, in a few words ('' when it cannot tell)."""
        return ""

    def fence(self, conn: Connection) -> None:
        """Called inside a cycle's write transaction, before anything is written: raises
        Deposed when this instance led and no longer does. Nothing to check by default."""
        return


class PgLeader(Leadership):
    """`pg_try_advisory_lock` held by a connection of its own (not from the poll's pool).
    The lock lives exactly as long as that session, so a lost connection is lost leadership."""

    def __init__(self, engine: Engine, key: int = LEADER_LOCK_KEY) -> None:
        self._url = engine.url
        self._key = key
        # NullPool: a reconnect is a new session, never a pooled one that lost its lock.
        self._engine = sa.create_engine(
            engine.url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",  # never idle in a transaction
            connect_args={
                "connect_timeout": _PG_CONNECT_TIMEOUT_SECONDS,
                "application_name": _application_name(),
                **_KEEPALIVES,
            },
        )
        self._conn: Connection | None = None
        self._pid: int | None = None  # backend pid of the session that last took the lock

    def check(self) -> Role:
        if self._conn is not None:
            if self.still_held():
                return Role.LEADER
            log.warning("leader.lost url=%s", safe_url(self._url))
        try:
            return self._try_acquire()
        except sa.exc.DBAPIError as exc:
            self._drop()
            log.warning("leader.unknown error=%s", database_error(exc, self._url))
            return Role.UNKNOWN

    def _try_acquire(self) -> Role:
        conn = self._engine.connect()
        got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(self._key))).scalar()
        if not got:
            conn.close()  # a standby keeps no session open between its tries
            return Role.STANDBY
        self._conn = conn
        self._pid = conn.execute(sa.select(sa.func.pg_backend_pid())).scalar_one()
        # Wait until a deposed leader's write in flight (fence held shared) has finished.
        conn.execute(sa.select(sa.func.set_config("lock_timeout", _TAKEOVER_WAIT, False)))
        conn.execute(sa.select(sa.func.pg_advisory_lock(FENCE_LOCK_KEY)))
        conn.execute(sa.select(sa.func.pg_advisory_unlock(FENCE_LOCK_KEY)))
        log.info("leader.acquired url=%s", safe_url(self._url))
        return Role.LEADER

    def fence(self, conn: Connection) -> None:
        """Leadership inside the write: the lock must still be held by our lock session, seen
        from the write transaction itself. Only once this instance has led (a one-off reader
        of the store that never took the lock is not fenced)."""
        if self._pid is None:
            return
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(FENCE_LOCK_KEY)))
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND objsubid = 1 AND classid::bigint = :hi AND objid::bigint = :lo"
                " AND pid = :pid"
            ),
            {"hi": self._key >> 32, "lo": self._key & 0xFFFFFFFF, "pid": self._pid},
        ).scalar_one()
        if not held:
            log.warning("leader.deposed pid=%d: the write is refused", self._pid)
            raise Deposed("leader lock lost before the commit: nothing written")

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError:
            self._drop()
            return False
        return True

    def holder(self) -> str:
        """The session holding the lock as pg_stat_activity shows it (its application_name
        carries host and pid), with its address and start; '' when it cannot be read."""
        stmt = sa.text(
            "SELECT a.application_name, host(a.client_addr) AS addr, a.backend_start"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
            # Advisory locks belong to one database: another database's leader is not ours.
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        try:
            with self._engine.connect() as conn:
                row = conn.execute(stmt, {"hi": self._key >> 32, "lo": self._key & 0xFFFFFFFF})
                found = row.first()
        except sa.exc.DBAPIError:
            return ""
        if found is None:
            return ""
        name, addr, since = found
        where = f" from {addr}" if addr else ""
        started = f", session since {since:%Y-%m-%d %H:%M:%S %Z}" if since else ""
        return f"{name or 'unnamed session'}{where}{started}"

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self._conn.execute(sa.select(sa.func.pg_advisory_unlock(self._key)))
            self._drop()
            log.info("leader.released")
        self._pid = None
        self._engine.dispose()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()  # the session may already be gone; do not return it anywhere
                conn.close()


class FileGuard(Leadership):
    """An exclusive `flock` on `<database>.lock`: SQLite admits one instance per file.
    The kernel drops the lock when the process dies, even on SIGKILL."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock (idempotent) or raise LockHeld naming the holder's pid and the file."""
        if self._handle is None:
            self._handle = _flock(self.path)

    def check(self) -> Role:
        self.acquire()
        return Role.LEADER

    def still_held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def _flock(path: Path) -> IO[str]:
    try:
        private_folder(path.parent)  # 0700 if made here, as the database's (app/db/private.py)
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise DatabaseError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read(32).strip()
        handle.close()
        who = f" (pid {pid})" if pid.isdigit() else ""
        raise LockHeld(
            f"another flinkswatch instance{who} holds the lock on {path.with_suffix('')}: stop"
            " it first (SQLite allows one instance per database; use PostgreSQL for replicas)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")  # for a human wondering who holds it
    handle.flush()
    return handle


class AlwaysLeader(Leadership):
    """For an in-memory SQLite database: nothing else can share it."""

    def check(self) -> Role:
        return Role.LEADER

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


def leadership_for(engine: Engine) -> Leadership:
    """The right lock for the database behind `engine`."""
    if engine.dialect.name == "postgresql":
        return PgLeader(engine)
    database = engine.url.database or ""
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        if database.startswith("file:"):
            database = database.removeprefix("file:").split("?", 1)[0]
        return FileGuard(Path(database).expanduser().resolve())
    return AlwaysLeader()
