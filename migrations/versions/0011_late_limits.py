"""The late limits as last folded (issue 23; after 0010): one row, so that a cron `poll`, a
process per cycle, reuses them for an hour like the running service instead of folding the
whole history on every cycle. Empty until the first fold; a downgrade drops it (a cache).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "late_limits",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        sa.Column("late_after", sa.Float(), nullable=False),
        sa.Column("min_activations", sa.Integer(), nullable=False),
        sa.Column("limits", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_late_limits")),
    )


def downgrade() -> None:
    op.drop_table("late_limits")
