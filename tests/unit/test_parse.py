"""parse_answer: the pure validation of a listing body, table-driven."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.flinks.listing import FlinksBadAnswer, parse_answer, parse_timestamp

CLIENT = "dc-xxxxxxxxxxxxxxxxxxxxxxxxx"


def row(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "client_id": CLIENT,
        "client_name": "Flinks Fake",
        "provider_id": 2000,
        "provider_name": "NBC",
        "country": "CA",
        "registration_status": "PENDING_APPROVAL",
        "requested_on": "2024-02-29T14:24:42.6055680Z",
    }
    base.update(overrides)
    return base


def body(*items: object) -> bytes:
    return json.dumps(list(items)).encode()


# The sample answer of the upstream page (GET /api/v1/recipients/providers/requests), verbatim.
DOCUMENTED_SAMPLE = b"""[
  {
    "client_id": "dc-xxxxxxxxxxxxxxxxxxxxxxxxx",
    "client_name": "Flinks Fake",
    "provider_id": 2000,
    "provider_name": "NBC",
    "country": "CA",
    "registration_status": "PENDING_APPROVAL",
    "requested_on": "2024-02-29T14:24:42.6055680Z"
  },
  {
    "client_id": "dc-xxxxxxxxxxxxxxxxxxxxxxxxx",
    "client_name": "Flinks Fake",
    "provider_id": 1000,
    "provider_name": "Flinks Capital",
    "country": "CA",
    "registration_status": "PENDING_APPROVAL",
    "requested_on": "2024-02-29T14:24:42.6009460Z"
  }
]"""


def test_the_documented_sample_parses_to_utc_datetimes() -> None:
    answer = parse_answer(DOCUMENTED_SAMPLE)

    assert answer.complete
    assert [(r.client_id, r.provider_id, r.provider_name) for r in answer.rows] == [
        (CLIENT, 1000, "Flinks Capital"),
        (CLIENT, 2000, "NBC"),
    ]
    assert answer.rows[1].requested_on == datetime(2024, 2, 29, 14, 24, 42, 605568, tzinfo=UTC)
    assert answer.rows[0].requested_on == datetime(2024, 2, 29, 14, 24, 42, 600946, tzinfo=UTC)
    assert all(r.registration_status == "PENDING_APPROVAL" for r in answer.rows)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29T14:24:42Z", datetime(2024, 2, 29, 14, 24, 42, tzinfo=UTC)),
        ("2024-02-29T14:24:42.6Z", datetime(2024, 2, 29, 14, 24, 42, 600000, tzinfo=UTC)),
        ("2024-02-29T14:24:42.60Z", datetime(2024, 2, 29, 14, 24, 42, 600000, tzinfo=UTC)),
        ("2024-02-29T14:24:42.605Z", datetime(2024, 2, 29, 14, 24, 42, 605000, tzinfo=UTC)),
        ("2024-02-29T14:24:42.6055Z", datetime(2024, 2, 29, 14, 24, 42, 605500, tzinfo=UTC)),
        ("2024-02-29T14:24:42.60556Z", datetime(2024, 2, 29, 14, 24, 42, 605560, tzinfo=UTC)),
        ("2024-02-29T14:24:42.605568Z", datetime(2024, 2, 29, 14, 24, 42, 605568, tzinfo=UTC)),
        ("2024-02-29T14:24:42.6055689Z", datetime(2024, 2, 29, 14, 24, 42, 605568, tzinfo=UTC)),
        ("2024-02-29t14:24:42z", datetime(2024, 2, 29, 14, 24, 42, tzinfo=UTC)),
        ("2024-02-29T14:24:42", datetime(2024, 2, 29, 14, 24, 42, tzinfo=UTC)),  # none: UTC
        ("2024-02-29T14:24", datetime(2024, 2, 29, 14, 24, tzinfo=UTC)),
        ("2024-02-29T09:24:42-05:00", datetime(2024, 2, 29, 14, 24, 42, tzinfo=UTC)),
        ("2024-02-29T20:24:42.1234567+06:00", datetime(2024, 2, 29, 14, 24, 42, 123456, UTC)),
        ("2024-02-29T19:54:42+0530", datetime(2024, 2, 29, 14, 24, 42, tzinfo=UTC)),
        ("2024-03-01T00:24:42+10", datetime(2024, 2, 29, 14, 24, 42, tzinfo=UTC)),
    ],
)
def test_timestamps_become_utc_aware(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)

    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)
    assert parse_answer(body(row(requested_on=text))).rows[0].requested_on == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-29",  # a date without a time
        "2024-02-29T14:24:42.60556801Z",  # 8 fractional digits
        "2024-02-30T14:24:42Z",  # no such day
        "29/02/2024 14:24",
        "2024-02-29T14:24:42 Z",
        "",
    ],
)
def test_malformed_timestamps_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601|day|range"):
        parse_timestamp(text)


def test_an_offset_keeps_the_instant() -> None:
    parsed = parse_timestamp("2024-02-29T14:24:42+02:00")

    assert parsed == datetime(2024, 2, 29, 14, 24, 42, tzinfo=timezone(timedelta(hours=2)))
    assert parsed.hour == 12


def test_empty_array_is_a_complete_empty_answer() -> None:
    answer = parse_answer(b"[]")

    assert answer.rows == ()
    assert answer.complete


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"rows": []}', "not a JSON array (got object)"),
        (b'"hello"', "not a JSON array (got string)"),
        (b"null", "not a JSON array (got null)"),
        (b"42", "not a JSON array (got number)"),
        (b"true", "not a JSON array (got boolean)"),
        (b"", "not valid JSON"),
        (b"<html>Bad gateway</html>", "not valid JSON"),
        (b'[{"client_id": "dc-a", "provider', "not valid JSON"),  # truncated
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'["\xe9t\xe9"]', "not UTF-8"),  # latin-1, not UTF-8
    ],
)
def test_a_body_that_is_not_a_json_array_fails_the_whole_answer(raw: bytes, message: str) -> None:
    with pytest.raises(FlinksBadAnswer, match="Flinks answer is") as caught:
        parse_answer(raw)

    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert len(text) < 200


def test_the_invalid_json_message_shows_only_a_short_snippet() -> None:
    raw = b"<html>" + b"x" * 10_000 + b"</html>"

    with pytest.raises(FlinksBadAnswer) as caught:
        parse_answer(raw)

    assert "<html>xxx" in str(caught.value)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("bad", "key", "field"),
    [
        (row(provider_id=True), f"{CLIENT}/?", "provider_id"),
        (row(provider_id=2000.5), f"{CLIENT}/?", "provider_id"),
        (row(provider_id="NBC"), f"{CLIENT}/?", "provider_id"),
        (row(provider_id=None), f"{CLIENT}/?", "provider_id"),
        (row(provider_id=-1), f"{CLIENT}/?", "provider_id"),
        (row(provider_id=2**63), f"{CLIENT}/?", "provider_id"),
        ({k: v for k, v in row().items() if k != "provider_id"}, f"{CLIENT}/?", "provider_id"),
        (row(client_id=""), "?/2000", "client_id"),
        (row(client_id="   "), "?/2000", "client_id"),
        (row(client_id=7), "?/2000", "client_id"),
        (row(client_id="x" * 129), None, "client_id"),
        ({k: v for k, v in row().items() if k != "client_name"}, f"{CLIENT}/2000", "client_name"),
        (row(client_name=None), f"{CLIENT}/2000", "client_name"),
        (row(provider_name=12), f"{CLIENT}/2000", "provider_name"),
        (row(country=["CA"]), f"{CLIENT}/2000", "country"),
        (row(registration_status=""), f"{CLIENT}/2000", "registration_status"),
        (row(registration_status=None), f"{CLIENT}/2000", "registration_status"),
        (row(requested_on="yesterday"), f"{CLIENT}/2000", "requested_on"),
        (row(requested_on=1709216682), f"{CLIENT}/2000", "requested_on"),
    ],
)
def test_an_invalid_row_is_skipped_and_logged_with_key_and_field(
    bad: dict[str, Any], key: str | None, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = row(client_id="dc-good", provider_id=1000)
    caplog.set_level(logging.WARNING, logger="app.flinks")

    answer = parse_answer(body(good, bad))

    assert [r.key for r in answer.rows] == [("dc-good", 1000)]
    assert answer.skipped == 1
    assert not answer.complete
    [message] = [r.getMessage() for r in caplog.records if "flinks.row_skipped" in r.getMessage()]
    assert f"field={field} " in message
    if key is not None:
        assert f"key={key} " in message
    assert "\n" not in message


def test_a_huge_or_multiline_client_id_is_logged_shortened_on_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="app.flinks")

    parse_answer(body(row(client_id="evil\nline" + "y" * 500, provider_id="x")))

    [message] = [r.getMessage() for r in caplog.records]
    assert "\n" not in message
    assert "key=evil\\nline" in message
    assert len(message) < 200


@pytest.mark.parametrize("element", ["a string", 42, None, [row()], True])
def test_an_element_that_is_not_an_object_is_skipped(
    element: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.flinks")

    answer = parse_answer(body(row(), element))

    assert len(answer.rows) == 1
    assert answer.skipped == 1
    assert "flinks.row_skipped key=? field=(row) reason=not an object" in caplog.text


@pytest.mark.parametrize(("value", "expected"), [(2000, 2000), (2000.0, 2000), ("2000", 2000)])
def test_provider_id_accepts_integers_integral_floats_and_digit_strings(
    value: object, expected: int
) -> None:
    [parsed] = parse_answer(body(row(provider_id=value))).rows

    assert parsed.provider_id == expected
    assert type(parsed.provider_id) is int


def test_different_duplicates_skip_their_key_in_either_order(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 14: the latest requested_on no longer wins (tests/unit/test_poison_rows.py)."""
    caplog.set_level(logging.WARNING, logger="app.flinks")
    older = row(registration_status="ACTIVE", requested_on="2024-01-01T00:00:00Z")
    newer = row(registration_status="PENDING_APPROVAL", requested_on="2024-02-01T00:00:00Z")

    for items in ((older, newer), (newer, older)):
        answer = parse_answer(body(*items))

        assert (answer.rows, answer.skipped) == ((), 2)  # partial: no removal concluded
    assert caplog.text.count(f"flinks.conflicting_rows key={CLIENT}/2000 rows=2 ") == 2


