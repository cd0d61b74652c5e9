"""The Slack board (SPEC 10): one row per bot destination with the board message's channel id,
ts and the digest of its content, so restarts and failover edit the same message.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slack_boards",
        sa.Column("destination", sa.String(255), nullable=False),
        sa.Column("slack_channel", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("content_digest", sa.String(64), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("destination", name=op.f("pk_slack_boards")),
    )


def downgrade() -> None:
    op.drop_table("slack_boards")
