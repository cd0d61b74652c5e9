"""Issue 14, hostile days: no single row can stop the watching of the others (SPEC 2).

A value the product cannot represent makes its row invalid (skipped, logged, the answer partial);
two different rows for one key make that key invalid for the answer, whatever their order."""

from __future__ import annotations

import itertools
import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.flinks.listing import FlinksBadAnswer, parse_answer
from tests.unit.test_parse import CLIENT, body, row

# ---- strategies: arbitrary JSON in every field, with the edges of each field mixed in ------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 3, max_value=2**64 + 3).flatmap(
        lambda n: st.sampled_from([n, -n])
    ),
    st.floats(),  # NaN and Infinity too: Python's json reads and writes them
    st.text(),
    st.sampled_from(["", " ", "\x00", "\ud800", "A\x00B", "\udfff\ud800", "x" * 129, "١٢"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=12,
)
ZONES = ["Z", "+00:00", "+01:00", "-01:00", "+23:59", "-23:59", "+24:00", "+14", "-0530", ""]
timestamps = st.builds(
    lambda when, frac, zone: when.strftime("%Y-%m-%dT%H:%M:%S") + frac + zone,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["", ".1", ".6055680", ".9999999"]),
    st.sampled_from(ZONES),
)
edge_datetimes = st.sampled_from(
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.9999999Z",
        "0001-01-02T00:00:00Z",
        "9999-12-30T23:59:59Z",
    ]
)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "client_id": st.sampled_from(["dc-a", "dc-b", "x" * 128, "x" * 129]) | json_values,
    "client_name": st.text() | json_values,
    "provider_id": st.sampled_from([0, 1, 2**63 - 1, 2**63, "7", 7.0]) | json_values,
    "provider_name": st.text() | json_values,
    "country": st.sampled_from(["CA", "x" * 16, "x" * 17]) | json_values,
    "registration_status": st.sampled_from(["ACTIVE", "S" * 64, "S" * 65]) | json_values,
    "requested_on": timestamps | edge_datetimes | json_values,
}


@st.composite
def hostile_rows(draw: st.DrawFn) -> dict[str, Any]:
    """One row: each field present or absent, valid-looking, at an edge, or any JSON value."""
    item = {name: draw(strategy) for name, strategy in FIELDS.items() if draw(st.integers(0, 9))}
    if draw(st.booleans()):
        item[draw(st.text(max_size=5))] = draw(json_values)  # an unknown field
    return item


elements = hostile_rows() | json_values  # an element of the array need not even be an object


# ---- 1. one row can never stop the others ------------------------------------------------------


HUGE = "1" + "0" * 5000  # json.loads refuses ints over 4,300 digits (CVE-2020-10735 limit)


def with_literal(item: dict[str, Any], field: str, literal: str) -> str:
    """The JSON of `item` with `field` set to the JSON text `literal`, verbatim."""
    return json.dumps({**item, field: "@@"}).replace('"@@"', literal)


