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

from app.core.survival import Sample
from app.domain import ACTIVE, PENDING_APPROVAL, EventKind


class _Life:
    """One registration while the history is folded. Times are POSIX seconds: float arithmetic
    (datetimes were a fifth of the fold's time); slots: 100,000 of them live until the end."""

    __slots__ = ("activated", "ended", "entry", "requested", "status", "stay_entry", "stay_start")

    def __init__(self, status: str, requested_on: datetime, at: float) -> None:
        """First seen at `at` in `status`: its stay since the request if PENDING_APPROVAL."""
        self.requested = requested = requested_on.timestamp()
        self.entry = None if status == ACTIVE else at  # None: first seen ACTIVE
        self.status = status
        known = status == PENDING_APPROVAL  # since the request; other stays: unknown (None)
        self.stay_start = min(requested, at) if known else None
        self.stay_entry = at
        self.ended: float | None = None  # removed
        self.activated: float | None = None


@dataclass
class Lifetimes:
    """One provider's observations: to ACTIVE, and per status."""

    name: str
    to_active: Sample = field(default_factory=Sample)
    in_status: dict[str, Sample] = field(default_factory=dict)


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
    lives: dict[int, dict[str, _Life]] = {}  # provider_id -> client_id -> its life so far
    window = None if since is None else since.timestamp()
    observed, at = None, 0.0  # oldest first: a poll's rows come together, one timestamp()
    for row in history:
        pid, event = row.provider_id, row.event
        found = by_provider.get(pid)
        if found is None:
            found = by_provider[pid] = Lifetimes(row.provider_name)
            lives[pid] = {}
        found.name = row.provider_name  # the latest name wins
        if row.observed_at != observed:
            observed = row.observed_at
            at = observed.timestamp()
        if event in _FIRST:
            lives[pid][row.client_id] = _Life(row.to_status or "", row.requested_on, at)
            continue
        life = lives[pid].get(row.client_id)
        if life is None:
            continue
        if event == _REMOVED:
            life.ended = at
        elif event in _MOVES:
            life.ended = None
            _moved(found, life, row.to_status or "", at, window)
    end = now.timestamp()
    for pid, open_lives in lives.items():
        _close(by_provider[pid], open_lives.values(), end, window)
    return by_provider


def _moved(found: Lifetimes, life: _Life, to: str, at: float, since: float | None) -> None:
    if to == life.status:
        return
    _stay(found, life, at, True, since)
    life.status, life.stay_start, life.stay_entry = to, at, at
    if to == ACTIVE and life.activated is None:
        life.activated = at


def _close(found: Lifetimes, lives: Iterable[_Life], now: float, since: float | None) -> None:
    """The end of the history: what still waits is censored at `now` (or at its removal)."""
    to_active = found.to_active
    for life in lives:
        ended = now if life.ended is None else life.ended
        _stay(found, life, ended, False, since)
        if life.entry is None:
            continue  # first seen ACTIVE: its time to ACTIVE is unknown
        start, activated = life.requested, life.activated
        end = ended if activated is None else activated
        entry = _entered(start, life.entry, end, since)
        if entry is not None:
            to_active.add(end - start, activated is not None, entry - start)


def _stay(found: Lifetimes, life: _Life, end: float, event: bool, since: float | None) -> None:
    start = life.stay_start
    if start is None:
        return  # began before the watcher looked: its length is unknown
    entry = _entered(start, life.stay_entry, end, since)
    if entry is None:
        return
    sample = found.in_status.get(life.status)
    if sample is None:  # a status is listed once it has an observation
        sample = found.in_status[life.status] = Sample()
    sample.add(end - start, event, entry - start)


def _entered(start: float, entry: float, end: float, since: float | None) -> float | None:
    """When an observation from `start` to `end` came under watch; None when it is left out:
    it ended before the window began, or it started after it was first seen (a requested_on
    ahead of the clock: not a 0-second activation)."""
    if start > entry:
        return None
    if since is None:
        return entry
    return None if end < since else max(entry, since)
