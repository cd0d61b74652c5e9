"""docs/webhooks.md: its JSON Schema accepts every kind of message the webhook sends (and its
example), and rejects what breaks the contract; its receiver example is valid Python."""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from app.core.digest import Digest, DigestContent
from app.domain import BaselineSummary, EventKind, NoticeKind, RemovalsHeld, WatcherNotice
from app.notify.webhook_payload import encode, event_body, summary_body
from tests.builders import event

DOC = Path(__file__).parents[2] / "docs" / "webhooks.md"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(_blocks("json")[-1])
    jsonschema.Draft202012Validator.check_schema(found)
    return found


def _sent(body: dict[str, Any]) -> Any:
    return json.loads(encode(body))  # exactly what a receiver parses


EVENTS = [
    event(EventKind.ADDED, from_status=None, to_status="PENDING"),
    event(EventKind.STATUS_CHANGED, previous_status_since=T0 - timedelta(days=3)),
    event(EventKind.REMOVED, to_status=None),
    event(EventKind.REAPPEARED),
    event(EventKind.STUCK),
    event(EventKind.DETAILS_CHANGED, changes=(("client_name", "Old", "New"),)),
]
SUMMARIES = [
    BaselineSummary(1, T0, 3, (("ACTIVE", 2), ("PENDING", 1))),
    RemovalsHeld(2, T0, 10, (), present=10, listed=1),
    *(WatcherNotice(3, T0, 0, (), kind=kind, since=T0, channel="slack") for kind in NoticeKind),
    Digest(0, T0, 0, (), 7, DigestContent(T0 - timedelta(days=7), T0, "UTC", (("added", 2),))),
]


@pytest.mark.parametrize("item", EVENTS, ids=lambda e: e.event.value)
def test_every_event_kind_fits_the_schema(schema: dict[str, Any], item: Any) -> None:
    body = _sent(event_body(item))
    jsonschema.validate(body, schema)
    assert body["type"] == f"registration.{item.event.value}"


@pytest.mark.parametrize("item", SUMMARIES, ids=lambda s: type(s).__name__)
def test_every_watcher_message_fits_the_schema(schema: dict[str, Any], item: Any) -> None:
    body = _sent(summary_body(item))
    jsonschema.validate(body, schema)
    assert body["type"].startswith("watcher.")


def test_the_documented_example_fits_and_a_broken_message_does_not(
    schema: dict[str, Any],
) -> None:
    example = json.loads(_blocks("json")[0])
    jsonschema.validate(example, schema)
    broken = _sent(event_body(EVENTS[1]))
    del broken["data"]["to_status"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_the_receiver_example_is_python() -> None:
    (receiver,) = [block for block in _blocks("python") if "standardwebhooks" in block]
    tree = ast.parse(receiver)
    assert any(isinstance(node, ast.ClassDef) for node in tree.body)
