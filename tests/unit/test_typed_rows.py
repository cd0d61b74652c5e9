"""Issue 13: the typed path (msgspec decodes and types the common answer in one pass) gives
exactly the answer and the log lines of the exact path (json.loads, then pydantic row by row):
the same rows, the same skips with the same key, field and reason (SPEC 2)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import Answer
from app.flinks.body import load_array
from app.flinks.listing import _TYPED, _validate_row, parse_answer, validate_items
from tests.unit.test_poison_rows import hostile_rows


def row(client: str = "a", provider: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "client_id": client,
        "client_name": f"Client {client}",
        "provider_id": provider,
        "provider_name": f"Bank {provider}",
        "country": "CA",
        "registration_status": "ACTIVE",
        "requested_on": "2026-10-01T10:00:00.1234567Z",
        **fields,
    }


ODD = {
    "control char id (not blank for pydantic)": row("\x1c"),
    "ideographic space id": row("\u3000"),
    "blank id": row(" \t"),
    "empty id": row(""),
    "id of 128": row("x" * 128),
    "id of 129": row("x" * 129),
    "empty status": row("s", registration_status=""),
    "status of 65": row("s", registration_status="S" * 65),
    "country of 17": row("s", country="C" * 17),
    "negative provider": row("p", -1),
    "largest provider": row("p", 2**63 - 1),
    "provider over int64": row("p", 2**63),
    "provider of 30 digits": row("p", 10**30),
    "not a timestamp": row("t", requested_on="yesterday"),
    "before year 1 in UTC": row("t", requested_on="0001-01-01T00:00:00+01:00"),
    "an offset": row("t", requested_on="2026-10-01T10:00:00+05:30"),
    "no seconds, a space": row("t", requested_on="2026-10-01 10:00"),
    "a date only": row("t", requested_on="2026-10-01"),
    "unknown fields": row("u", extra={"deep": [1, 2, {"x": None}]}, more=1.5),
    "identical duplicate": row("b", 2),
    "conflicting duplicate": row("b", 2, registration_status="PENDING_APPROVAL"),
}


def exact(body: bytes) -> Answer:
    return validate_items(load_array(body), _validate_row)


def both(body: bytes, caplog: pytest.LogCaptureFixture) -> tuple[tuple[Answer, list[str]], ...]:
    results = []
    for parse in (parse_answer, exact):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="app.flinks"):
            answer = parse(body)
        results.append((answer, [r.getMessage() for r in caplog.records]))
    return tuple(results)


@pytest.mark.parametrize("odd", list(ODD.values()), ids=list(ODD))
def test_the_typed_path_gives_the_exact_answer_and_log_lines(
    odd: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps([row("a", 1), odd, row("b", 2)]).encode()
    assert len(_TYPED.decode(body)) == 3  # this answer does take the typed path
    typed, slow = both(body, caplog)
    assert typed == slow


def test_a_repeated_field_keeps_its_last_value_on_both_paths(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'[{"client_id":"a","client_id":"b","client_name":"","provider_id":1,'
    body += (
        b'"provider_name":"","country":"","registration_status":"X","requested_on":"2026-01-01"}]'
    )
    typed, slow = both(body, caplog)
    assert typed == slow


@pytest.mark.parametrize(
    "literal",
    ["2.0", '"2"', "true", "null", "1e3"],
    ids=["float id", "string id", "boolean id", "null id", "exponent id"],
)
def test_answers_the_typed_path_refuses_are_read_as_before(
    literal: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps([row("a", 1), row("c", 9)]).replace("9", literal, 1).encode()
    typed, slow = both(body, caplog)
    assert typed == slow


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_rows() | st.just(row()), max_size=6))
def test_any_hostile_answer_reads_the_same_on_both_paths(items: list[dict[str, Any]]) -> None:
    body = json.dumps(items).encode()
    assert parse_answer(body) == exact(body)
