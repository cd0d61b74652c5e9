"""The row prints' plain values (app.core.rowprints) for the mutation pass (docs/mutation.md):
an answer taken whole, a Fetched whose rows are read on first use, and the index a cycle keeps.
tests/unit/test_row_delta.py checks the delta against the whole answer over many answers."""

from __future__ import annotations

from app.core.rowprints import Delta, Fetched, next_index
from app.domain import Answer
from tests.builders import registration, stored

A, B, C = (("c", 1), ("c", 2), ("c", 3))
EMPTY = Answer(rows=())


def test_an_answer_taken_whole_has_no_prints_and_nothing_unchanged() -> None:
    answer = Answer(rows=(registration("c", 1),))
    assert Delta.whole(answer) == Delta(answer, frozenset(), None)
    assert Delta.whole(answer).rows_seen == 1


def test_a_fetched_answer_is_parsed_once_on_first_use_and_says_so() -> None:
    calls: list[int] = []

    def parse() -> Answer:
        calls.append(1)
        return EMPTY

    later = Fetched(parse, "0123456789abcdef", 42)
    assert repr(later) == "Fetched(digest=0123456789ab, size=42, not parsed)"
    assert later.answer is EMPTY
    assert later.answer is EMPTY
    assert calls == [1]
    assert repr(later) == "Fetched(digest=0123456789ab, size=42, parsed)"
    given = Fetched(EMPTY, "ff", 0)
    assert repr(given) == "Fetched(digest=ff, size=0, parsed)"
    assert given.answer is EMPTY


def test_the_first_index_starts_from_the_present_keys_without_prints() -> None:
    delta = Delta(EMPTY, frozenset({B}), {A: b"pa"})
    assert next_index(None, [A, B, C], delta, []) == {A: b"pa", B: b"", C: b""}
    assert next_index({A: b"old", B: b"pb"}, [], delta, []) == {A: b"pa", B: b"pb"}
    gone = stored(registration("c", 3), present=False)
    assert next_index(None, [A, B, C], delta, [gone]) == {A: b"pa", B: b""}
    assert next_index({A: b"x"}, [A], delta, [gone]) == {A: b"pa"}  # not there: nothing to drop
    assert next_index({A: b"x"}, [A], Delta.whole(EMPTY), []) is None
