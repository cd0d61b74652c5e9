"""The SQLite database, its -wal and -shm files and its backups are created 0600, the folders
made for them 0700, whatever the umask; a folder already there keeps its mode."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.db import engine as db
from app.db.backup import backup_sqlite
from app.db.leader import FileGuard


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def test_the_database_and_its_folders_are_private(tmp_path: Path, umask: int) -> None:
    tmp_path.chmod(0o755)
    path = tmp_path / "data" / "sub" / "flinkswatch.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        db.migrate(engine)
        with engine.connect() as conn:  # a connection open: the -wal and -shm files exist
            conn.exec_driver_sql("SELECT count(*) FROM registrations").scalar()
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        engine.dispose()
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "sub") == 0o700
    assert mode(tmp_path) == 0o755  # there before: left as it was


def test_a_backup_is_private(tmp_path: Path, umask: int) -> None:
    source = tmp_path / "flinkswatch.db"
    engine = db.make_engine(f"sqlite:///{source}")
    try:
        db.migrate(engine)
    finally:
        engine.dispose()
    done = backup_sqlite(source, tmp_path / "copy.db")
    assert mode(done.path) == 0o600


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "flinkswatch.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        db.migrate(engine)
    finally:
        engine.dispose()
    assert mode(path) == 0o640


def test_the_lock_taken_first_makes_the_folder_private(tmp_path: Path, umask: int) -> None:
    guard = FileGuard(tmp_path / "data" / "flinkswatch.db")
    guard.acquire()  # `run` may lock before the engine creates anything
    try:
        assert mode(tmp_path / "data") == 0o700
    finally:
        guard.release()
