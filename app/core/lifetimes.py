"""PURE: the history folded into the observations of app.core.survival, per provider (SPEC 11).

Time to ACTIVE runs from requested_on. A registration enters at its waiting on first sighting
(left truncation); it ends with the event at its first move into ACTIVE, or is censored at its
removal or at `now` while it waits; one first seen already ACTIVE tells nothing and is left out.
A stay in a status is measured from its start where that is exact (a move seen, or
PENDING_APPROVAL since the request), censored at `now` (or removal) while it lasts.
With `since` (the digest's window), what ended before it is left out and the rest enter no
earlier than it."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.core.survival import Observation
from app.domain import ACTIVE, PENDING_APPROVAL, EventKind, Key


@dataclass(slots=True)
class _Life:
    """Times are POSIX seconds: float arithmetic, a fifth of the fold's time in datetimes."""

    requested: float
    entry: float | None  # first sighting while not ACTIVE; None: first seen ACTIVE
    status: str
    stay_start: float | None  # None: the stay's start is not known
    stay_entry: float
    ended: float | None = None  # removed
    activated: float | None = None


@dataclass
class Lifetimes:
    """One provider's observations: to ACTIVE, and per status."""

    name: str
    to_active: list[Observation] = field(default_factory=list)
    in_status: dict[str, list[Observation]] = field(default_factory=dict)


class HistoryLike(Protocol):
    """The fields of app.core.report.HistoryRow this fold reads."""

    @property
    def event(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def provider_id(self) -> int: ...
    @property
    def provider_name(self) -> str: ...
    @property
    def to_status(self) -> str | None: ...
    @property
    def observed_at(self) -> datetime: ...
    @property
    def requested_on(self) -> datetime: ...


_FIRST = frozenset({EventKind.BASELINE.value, EventKind.ADDED.value})
_MOVES = frozenset({EventKind.STATUS_CHANGED.value, EventKind.REAPPEARED.value})
_REMOVED = EventKind.REMOVED.value


def fold(
    history: Iterable[HistoryLike], now: datetime, since: datetime | None = None
) -> dict[int, Lifetimes]:
    """The observations of every provider; `history` oldest first (see collector_paused)."""
    with collector_paused():
        return _fold(history, now, since)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside. A poll cycle (reading, diffing and recording an
    answer, app.watch.poll) and the history's fold and estimates build hundreds of thousands
    of objects that live until they end, almost none in a reference cycle, and the collector
    walked them again and again for nothing (0.4 s of a 100,000-row first sync, half of a
    150,000-event fold: docs/performance.md); what does form a cycle waits for the next
    collection (after a cycle of `run`: app.watch.memory.release_freed_memory). Pausing is
    process-wide, for every thread: keep long waits (retries, pacing) out of it; whoever paused
    it first turns it back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fold(
    history: Iterable[HistoryLike], now: datetime, since: datetime | None
) -> dict[int, Lifetimes]:
    by_provider: dict[int, Lifetimes] = {}
    lives: dict[Key, tuple[int, _Life]] = {}
    seconds: dict[datetime, float] = {}  # observed_at are poll times: few distinct values
    window = None if since is None else since.timestamp()
    for row in history:
        pid, event = row.provider_id, str(row.event)
        found = by_provider.get(pid)
        if found is None:
            found = by_provider[pid] = Lifetimes(row.provider_name)
        found.name = row.provider_name  # the latest name wins
        at = seconds.get(row.observed_at)
        if at is None:
            at = seconds[row.observed_at] = row.observed_at.timestamp()
        if event in _FIRST:
            life = _first(row.to_status or "", row.requested_on, at)
            lives[row.client_id, pid] = (pid, life)
            continue
        known = lives.get((row.client_id, pid))
        if known is None:
            continue
        life = known[1]
        if event == _REMOVED:
            life.ended = at
        elif event in _MOVES:
            life.ended = None
            _moved(found, life, row.to_status or "", at, window)
    end = now.timestamp()
    for pid, life in lives.values():
        _close(by_provider[pid], life, end, window)
    return by_provider


def _first(status: str, requested_on: datetime, at: float) -> _Life:
    requested = requested_on.timestamp()
    start = min(requested, at) if status == PENDING_APPROVAL else None
    return _Life(requested, None if status == ACTIVE else at, status, start, at)


def _moved(found: Lifetimes, life: _Life, to: str, at: float, since: float | None) -> None:
    if to == life.status:
        return
    _stay(found, life, at, True, since)
    life.status, life.stay_start, life.stay_entry = to, at, at
    if to == ACTIVE and life.activated is None:
        life.activated = at


def _close(found: Lifetimes, life: _Life, now: float, since: float | None) -> None:
    ended = now if life.ended is None else life.ended
    _stay(found, life, ended, False, since)
    if life.entry is None:
        return  # first seen ACTIVE: its time to ACTIVE is unknown
    end = life.activated if life.activated is not None else ended
    observed = _observation(life.requested, life.entry, end, life.activated is not None, since)
    if observed is not None:
        found.to_active.append(observed)


def _stay(found: Lifetimes, life: _Life, end: float, event: bool, since: float | None) -> None:
    if life.stay_start is None:
        return  # began before the watcher looked: its length is unknown
    observed = _observation(life.stay_start, life.stay_entry, end, event, since)
    if observed is not None:
        found.in_status.setdefault(life.status, []).append(observed)


def _observation(
    start: float, entry: float, end: float, event: bool, since: float | None
) -> Observation | None:
    """Seconds from `start`; None when it ended before the window began, or when it started
    after it was first seen (a requested_on ahead of the clock: not a 0-second activation)."""
    if start > entry:
        return None
    if since is not None:
        if end < since:
            return None
        entry = max(entry, since)
    return Observation(end - start, event, entry - start)
