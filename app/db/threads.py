"""The slack_threads table: the first Slack message of each registration per destination."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db.engine import reading, translate_errors
from app.db.tables import slack_threads
from app.domain import Key
from app.notify.slack_threads import ThreadStore


class SlackThreadTable(ThreadStore):
    """The first Slack message of each registration per destination: later ones reply to it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def root(self, destination: str, key: Key) -> tuple[str, str] | None:
        """(Slack channel ID, ts) of the thread, or None."""
        t = slack_threads.c
        stmt = sa.select(t.slack_channel, t.ts).where(
            t.destination == destination, t.client_id == key[0], t.provider_id == key[1]
        )
        with reading(self._engine) as conn:
            row = conn.execute(stmt).first()
        return (row.slack_channel, row.ts) if row is not None else None

    def remember(
        self, destination: str, key: Key, slack_channel: str, ts: str, now: datetime
    ) -> None:
        """Keep the first root only: a second writer (never expected) must not move a thread."""
        row = {
            "destination": destination,
            "client_id": key[0],
            "provider_id": key[1],
            "slack_channel": slack_channel,
            "ts": ts,
            "created_at": now,
        }
        from sqlalchemy.dialects import postgresql, sqlite  # on use: `status` loads neither

        with translate_errors(self._engine), self._engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(dialect.insert(slack_threads).values(row).on_conflict_do_nothing())
