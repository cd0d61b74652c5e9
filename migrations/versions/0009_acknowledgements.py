"""Acknowledgements (issue 25): an `acknowledged` event says who took a registration (`by`),
their `note` and when it ends (`until`); `action_key`, UNIQUE, is the Slack click that recorded
it, so a click retried by Slack or taken by two replicas is recorded once. Nullable columns:
nothing to fill in on existing rows, on either backend.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "uq_registration_events_action_key"
_ACKS = "ix_registration_events_acknowledged"  # partial: the acknowledged events only
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("registration_events", sa.Column("by", sa.String(200), nullable=True))
    op.add_column("registration_events", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("registration_events", sa.Column("until", UTC, nullable=True))
    op.add_column("registration_events", sa.Column("action_key", sa.String(255), nullable=True))
    op.create_index(_INDEX, "registration_events", ["action_key"], unique=True)
    only = sa.text("event = 'acknowledged'")
    op.create_index(
        _ACKS,
        "registration_events",
        ["client_id", "provider_id", "id"],
        postgresql_where=only,
        sqlite_where=only,
    )


def downgrade() -> None:
    op.drop_index(_ACKS, table_name="registration_events")
    # The code before this revision knows no `acknowledged` event: they go, with their deliveries.
    acks = "SELECT id FROM registration_events WHERE event = 'acknowledged'"
    op.execute(f"DELETE FROM deliveries WHERE event_id IN ({acks})")  # noqa: S608 (constant)
    op.execute("DELETE FROM registration_events WHERE event = 'acknowledged'")
    op.drop_index(_INDEX, table_name="registration_events")
    with op.batch_alter_table("registration_events") as batch:
        for name in ("action_key", "until", "note", "by"):
            batch.drop_column(name)
