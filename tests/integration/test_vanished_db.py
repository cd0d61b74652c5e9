"""SPEC 8: the SQLite file deleted, replaced or its folder removed under a running process is a
failed cycle naming the path, never a silent success in an unlinked file, and no empty database
is created in its place."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db import engine as db
from app.db.outbox import Outbox
from app.db.store import Store
from app.domain import Outcome
from app.errors import DatabaseVanished
from app.watch.poll import Poller
from tests.builders import FakeClock
from tests.integration.test_poll import T0, FakeChannel, FakeSource, row


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "flinkswatch.db"


def poller(engine: sa.Engine, channel: FakeChannel) -> Poller:
    return Poller(
        source=FakeSource([row("a", 1)]),
        store=Store(engine),
        outbox=Outbox(engine),
        channels=[channel],
        clock=FakeClock(T0),
        sleep=lambda _s: None,
    )


def _delete(path: Path) -> None:
    path.unlink()


def _replace(path: Path) -> None:
    other = path.with_name("other.db")
    other.write_bytes(b"")
    os.replace(other, path)


def _remove_folder(path: Path) -> None:
    shutil.rmtree(path.parent)


@pytest.mark.parametrize("vanish", [_delete, _replace, _remove_folder])
def test_a_vanished_file_fails_every_cycle_and_is_not_recreated(path: Path, vanish: object) -> None:
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    channel = FakeChannel()
    watch = poller(engine, channel)
    assert watch.poll_once().outcome is Outcome.OK
    vanish(path)  # type: ignore[operator]
    existed = path.exists()
    for _ in range(2):
        result = watch.poll_once()
        assert (result.outcome, result.failure_kind) == (Outcome.FAILED, "database_vanished")
        assert str(path) in (result.error or "")
        assert "vanished" in (result.error or "")
    assert path.exists() == existed  # never a fresh empty database in its place
    if existed:
        assert path.stat().st_size == 0  # the replacement is left as it was
    engine.dispose()


def test_reads_fail_too_with_the_path(path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    path.unlink()
    with pytest.raises(DatabaseVanished, match=str(path)):
        Store(engine).last_success_id()
    assert not path.exists()
    engine.dispose()
