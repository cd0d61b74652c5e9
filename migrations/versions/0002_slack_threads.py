"""Slack threads: the first message of each registration per Slack destination.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slack_threads",
        sa.Column("destination", sa.String(255), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("slack_channel", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint(
            "destination", "client_id", "provider_id", name=op.f("pk_slack_threads")
        ),
    )


def downgrade() -> None:
    op.drop_table("slack_threads")
