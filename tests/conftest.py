"""Shared fixtures: real databases. PostgreSQL comes from FLINKSWATCH_TEST_PG_URL; without it the
PostgreSQL tests skip with a loud reason, except under CI=true where they fail."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.config.types import psycopg_url

PG_ENV = "FLINKSWATCH_TEST_PG_URL"
PG_SKIPPED = "PostgreSQL tests SKIPPED"
_PG_FIXTURE_LINE = next(
    n
    for n, line in enumerate(Path(__file__).read_text(encoding="utf-8").splitlines())
    if line.startswith("def pg_url(")
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Every PostgreSQL skip is reported at the pg_url fixture, so `-ra` says it once, with the
    count ("SKIPPED [59] tests/conftest.py:...: PostgreSQL tests SKIPPED: ..."), rather than
    once per test."""
    report: pytest.TestReport = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
        if reason.startswith(f"Skipped: {PG_SKIPPED}") or reason.startswith(PG_SKIPPED):
            report.longrepr = (__file__, _PG_FIXTURE_LINE, reason)
    return report


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV, "").strip()
    if url:
        return psycopg_url(url)
    return None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'flinkswatch.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin = _pg_admin_url()
    if admin is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{PG_ENV} is not set: PostgreSQL tests are required in CI")
        pytest.skip(f"{PG_SKIPPED}: set {PG_ENV} to run them")
    name = f"fw_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at {PG_ENV} unreachable: {exc.orig}")
        pytest.skip(f"{PG_SKIPPED}: server unreachable ({exc.orig})")
    url = sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        _drop(engine, name)
        engine.dispose()


def _drop(engine: sa.Engine, name: str) -> None:
    """DROP .. WITH (FORCE), retried: an autovacuum worker on the fresh tables is a superuser's
    process, which FORCE may not end for this role; it lets go within moments."""
    for attempt in range(20):
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except sa.exc.DBAPIError:
            if attempt == 19:
                raise
            time.sleep(0.5)  # a retry interval, not a synchronisation: the worker is not ours


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    request.applymarker(pytest.mark.postgres)
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """A migrated database of each backend; modules that need another one define their own."""
    from app.db import engine as db

    engine = db.make_engine(db_url)
    db.migrate(engine)
    yield engine
    engine.dispose()
