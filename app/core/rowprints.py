"""PURE: what a cycle knows of the rows it stored, so that it validates and diffs only the rows
that changed (issue 13). Each row of an answer is known by a fingerprint of its raw bytes
(app.flinks.rows); a row byte-identical to the one a registration was last read from cannot
have changed it. Standard library only."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Protocol

from app.domain import Answer, Key, StoredRegistration


@dataclass(frozen=True, slots=True)
class Delta:
    """An answer read against the fingerprints of the stored rows."""

    # The rows that are not byte-identical to a known one, validated; and every skip.
    answer: Answer
    # The registrations whose row is byte-identical to the one they were last read from.
    unchanged: AbstractSet[Key]
    # The fingerprint of each row of `answer.rows`; None when the body was not read row by
    # row (then the next cycle validates every row again).
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
    from in that cycle's answer (b"" when the answer did not keep its row: a skipped row, a
    registration missing from it). Written with the state, in the same transaction."""

    entries: Mapping[Key, bytes]
    prints: Mapping[bytes, Key]  # fingerprint -> registration, for the rows the answer kept

    @classmethod
    def of(cls, entries: Mapping[Key, bytes]) -> RowIndex:
        return cls(entries, {fp: key for key, fp in entries.items() if fp})

    @property
    def present(self) -> AbstractSet[Key]:
        return self.entries.keys()


def next_index(
    old: Mapping[Key, bytes] | None,
    present: Iterable[Key],
    delta: Delta,
    changed: Iterable[StoredRegistration],
) -> dict[Key, bytes] | None:
    """The index to store after a cycle: the last one (`old`, or the `present` keys without
    fingerprints when there is none) with this answer's rows, those it lacks without one, and
    without the registrations it concluded removed. None when the answer was not read row by
    row. The work is that of the rows that changed, plus two set differences."""
    if delta.prints is None:
        return None
    index = dict(old) if old is not None else dict.fromkeys(present, b"")
    lacking = index.keys() - delta.unchanged - delta.prints.keys()
    index.update(dict.fromkeys(lacking, b""))
    index.update(delta.prints)
    for stored in changed:
        if not stored.present:
            index.pop(stored.key, None)
    return index


class Fetched:
    """A listing with the sha256 and size of the raw body it came from. `answer` may be given
    as a function: the rows are then validated on first use, so a body byte-identical to the
    last complete one is never validated at all (app.watch.poll checks the digest first)."""

    __slots__ = ("_answer", "_parse", "digest", "rows", "size")

    def __init__(
        self,
        answer: Answer | Callable[[], Answer],
        digest: str,
        size: int,
        rows: Rows | None = None,  # the body row by row, when it can be read so
    ) -> None:
        self._answer: Answer | None = answer if isinstance(answer, Answer) else None
        self._parse: Callable[[], Answer] | None = None if isinstance(answer, Answer) else answer
        self.digest, self.size, self.rows = digest, size, rows

    @property
    def answer(self) -> Answer:
        if self._answer is None:
            if self._parse is None:
                raise RuntimeError("Fetched has neither an answer nor a way to parse one")
            # Parsed once; the function (and the body it holds) is let go at once.
            self._answer, self._parse = self._parse(), None
        return self._answer

    def __repr__(self) -> str:
        state = "parsed" if self._answer is not None else "not parsed"
        return f"Fetched(digest={self.digest[:12]}, size={self.size}, {state})"
