"""HEAD_REVISION (what `status` and a started `run` compare the database with, without Alembic)
is the head of the shipped migration scripts as Alembic itself reads them."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from app.db import engine as db
from app.db.revision import HEAD_REVISION


def test_head_revision_is_alembics_head() -> None:
    # Fails when a migration is added (or two branches each add one) until app/db/revision.py
    # names the new head: a stale constant would call a migrated database out of date.
    scripts = ScriptDirectory.from_config(db.alembic_config())
    assert scripts.get_heads() == [HEAD_REVISION]
    assert db.head_revision() == HEAD_REVISION
