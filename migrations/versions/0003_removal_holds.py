"""Mass-shrink holds (SPEC 2, REMOVAL_HOLD_PERCENT, `flinkswatch accept-removals`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "removal_holds",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("poll_id", Id, nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("accepted_at", UTC, nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll_runs.id"], name=op.f("fk_removal_holds_poll_id_poll_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_removal_holds")),
    )


def downgrade() -> None:
    op.drop_table("removal_holds")
