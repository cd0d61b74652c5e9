"""Fault-injection fixtures: killable `flinkswatch run` processes and a private PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.fakes.smtp_server import free_port
from tests.faults.harness import Launcher, PrivatePostgres, pg_bindir


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    runs = Launcher(tmp_path)
    try:
        yield runs
    finally:
        runs.reap()


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    """initdb into a temporary directory, start it on a free port; removed at teardown."""
    bindir = pg_bindir()
    if bindir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are required in CI")
        pytest.skip("private PostgreSQL SKIPPED: no /usr/lib/postgresql/*/bin/initdb")
    # Not under pytest's tmp dir: its parents are private to root, and postgres must get in.
    root = Path(tempfile.mkdtemp(prefix="flinkswatch-pg-"))
    datadir = root / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        as_postgres = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(datadir), "-U", "fault", "-A", "trust"],
        check=True,
        capture_output=True,
    )
    pg = PrivatePostgres(bindir, datadir, free_port(), as_postgres)
    pg.start()
    try:
        admin = sa.create_engine(
            pg.url.replace("/faults", "/postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE faults"))
        admin.dispose()
        yield pg
    finally:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
