"""Initial schema: registrations, registration_events, poll_runs, deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-20

Written by hand to match app/tables.py exactly (a test compares them). Constraint names follow
the naming convention of app/tables.py, so later batch migrations on SQLite can drop them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in app/tables.py: a migration must not change when the app does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "registrations",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("client_name", sa.Text(), nullable=False),
        sa.Column("provider_name", sa.Text(), nullable=False),
        sa.Column("country", sa.String(16), nullable=False),
        sa.Column("registration_status", sa.String(64), nullable=False),
        sa.Column("requested_on", UTC, nullable=False),
        sa.Column("first_seen_at", UTC, nullable=False),
        sa.Column("status_since", UTC, nullable=False),
        sa.Column("missing_polls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("present", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("removed_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("client_id", "provider_id", name=op.f("pk_registrations")),
    )
    op.create_table(
        "poll_runs",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("rows_seen", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("events", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("answer_digest", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_runs")),
    )
    op.create_index("ix_poll_runs_outcome_finished_at", "poll_runs", ["outcome", "finished_at"])
    op.create_table(
        "registration_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("poll_id", Id, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("client_name", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("provider_name", sa.Text(), nullable=False),
        sa.Column("country", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(64), nullable=True),
        sa.Column("to_status", sa.String(64), nullable=True),
        sa.Column("observed_at", UTC, nullable=False),
        sa.Column("requested_on", UTC, nullable=False),
        sa.Column("previous_status_since", UTC, nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["poll_runs.id"],
            name=op.f("fk_registration_events_poll_id_poll_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_events")),
    )
    op.create_index(
        "ix_registration_events_key", "registration_events", ["client_id", "provider_id"]
    )
    op.create_index("ix_registration_events_observed_at", "registration_events", ["observed_at"])
    op.create_index("ix_registration_events_poll_id", "registration_events", ["poll_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("poll_id", Id, nullable=False),
        sa.Column("event_id", Id, nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("external_ref", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["registration_events.id"],
            name=op.f("fk_deliveries_event_id_registration_events"),
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll_runs.id"], name=op.f("fk_deliveries_poll_id_poll_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("event_id", "channel", name=op.f("uq_deliveries_event_id_channel")),
    )
    op.create_index("ix_deliveries_channel_status", "deliveries", ["channel", "status"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_channel_status", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_registration_events_poll_id", table_name="registration_events")
    op.drop_index("ix_registration_events_observed_at", table_name="registration_events")
    op.drop_index("ix_registration_events_key", table_name="registration_events")
    op.drop_table("registration_events")
    op.drop_index("ix_poll_runs_outcome_finished_at", table_name="poll_runs")
    op.drop_table("poll_runs")
    op.drop_table("registrations")
