"""Issue 13: an answer read row by row against the fingerprints of the stored rows validates
only the rows that are not byte-identical to a stored one, and decides exactly what the whole
answer decides (SPEC 2): the same rows, the same skips, the same warnings, conflicts between a
known and an unknown row included."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.rowprints import Delta, RowIndex, next_index
from app.domain import Answer, Key, Registration, StoredRegistration
from app.flinks.listing import parse_answer
from app.flinks.rows import fetched, fingerprint, read_rows
from tests.unit.test_poison_rows import hostile_rows
from tests.unit.test_typed_rows import ODD, row


def _known(body: bytes) -> tuple[dict[bytes, Key], dict[Key, Registration]]:
    """What a cycle stores of `body`: the fingerprints of the rows it kept, and those rows."""
    listing = read_rows(body)
    assert listing is not None
    delta = listing.delta({})
    assert delta.prints is not None
    return {fp: key for key, fp in delta.prints.items()}, {r.key: r for r in delta.answer.rows}


def _as_whole(delta: Delta, stored: dict[Key, Registration]) -> Answer:
    rows = [*delta.answer.rows, *(stored[key] for key in delta.unchanged)]
    return Answer(tuple(sorted(rows, key=lambda r: r.key)), delta.answer.skipped)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _check(before: bytes, after: bytes, caplog: pytest.LogCaptureFixture) -> Delta:
    known, stored = _known(before)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="app.flinks"):
        whole = parse_answer(after)
    expected_warnings = _warnings(caplog)
    listing = read_rows(after)
    assert listing is not None
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="app.flinks"):
        delta = listing.delta(known)
    assert _as_whole(delta, stored) == whole
    assert _warnings(caplog) == expected_warnings
    return delta


def _body(rows: list[Any]) -> bytes:
    return json.dumps(rows, separators=(",", ":")).encode()


def test_only_the_rows_not_byte_identical_to_a_stored_one_are_validated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = [row("a", 1), row("b", 2), row("c", 3)]
    moved = [base[0], row("b", 2, registration_status="PENDING_APPROVAL"), base[2], row("d", 4)]
    delta = _check(_body(base), _body(moved), caplog)
    assert delta.unchanged == {("a", 1), ("c", 3)}
    assert [r.key for r in delta.answer.rows] == [("b", 2), ("d", 4)]
    assert delta.prints is not None
    assert set(delta.prints) == {("b", 2), ("d", 4)}  # the unchanged ones keep theirs
    assert delta.prints[("d", 4)] == fingerprint(
        json.dumps(moved[3], separators=(",", ":")).encode()
    )


@pytest.mark.parametrize("odd", list(ODD.values()), ids=list(ODD))
def test_an_odd_row_beside_known_ones_is_decided_as_in_the_whole_answer(
    odd: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    base = [row("a", 1), row("b", 2), row("s", 5), row("t", 6)]
    _check(_body(base), _body([*base, odd]), caplog)


def test_an_unknown_row_conflicting_with_a_known_one_skips_the_key_with_both(
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = [row("a", 1), row("b", 2)]
    after = [row("a", 1), row("b", 2), row("b", 2), row("b", 2, registration_status="X")]
    delta = _check(_body(base), _body(after), caplog)
    assert delta.unchanged == {("a", 1)}
    assert delta.answer.skipped == 3
    assert "flinks.conflicting_rows key=b/2 rows=3" in caplog.text


def test_a_known_row_written_differently_is_the_same_registration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spaced = json.dumps([row("a", 1)], indent=2).encode()
    delta = _check(_body([row("a", 1)]), spaced, caplog)
    assert delta.unchanged == frozenset()
    assert [r.key for r in delta.answer.rows] == [("a", 1)]


def test_a_body_that_cannot_be_read_row_by_row_is_read_whole() -> None:
    for body in (b'\xef\xbb\xbf[{"a": 1}]', b"[NaN]", b'[{"client_id": "\\u0000"}]', b"{}"):
        assert read_rows(body) is None
    answer = fetched(b'[{"client_id": "\\u0000"}]')
    assert answer.rows is None
    assert answer.answer.skipped == 1


def test_the_lazy_answer_of_a_body_read_row_by_row_is_the_whole_answer() -> None:
    body = _body([row("a", 1), row("b", 2), *ODD.values()])
    got = fetched(body)
    assert got.rows is not None
    assert got.answer == parse_answer(body)


def test_the_next_index_adds_what_came_and_drops_what_was_removed() -> None:
    when = datetime(2026, 12, 1, tzinfo=UTC)
    reg = parse_answer(_body([row("n", 9)])).rows[0]
    delta = Delta(Answer((reg,)), frozenset({("a", 1)}), {("n", 9): b"N" * 16})
    new = StoredRegistration(reg, when, when)
    gone = StoredRegistration(parse_answer(_body([row("g", 7)])).rows[0], when, when, 2, False)
    old = {("a", 1): b"A" * 16, ("g", 7): b"", ("m", 8): b"M" * 16}
    index = next_index(old, (), delta, (new, gone))
    # a: unchanged, keeps its print; m: missing from this answer, loses it; g: removed.
    assert index == {("a", 1): b"A" * 16, ("m", 8): b"", ("n", 9): b"N" * 16}
    again = RowIndex.of(index)
    assert again.present == {("a", 1), ("m", 8), ("n", 9)}
    assert dict(again.prints) == {b"A" * 16: ("a", 1), b"N" * 16: ("n", 9)}
    first = next_index(None, [("m", 8)], Delta(Answer((reg,)), frozenset(), {("n", 9): b"N"}), ())
    assert first == {("m", 8): b"", ("n", 9): b"N"}
    assert next_index(old, (), Delta.whole(Answer(())), ()) is None


pool = st.sampled_from(
    [row(c, p, registration_status=s) for c in "ab" for p in (1, 2) for s in "XY"]
)
elements = pool | hostile_rows()


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(elements, max_size=8), after=st.lists(elements, max_size=8))
def test_any_answer_after_any_other_is_decided_as_in_the_whole_answer(
    before: list[Any], after: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    first, second = _body(before), _body(after)
    if read_rows(first) is None or read_rows(second) is None:
        return  # read whole (tests/unit/test_typed_rows.py)
    _check(first, second, caplog)


def test_a_body_read_row_by_row_is_read_once_then_refused_not_empty() -> None:
    """The body is let go with the first delta(): a second read must fail loudly, never
    see an empty answer (which, being complete, would count every registration missing)."""
    got = fetched(_body([row("a", 1)]))
    assert got.rows is not None
    assert [r.key for r in got.rows.delta({}).answer.rows] == [("a", 1)]
    with pytest.raises(RuntimeError, match="called twice"):
        got.rows.delta({})
    with pytest.raises(RuntimeError, match="called twice"):
        _ = got.answer
