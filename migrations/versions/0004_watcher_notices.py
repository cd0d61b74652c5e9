"""The watcher says when it cannot see (SPEC 8): watcher_notices, channel_health, the failure
kind of a failed poll, and deliveries of notices; what is stuck (SPEC 9): stuck_reminders and
an index on registrations by status and time in it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "watcher_notices",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("poll_id", Id, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(255), nullable=True),
        sa.Column("since", UTC, nullable=True),
        sa.Column("cause", sa.String(32), nullable=False, server_default=""),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("tally", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("repeat", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("sent_directly", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll_runs.id"], name=op.f("fk_watcher_notices_poll_id_poll_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watcher_notices")),
    )
    op.create_index("ix_watcher_notices_kind", "watcher_notices", ["kind"])
    op.create_table(
        "channel_health",
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("failing_cycles", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("since", UTC, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("announced", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_health")),
    )
    op.create_table(
        "stuck_reminders",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reminded_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("client_id", "provider_id", name=op.f("pk_stuck_reminders")),
    )
    op.create_index(
        "ix_registrations_status_since", "registrations", ["registration_status", "status_since"]
    )
    with op.batch_alter_table("poll_runs") as batch:
        batch.add_column(sa.Column("failure_kind", sa.String(32), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("kind", type_=sa.String(32), existing_nullable=False)
        batch.add_column(sa.Column("notice_id", Id, nullable=True))
        batch.create_foreign_key(
            op.f("fk_deliveries_notice_id_watcher_notices"),
            "watcher_notices",
            ["notice_id"],
            ["id"],
        )
        batch.create_unique_constraint(
            op.f("uq_deliveries_notice_id_channel"), ["notice_id", "channel"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE notice_id IS NOT NULL")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("uq_deliveries_notice_id_channel"), type_="unique")
        batch.drop_constraint(op.f("fk_deliveries_notice_id_watcher_notices"), type_="foreignkey")
        batch.drop_column("notice_id")
        batch.alter_column("kind", type_=sa.String(16), existing_nullable=False)
    with op.batch_alter_table("poll_runs") as batch:
        batch.drop_column("failure_kind")
    op.drop_index("ix_registrations_status_since", table_name="registrations")
    op.drop_table("stuck_reminders")
    op.drop_table("channel_health")
    op.drop_index("ix_watcher_notices_kind", table_name="watcher_notices")
    op.drop_table("watcher_notices")
