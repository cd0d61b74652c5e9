"""Slack threads: a registration's first message is the root that its later ones reply to.

Threads are a convenience: when the store cannot be read or written, the alert is still sent,
unthreaded, with a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from app.domain import Key

log = logging.getLogger(__name__)


class ThreadStore(Protocol):
    """Where thread roots are kept (app.db.threads.SlackThreadTable)."""

    def root(self, destination: str, key: Key) -> tuple[str, str] | None:
        """(Slack channel ID, ts) of the thread, or None."""
        ...

    def remember(
        self, destination: str, key: Key, slack_channel: str, ts: str, now: datetime
    ) -> None:
        """Keep the first root only: a second writer (never expected) must not move a thread."""
        ...


@dataclass(frozen=True)
class SlackThreads:
    """The thread roots of one Slack destination, best effort."""

    store: ThreadStore

    def root(self, destination: str, key: Key) -> tuple[str, str] | None:
        try:
            return self.store.root(destination, key)
        except Exception as exc:  # noqa: BLE001 - no thread is better than no alert
            log.warning("slack.thread_lookup_failed error=%s", type(exc).__name__)
            return None

    def remember(self, destination: str, key: Key, posted_in: str, ts: str) -> None:
        try:
            self.store.remember(destination, key, posted_in, ts, datetime.now(UTC))
        except Exception as exc:  # noqa: BLE001 - delivered already; the next one starts a thread
            log.warning("slack.thread_not_saved error=%s", type(exc).__name__)
