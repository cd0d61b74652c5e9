"""The ports of one poll cycle (app.watch.poll): where answers come from, and what it reads and
writes (app.db.store.Store)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from app.core.rowprints import Fetched, RowIndex
from app.domain import CycleRecord, HoldState, Key, NoticePlan, StoredRegistration
from app.watch.selfwatch import HealthStore
from app.watch.stuckwatch import ReminderStore

__all__ = ["CycleStore", "Source"]


class Source(Protocol):
    """Where answers come from: the Flinks client, or anything that fetches like it."""

    def fetch(self) -> Fetched: ...


class CycleStore(HealthStore, ReminderStore, Protocol):
    """What a cycle reads and writes (app.db.store.Store)."""

    def last_success_id(self) -> int | None: ...
    def last_complete_answer(self) -> tuple[str, int] | None: ...
    def has_pending_removals(self) -> bool: ...
    def removal_hold(self) -> HoldState: ...
    def load_state(self) -> dict[Key, StoredRegistration]: ...
    def load_some(self, keys: Collection[Key]) -> dict[Key, StoredRegistration]: ...
    def row_index(self) -> RowIndex | None: ...
    def record_cycle(self, record: CycleRecord) -> int: ...
    def record_failure(
        self,
        *,
        started_at: datetime,
        finished_at: datetime,
        error: str,
        kind: str | None = None,
        notices_due: Sequence[NoticePlan] = (),
    ) -> int: ...
