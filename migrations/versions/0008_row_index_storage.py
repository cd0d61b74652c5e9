"""The row index stored uncompressed on PostgreSQL (issue 13): its fingerprints are random bytes
that compression cannot shrink much, yet compressing the 5 MB of a 100,000-row index took
three times as long as writing it, on every cycle that changed anything. SQLite has no such
setting: nothing to do there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _storage(kind: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE row_index ALTER COLUMN entries SET STORAGE {kind}")


def upgrade() -> None:
    _storage("EXTERNAL")  # out of line, never compressed


def downgrade() -> None:
    _storage("EXTENDED")  # PostgreSQL's default for bytea
