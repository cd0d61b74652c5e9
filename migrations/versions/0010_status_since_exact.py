"""Whether a stay's start is known (issue 23; after 0009, the acknowledgements):
`registrations.status_since_exact`, and the same for the stay an event closes,
`registration_events.previous_status_since_exact`.

Existing rows are set as a fresh install would have set them: a registration first seen in
PENDING_APPROVAL has been in it since its request (status_since becomes requested_on, exact);
one first seen in any other status (status_since still its first sighting) is inexact. Events
that closed such a stay say so. A downgrade drops the columns; the earlier status_since of a
PENDING_APPROVAL row is kept (it was only ever a first sighting).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each UPDATE of the events looks for the registration's first sighting (baseline or added)
# at the start of the stay the event closes.
_INEXACT_EVENTS = """
UPDATE registration_events SET previous_status_since_exact = false
WHERE previous_status_since IS NOT NULL AND from_status <> 'PENDING_APPROVAL'
AND EXISTS (SELECT 1 FROM registration_events f
    WHERE f.client_id = registration_events.client_id
    AND f.provider_id = registration_events.provider_id
    AND f.event IN ('baseline', 'added')
    AND f.observed_at = registration_events.previous_status_since)
"""
_APPROVAL_EVENTS = """
UPDATE registration_events SET previous_status_since = requested_on
WHERE previous_status_since IS NOT NULL AND from_status = 'PENDING_APPROVAL'
AND requested_on < previous_status_since
AND EXISTS (SELECT 1 FROM registration_events f
    WHERE f.client_id = registration_events.client_id
    AND f.provider_id = registration_events.provider_id
    AND f.event IN ('baseline', 'added')
    AND f.observed_at = registration_events.previous_status_since)
"""


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(
            sa.Column("status_since_exact", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("registration_events") as batch:
        batch.add_column(
            sa.Column(
                "previous_status_since_exact",
                sa.Boolean(),
                server_default=sa.true(),
                nullable=False,
            )
        )
    op.execute(
        "UPDATE registrations SET status_since_exact = false "
        "WHERE status_since = first_seen_at AND registration_status <> 'PENDING_APPROVAL'"
    )
    op.execute(
        "UPDATE registrations SET status_since = requested_on "
        "WHERE status_since = first_seen_at AND registration_status = 'PENDING_APPROVAL' "
        "AND requested_on < status_since"
    )
    op.execute(_INEXACT_EVENTS)
    op.execute(_APPROVAL_EVENTS)


def downgrade() -> None:
    with op.batch_alter_table("registration_events") as batch:
        batch.drop_column("previous_status_since_exact")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("status_since_exact")
