"""What a cycle reads of the stored state, as little as it can (issue 13): the state kept from
our own last cycle while no other process has written since, the fingerprints of the rows it
was read from (app.core.rowprints), and only the registrations an answer's changed rows touch."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TypeVar

from app.core.diff import apply
from app.core.rowprints import Delta, Fetched, RowIndex, next_index
from app.domain import Key, StoredRegistration
from app.watch.poll_ports import CycleStore

T = TypeVar("T")
log = logging.getLogger("app.poll")


@dataclass(frozen=True, slots=True)
class Previous:
    """The stored state a diff needs: every registration (`present` None), or only those the
    answer touches, with the keys of every present one."""

    state: dict[Key, StoredRegistration]
    present: AbstractSet[Key] | None = None
    index: RowIndex | None = None  # the index this state agrees with, to update after the diff

    def present_keys(self) -> AbstractSet[Key]:
        if self.present is not None:
            return self.present
        return {key for key, stored in self.state.items() if stored.present}


@dataclass
class Recall:
    store: CycleStore
    # (poll id, value after it): our own last write, valid while that poll is the latest.
    _state: tuple[int, dict[Key, StoredRegistration]] | None = field(default=None, repr=False)
    _index: tuple[int, RowIndex] | None = field(default=None, repr=False)

    def delta(self, fetched: Fetched, latest: int | None) -> tuple[Delta, RowIndex | None]:
        """The answer validated: row by row against the index when the body allows it (only
        the rows that changed), else whole."""
        if fetched.rows is None:
            return Delta.whole(fetched.answer), None
        index = self._own(self._index, latest)
        if index is None and latest is not None:
            index = self.store.row_index()
        return fetched.rows.delta(index.prints if index is not None else {}), index

    def previous(self, delta: Delta, index: RowIndex | None, latest: int | None) -> Previous:
        """The state to diff `delta` against: all of it when we kept it or have no index, else
        the registrations of its changed rows and those it may find gone."""
        state = self._own(self._state, latest)
        if state is not None:
            return Previous(state, index=index)
        if index is None or latest is None:
            return Previous(self.store.load_state())
        needed = {row.key for row in delta.answer.rows}
        if delta.answer.complete:
            needed.update(index.present - delta.unchanged)  # the present rows it may lack
        if 2 * len(needed) > len(index.present):
            # One SELECT of all beats many of most.
            return Previous(self.store.load_state(), index=index)
        state = self.store.load_some(needed)
        lost = sum(1 for key in needed if key not in state and key in index.present)
        if lost:
            # Present in the index, not in the table (rows deleted by hand): the whole state
            # is diffed, and the next index is built from it, so the rows heal next cycle.
            log.warning("rowindex.out_of_step missing=%d: the whole state is read", lost)
            return Previous(self.store.load_state())
        return Previous(state, index.present, index)

    @staticmethod
    def next_index(
        previous: Previous, delta: Delta, changed: tuple[StoredRegistration, ...]
    ) -> Mapping[Key, bytes] | None:
        """The index to store with this cycle's state (app.core.rowprints.next_index)."""
        if previous.index is None:
            return next_index(None, previous.present_keys(), delta, changed)
        return next_index(previous.index.entries, (), delta, changed)

    def remember(
        self,
        latest: int | None,
        poll_id: int,
        previous: Previous | None,
        changed: tuple[StoredRegistration, ...],
        index: Mapping[Key, bytes] | None,
    ) -> None:
        """After our own write: what the next cycle may take without reading it back.
        `previous` None: an identical answer, which changed nothing."""
        if previous is None:
            self._state = self._bump(self._state, latest, poll_id)
            self._index = self._bump(self._index, latest, poll_id)
            return
        # The whole state is kept only while there is no index: with one, the next cycle
        # reads the few registrations it needs (at 100,000 rows, 50 MiB not kept between
        # cycles for about 0.2 s a 10% cycle; docs/performance.md).
        full = previous.present is None and index is None
        self._state = (poll_id, apply(previous.state, changed)) if full else None
        self._index = None if index is None else (poll_id, RowIndex.of(index))

    @staticmethod
    def _own(kept: tuple[int, T] | None, latest: int | None) -> T | None:
        return kept[1] if kept is not None and kept[0] == latest else None

    @staticmethod
    def _bump(kept: tuple[int, T] | None, latest: int | None, poll_id: int) -> tuple[int, T] | None:
        return (poll_id, kept[1]) if kept is not None and kept[0] == latest else None
