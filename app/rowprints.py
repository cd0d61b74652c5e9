"""PURE: what a cycle knows of the rows it stored, so that it validates and diffs only the rows
that changed (issue 13). Each row of an answer is known by a fingerprint of its raw bytes
(app.flinks.rows); a row byte-identical to the one a registration was last read from cannot
have changed it. Standard library only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from app.domain import Answer, Key, StoredRegistration


@dataclass(frozen=True, slots=True)
class Delta:
    """An answer read against the fingerprints of the stored rows."""

    # The rows that are not byte-identical to a known one, validated; and every skip.
    answer: Answer
    # The registrations whose row is byte-identical to the one they were last read from.
    unchanged: frozenset[Key]
    # The fingerprint of every row the answer kept, unchanged ones included; None when the
    # body was not read row by row (then the next cycle validates every row again).
    prints: Mapping[Key, bytes] | None

    @property
    def rows_seen(self) -> int:
        return len(self.unchanged) + len(self.answer.rows)

    @classmethod
    def whole(cls, answer: Answer) -> Delta:
        """An answer validated in full, without fingerprints."""
        return cls(answer=answer, unchanged=frozenset(), prints=None)


class Rows(Protocol):
    """A body split into rows (app.flinks.rows.RawListing)."""

    def delta(self, known: Mapping[bytes, Key]) -> Delta: ...


@dataclass(frozen=True, slots=True)
class RowIndex:
    """Every present registration after a cycle, with the fingerprint of the row it was read
    from in that cycle's answer (none when the answer did not keep its row: a skipped row, a
    registration missing from it). Written with the state, in the same transaction."""

    present: frozenset[Key]
    prints: Mapping[bytes, Key]  # fingerprint -> registration, for the rows the answer kept

    @classmethod
    def of(cls, entries: Iterable[tuple[Key, bytes]]) -> RowIndex:
        present, prints = set(), {}
        for key, fingerprint in entries:
            present.add(key)
            if fingerprint:
                prints[fingerprint] = key
        return cls(present=frozenset(present), prints=prints)

    def entries(self) -> dict[Key, bytes]:
        by_key = dict.fromkeys(self.present, b"")
        by_key.update((key, fp) for fp, key in self.prints.items())
        return by_key


def next_index(
    present: frozenset[Key], delta: Delta, changed: Iterable[StoredRegistration]
) -> dict[Key, bytes] | None:
    """The index to store after a cycle: the registrations present before it, with those it
    added or brought back and without those it concluded removed, each with the fingerprint of
    its row in this answer. None when the answer was not read row by row."""
    if delta.prints is None:
        return None
    keys = set(present)
    for stored in changed:
        if stored.present:
            keys.add(stored.key)
        else:
            keys.discard(stored.key)
    prints = delta.prints
    return {key: prints.get(key, b"") for key in keys}