def test_unknown_fields_are_ignored() -> None:
    [parsed] = parse_answer(body(row(logo_uri="https://x", extra={"nested": [1]}))).rows

    assert parsed.provider_name == "NBC"


@pytest.mark.parametrize("status", ["SUSPENDED", "pending_approval", "Rejected by bank"])
def test_an_unrecognised_status_is_kept_verbatim(status: str) -> None:
    [parsed] = parse_answer(body(row(registration_status=status))).rows

    assert parsed.registration_status == status


def test_rows_are_sorted_by_key_whatever_the_upstream_order() -> None:
    items = [
        row(client_id="dc-b", provider_id=2000),
        row(client_id="dc-a", provider_id=3000),
        row(client_id="dc-a", provider_id=1000),
    ]

    answer = parse_answer(body(*items))

    assert [r.key for r in answer.rows] == [("dc-a", 1000), ("dc-a", 3000), ("dc-b", 2000)]


def test_empty_names_and_country_are_allowed() -> None:
    [parsed] = parse_answer(body(row(client_name="", provider_name="", country=""))).rows

    assert (parsed.client_name, parsed.provider_name, parsed.country) == ("", "", "")


def test_unstorable_characters_are_replaced_not_fatal() -> None:
    """A NUL or lone surrogate escaped in JSON fits no database column: it becomes U+FFFD."""
    body = (
        b'[{"client_id": "dc-a", "client_name": "A\\u0000B \\ud800 \\ud83d\\ude00", '
        b'"provider_id": 1, "provider_name": "NBC", "country": "CA", '
        b'"registration_status": "ACTIVE", "requested_on": "2024-02-29T14:24:42Z"}]'
    )
    (row,) = parse_answer(body).rows
    assert row.client_name == "A\ufffdB \ufffd \U0001f600"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2026 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2026 07:28:30 -0000", 30.0),  # a date with no zone claim: UTC
        ("soon", None),
        ("-3", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_header(header: str | None, expected: float | None) -> None:
    from datetime import UTC, datetime

    from app.core.retry_after import retry_after_seconds

    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_after_seconds(header, now) == expected
