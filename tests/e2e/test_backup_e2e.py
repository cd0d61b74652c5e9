"""`flinkswatch backup PATH` (SPEC 4, issue 15 item 1), run as an operator would: a verified copy
that a read command can use, taken while another connection writes; refused, one line and
nothing created, for a missing database, a file without the schema, an existing target and
PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.e2e


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _database(world: World) -> Path:
    return Path(world.env["DATABASE_URL"].removeprefix("sqlite:///"))


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchall()


def test_a_backup_is_verified_complete_and_readable_by_flinkswatch(sqlite_world: World) -> None:
    assert sqlite_world.run("poll").returncode == 0
    target = sqlite_world.cwd / "backups" / "fw.db"
    target.parent.mkdir()
    result = sqlite_world.run("backup", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"backup done: {target} (")
    assert "2 registrations" in result.stdout
    assert "integrity_check ok" in result.stdout
    assert _rows(target, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(target, "PRAGMA journal_mode") == [("delete",)]  # one file, no -wal beside it
    assert sorted(p.name for p in target.parent.iterdir()) == ["fw.db"]  # no partial left
    # The copy is a working database: a read command sees what the source had (the history:
    # `status` also says how long each has waited, which grows between the two reads).
    restored = sqlite_world.run("history", "--format", "csv", DATABASE_URL=f"sqlite:///{target}")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout == sqlite_world.run("history", "--format", "csv").stdout
    assert "NBC" in restored.stdout


def test_a_folder_gets_a_dated_file_and_an_existing_file_is_never_overwritten(
    sqlite_world: World,
) -> None:
    assert sqlite_world.run("poll").returncode == 0
    folder = sqlite_world.cwd / "backups"
    folder.mkdir()
    assert sqlite_world.run("backup", str(folder)).returncode == 0
    (made,) = folder.iterdir()
    assert made.name.startswith("flinkswatch-")
    assert made.suffix == ".db"
    before = made.read_bytes()
    again = sqlite_world.run("backup", str(made))
    assert again.returncode == 2
    assert _one_line(again.stderr) == (
        f"flinkswatch: backup: {made} exists: a backup never overwrites; choose a new name"
    )
    assert made.read_bytes() == before
    # The live database itself is an existing file too: it can never be the target.
    source = _database(sqlite_world)
    assert sqlite_world.run("backup", str(source)).returncode == 2


def test_no_database_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    """The trap of issue 15: a backup of a missing path must not be an empty, valid file."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    result = World(cwd=folder).run("backup", "fw.db")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line.startswith("flinkswatch: configuration error: no database at ")
    for fact in ("sqlite:///./data/flinkswatch.db", str(folder), "settings file: none"):
        assert fact in line
    assert list(folder.iterdir()) == []  # no ./data, no database, no backup


def test_a_file_without_the_flinkswatch_schema_is_refused_untouched(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    result = World(cwd=tmp_path).run("backup", "fw.db", DATABASE_URL=f"sqlite:///{empty}")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "has no flinkswatch schema" in line
    assert "nothing backed up" in line
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_postgresql_points_at_pg_dump_without_connecting(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback: nothing answers, and nothing has to.
    url = "postgresql://flinkswatch:s3cret-pw@127.0.0.1:9/flinkswatch"
    result = World(cwd=tmp_path).run("backup", "fw.db", DATABASE_URL=url, timeout=20)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "pg_dump" in line
    assert "s3cret-pw" not in line
    assert list(tmp_path.iterdir()) == []


@contextmanager
def _writer(path: Path, ready_after: int) -> Iterator[tuple[threading.Event, list[int]]]:
    """Commits (n, -n) pairs, one transaction each, until told to stop. With automatic
    checkpoints off, every commit stays in the -wal file: a copy of the .db file would miss
    them all."""
    ready, stop, committed, errors = threading.Event(), threading.Event(), [0], []

    def write() -> None:
        try:
            with closing(sqlite3.connect(path, isolation_level=None, timeout=10)) as conn:
                conn.execute("PRAGMA wal_autocheckpoint=0")
                n = 0
                while not stop.is_set():
                    n += 1
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("INSERT INTO writer_log (n) VALUES (?), (?)", (n, -n))
                    conn.execute("COMMIT")
                    committed[0] = n
                    if n == ready_after:
                        ready.set()
        except sqlite3.Error as exc:  # pragma: no cover - reported below
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield ready, committed
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert errors == []


def test_backup_while_another_connection_writes_is_one_consistent_snapshot(
    sqlite_world: World,
) -> None:
    assert sqlite_world.run("poll").returncode == 0
    source = _database(sqlite_world)
    with closing(sqlite3.connect(source, isolation_level=None)) as conn:
        conn.execute("CREATE TABLE writer_log (n INTEGER NOT NULL)")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = sqlite_world.cwd / "fw-backup.db"
    with _writer(source, ready_after=200) as (ready, committed):
        assert ready.wait(timeout=30)
        before = committed[0]
        result = sqlite_world.run("backup", str(target))
        after = committed[0]
    assert result.returncode == 0, result.stderr
    assert after > before, "the writer was blocked for the whole backup"
    values = sorted(n for (n,) in _rows(target, "SELECT n FROM writer_log"))
    positive = [n for n in values if n > 0]
    # Whole transactions only (every n with its -n), a prefix of the commits, none missing.
    assert sorted(-n for n in values if n < 0) == positive
    assert positive == list(range(1, len(positive) + 1))
    assert before <= len(positive) <= after
    assert _rows(target, "PRAGMA integrity_check") == [("ok",)]
