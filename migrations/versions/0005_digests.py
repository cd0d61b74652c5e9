"""Digests (SPEC 9): the digests table (the period, the scheduled fire time it stands for, once,
and its content as JSON so a retry sends the same text) and deliveries of digests, which belong
to no poll.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("period_start", UTC, nullable=False),
        sa.Column("period_end", UTC, nullable=False),
        sa.Column("fire_at", UTC, nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("fire_at", name=op.f("uq_digests_fire_at")),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("poll_id", existing_type=Id, nullable=True)
        batch.add_column(sa.Column("digest_id", Id, nullable=True))
        batch.create_foreign_key(
            op.f("fk_deliveries_digest_id_digests"), "digests", ["digest_id"], ["id"]
        )
        batch.create_unique_constraint(
            op.f("uq_deliveries_digest_id_channel"), ["digest_id", "channel"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE digest_id IS NOT NULL")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("uq_deliveries_digest_id_channel"), type_="unique")
        batch.drop_constraint(op.f("fk_deliveries_digest_id_digests"), type_="foreignkey")
        batch.drop_column("digest_id")
        batch.alter_column("poll_id", existing_type=Id, nullable=False)
    op.drop_table("digests")