@pytest.mark.parametrize(
    ("field", "literal"),
    [
        ("requested_on", '"0001-01-01T00:00:00+01:00"'),  # before year 1 once in UTC
        ("requested_on", '"9999-12-31T23:59:59-01:00"'),  # after year 9999 once in UTC
        ("requested_on", '"0001-01-01T12:00:00Z"'),  # in range, but not in every display zone
        ("requested_on", '"9999-12-31T12:00:00Z"'),
        ("requested_on", '"2024-02-29T14:24:42+24:00"'),  # no such offset
        ("provider_id", str(2**63)),  # BIGINT
        ("provider_id", str(-(2**63))),
        ("provider_id", HUGE),
        ("provider_id", "-" + HUGE),
        ("provider_id", f'"{HUGE}"'),
        ("provider_id", "1e300"),
        ("provider_id", "Infinity"),
        ("provider_id", "NaN"),
        ("client_name", HUGE),
        ("country", '"' + "C" * 17 + '"'),  # String(16)
        ("registration_status", '"' + "S" * 65 + '"'),  # String(64)
        ("client_id", '"' + "c" * 129 + '"'),  # String(128)
    ],
    ids=lambda value: value[:30],
)
def test_a_value_the_product_cannot_represent_skips_only_its_row(
    field: str, literal: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.flinks")
    good = json.dumps(row(client_id="dc-good", provider_id=1))
    raw = f"[{good}, {with_literal(row(), field, literal)}]".encode()

    answer = parse_answer(raw)

    assert [r.key for r in answer.rows] == [("dc-good", 1)]
    assert answer.skipped == 1
    [message] = [r.getMessage() for r in caplog.records]
    assert message.startswith("flinks.row_skipped key=")
    assert f" field={field} " in message
    if field not in ("client_id", "provider_id"):
        assert f"key={CLIENT}/2000 " in message


@pytest.mark.parametrize(
    "text",
    ["0001-01-02T00:00:00Z", "0001-01-02T01:00:00+01:00", "9999-12-30T23:59:59.9999999Z"],
)
def test_the_earliest_and_latest_representable_dates_are_kept(text: str) -> None:
    [parsed] = parse_answer(body(row(requested_on=text))).rows

    assert parsed.requested_on.tzinfo is UTC
    for hours in (-23, 23):  # every display zone can show it
        parsed.requested_on.astimezone(timezone(timedelta(hours=hours, minutes=59 * hours // 23)))


def test_a_huge_number_in_an_unknown_field_does_not_matter() -> None:
    item = with_literal(row(), "extra", HUGE)
    raw = ("[" + item[:-1] + ', "nested": {"deep": [-' + HUGE + "]}}]").encode()

    answer = parse_answer(raw)

    assert answer.complete
    assert [r.key for r in answer.rows] == [(CLIENT, 2000)]


@pytest.mark.parametrize("where", ["client_name", "extra"])
def test_a_value_nested_beyond_the_parsers_depth_skips_only_its_row(
    where: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.flinks")
    deep = "[" * 100_000 + "]" * 100_000
    bad = json.dumps(row(**{where: "DEEP"})).replace('"DEEP"', deep)
    raw = ("[" + json.dumps(row(client_id="dc-good")) + ", " + bad + "]").encode()

    answer = parse_answer(raw)

    assert [r.key for r in answer.rows] == [("dc-good", 2000)]
    assert answer.skipped == 1
    assert "flinks.row_skipped key=? field=(row) reason=nested too deeply" in caplog.text


def test_unstorable_text_beside_a_deeply_nested_value_is_still_cleaned() -> None:
    """The NUL clean-up once walked every nested value and hit the recursion limit where the
    decoder had not: the depth of an unknown field is no business of the clean-up."""
    depth = 600
    deep = '{"a": ' * depth + '"\\u0000"' + "}" * depth
    item = with_literal(row(client_name="A\u0000B"), "extra", deep)
    raw = f"[{item}]".encode()

    [parsed] = parse_answer(raw).rows

    assert parsed.client_name == "A\ufffdB"


def test_a_deep_array_as_an_element_is_an_element_that_is_not_an_object(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="app.flinks")
    raw = b"[" + json.dumps(row()).encode() + b", " + b"[" * 100_000 + b"]" * 100_000 + b"]"

    answer = parse_answer(raw)

    assert (len(answer.rows), answer.skipped) == (1, 1)
    assert "key=? field=(row) reason=not an object (got array)" in caplog.text


@pytest.mark.parametrize(
    "raw",
    [
        b'[{"a": 1}, ' + b"[" * 100_000 + b"]" * 99_999,  # truncated
        b'[{"a": 1},, ' + b"[" * 100_000 + b"]" * 100_000 + b"]",
        b'[{"a": 1}] trailing' + b"[" * 100_000,
        b'{"rows": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
)
def test_a_deep_body_that_is_not_an_array_of_values_is_a_bad_answer(raw: bytes) -> None:
    with pytest.raises(FlinksBadAnswer, match="Flinks answer is"):
        parse_answer(raw)


@given(items=st.lists(elements, max_size=6), ascii_only=st.booleans())
@settings(max_examples=400, deadline=None)
def test_no_row_can_make_the_answer_fail(items: list[Any], ascii_only: bool) -> None:
    """Any array of any JSON values is an answer: rows kept or skipped, never an exception."""
    try:
        raw = json.dumps(items, ensure_ascii=ascii_only).encode()
    except UnicodeEncodeError:  # a lone surrogate: only an escape can carry it in UTF-8
        raw = json.dumps(items).encode()

    answer = parse_answer(raw)  # FlinksBadAnswer is for bodies that are not a JSON array

    assert len(answer.rows) + answer.skipped <= len(items)
    assert list(answer.rows) == sorted(answer.rows, key=lambda r: r.key)
    assert len({r.key for r in answer.rows}) == len(answer.rows)
    for parsed in answer.rows:
        assert_storable(parsed)


def assert_storable(parsed: Any) -> None:
    """What the columns of app/db/tables.py and both databases accept (stored for real in
    tests/integration/test_poll.py)."""
    for name in ("client_id", "client_name", "provider_name", "country", "registration_status"):
        value = getattr(parsed, name)
        assert type(value) is str
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogate
    assert len(parsed.client_id) <= 128
    assert parsed.client_id.strip()
    assert len(parsed.country) <= 16
    assert len(parsed.registration_status) <= 64
    assert parsed.registration_status.strip()
    assert type(parsed.provider_id) is int
    assert 0 <= parsed.provider_id < 2**63
    when = parsed.requested_on
    assert type(when) is datetime
    assert when.utcoffset() == timedelta(0)
    assert datetime.min.replace(tzinfo=UTC) + timedelta(days=1) <= when
    assert when <= datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


# ---- 2. conflicting duplicates -------------------------------------------------------------------


def test_identical_duplicates_are_one_row_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.flinks")
    same = row(registration_status="ACTIVE")
    # The same values written differently are the same row: ids, offsets, 7th digit.
    respelled = row(
        registration_status="ACTIVE",
        provider_id="2000",
        requested_on="2024-02-29T15:24:42.6055689+01:00",
        logo_uri="https://x",
    )

    answer = parse_answer(body(same, same, respelled))

    assert answer.complete
    assert [(r.key, r.registration_status) for r in answer.rows] == [((CLIENT, 2000), "ACTIVE")]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "flinks.duplicate_row" in caplog.text  # at debug


@pytest.mark.parametrize(
    "statuses", [("ACTIVE", "PENDING_APPROVAL"), ("PENDING_APPROVAL", "ACTIVE", "ACTIVE")]
)
def test_conflicting_duplicates_make_the_key_invalid_for_the_answer(
    statuses: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.flinks")
    other = row(client_id="dc-other")
    items = [row(registration_status=s) for s in statuses]

    answer = parse_answer(body(items[0], other, *items[1:]))

    assert [r.key for r in answer.rows] == [("dc-other", 2000)]
    assert answer.skipped == len(statuses)  # partial: nothing is removed on this answer
    assert not answer.complete
    [message] = [r.getMessage() for r in caplog.records]
    assert message.startswith(f"flinks.conflicting_rows key={CLIENT}/2000 rows={len(statuses)} ")
    assert "statuses=ACTIVE,PENDING_APPROVAL" in message


def test_duplicates_that_differ_only_in_details_conflict_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="app.flinks")

    answer = parse_answer(body(row(), row(requested_on="2024-03-01T00:00:00Z")))

    assert (answer.rows, answer.skipped) == ((), 2)
    assert "statuses=PENDING_APPROVAL fields=requested_on" in caplog.text


KEYS = [("dc-a", 1), ("dc-a", 2), ("dc-b", 1)]
duplicate_prone = st.builds(
    lambda key, status, day, name: row(
        client_id=key[0],
        provider_id=key[1],
        registration_status=status,
        requested_on=f"2024-02-{day:02d}T00:00:00Z",
        client_name=name,
    ),
    st.sampled_from(KEYS),
    st.sampled_from(["PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE"]),
    st.integers(1, 2),
    st.sampled_from(["A", "B"]),
)
answers_with_duplicates = st.lists(
    duplicate_prone | hostile_rows().map(lambda r: {**r, "client_id": "dc-a"}), max_size=7
)


@given(items=answers_with_duplicates, data=st.data())
@settings(max_examples=300, deadline=None)
def test_the_answer_does_not_depend_on_the_order_of_the_rows(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    first = parse_answer(body(*items))
    reordered = data.draw(st.permutations(items))

    assert parse_answer(body(*reordered)) == first
    assert parse_answer(body(*reversed(items))) == first


def test_every_order_of_conflicting_rows_gives_the_same_answer() -> None:
    items = [
        row(registration_status="ACTIVE"),
        row(registration_status="PENDING_ACTIVATION"),
        row(registration_status="ACTIVE", requested_on="2024-03-01T00:00:00Z"),
        row(client_id="dc-b", registration_status="ACTIVE"),
        row(client_id="dc-b", registration_status="ACTIVE"),
    ]
    results = {parse_answer(body(*order)) for order in itertools.permutations(items)}

    [only] = results
    assert [r.key for r in only.rows] == [("dc-b", 2000)]
    assert only.skipped == 3
