"""Hostile upstream text (mentions, links, markup, control characters, very long names, odd
numbers, non-UTF-8 bytes) through parsing, the renderers, the store and the CLI output: nothing
crashes, no Slack control sequence or HTML tag forms, and stored values round-trip."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli.output import HISTORY_COLUMNS, render
from app.core.diff import diff
from app.core.routing import Filter, plan_deliveries
from app.db import engine as db
from app.db.store import Store
from app.domain import ALERTED_BY_DEFAULT, CycleRecord, Event, EventKind, Outcome, Registration
from app.flinks.listing import FlinksBadAnswer, parse_answer
from app.notify.render import console_lines, email_parts, slack_messages
from tests.builders import event_for, registration

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NASTY = [
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<@U024BE7LH>",
    "<!subteam^S123>",
    "<#C024BE7LR>",
    "<https://evil.example/login|Click to verify>",
    "<http://evil.example>",
    "&lt;!channel&gt;",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "*bold* _it_ ~st~ `code` ```block```",
    "\u202egnirts desrever",
    "line\nbreak\r\nand\ttab\x1b[31mred\x07bell\x7f",
    "Subject: injected\r\nBcc: victim@example.com",
    "=cmd|' /C calc'!A0",
    "x" * 5000,
    "é∑∂漢字🙂",
]
# Lone surrogates and NUL are left out here: they are the known gaps tested apart below.
_chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
hostile = st.one_of(
    st.sampled_from(NASTY),
    st.text(_chars, max_size=300),
    st.lists(st.sampled_from(NASTY) | st.text(_chars, max_size=20), max_size=6).map("".join),
)
ids = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["2000", "٣", "1e3", "", None, True, [1], {"a": 1}]),
)


@st.composite
def listing_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=4))
    return [
        {
            "client_id": draw(hostile | st.just(f"dc-{n}")),
            "client_name": draw(hostile),
            "provider_id": draw(ids | st.just(n + 1)),
            "provider_name": draw(hostile),
            "country": draw(hostile | st.just("CA")),
            "registration_status": draw(hostile | st.just("ACTIVE")),
            "requested_on": draw(st.just("2024-02-29T14:24:42.6055680Z") | hostile),
        }
        for n in range(count)
    ]


def events_for(row: Registration, other: str) -> list[Event]:
    status = row.registration_status
    return [
        event_for(EventKind.ADDED, row, NOW),
        event_for(
            EventKind.STATUS_CHANGED,
            row,
            NOW,
            from_status=other,
            previous_status_since=NOW - timedelta(days=3),
        ),
        event_for(EventKind.REMOVED, row, NOW, from_status=status, to_status=None),
        event_for(EventKind.REAPPEARED, row, NOW, from_status=other),
        event_for(
            EventKind.DETAILS_CHANGED,
            row,
            NOW,
            from_status=status,
            changes=(("client_name", other, row.client_name),),
        ),
    ]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        # Our templates style elements and set the page's language and charset; an event
        # handler or a link could only come from data.
        ours = {"html": [("lang", "en")], "meta": [("charset", "utf-8")]}
        if tag in ours:
            assert attrs == ours[tag], f"attribute on <{tag}>: {attrs}"
            return
        assert all(name == "style" for name, _ in attrs), f"attribute on <{tag}>: {attrs}"


# What the email template may use: formatting only, no links, images, scripts or frames.
_FORMATTING = {"html", "body", "p", "ul", "ol", "li", "b", "i", "em", "strong", "small", "code"}
_FORMATTING |= {"head", "meta", "title"}  # the page's head: charset and title (the subject)
_FORMATTING |= {"br", "span", "div", "table", "thead", "tbody", "tr", "td", "th", "h1", "h2", "h3"}


def _texts(node: object, kind: str) -> Iterator[str]:
    """Every `text` of a text object of type `kind` anywhere in a block tree."""
    if isinstance(node, dict):
        if node.get("type") == kind and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from _texts(value, kind)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item, kind)


def check_slack(events: list[Event]) -> None:
    messages = slack_messages(events)
    assert sorted(i for m in messages for i in m.event_indexes) == list(range(len(events)))
    for message in messages:
        for text in [message.text, *_texts(message.blocks, "mrkdwn")]:
            # With every `<` escaped no <!channel>, <@U..>, <#C..> or <http..|..> can form.
            assert "<" not in text
        assert len(message.text) <= 40_000
        assert len(message.blocks) <= 50
        for block in message.blocks:
            text = block.get("text", {}).get("text", "")
            assert len(text) <= (150 if block["type"] == "header" else 3000)


def check_email(events: list[Event]) -> None:
    parts = email_parts(events)
    assert "\n" not in parts.subject
    assert "\r" not in parts.subject
    parser = _Tags()
    parser.feed(parts.html)
    assert parser.tags <= _FORMATTING, parser.tags
    for event in events:
        for value in (event.client_name, event.provider_name, event.client_id, event.country):
            if re.search(r"<[A-Za-z!/]", value):
                assert value not in parts.html, "upstream markup left unescaped"


def check_console(events: list[Event]) -> None:
    for line in console_lines(events):
        assert not any(unicodedata.category(ch) == "Cc" for ch in line), repr(line)


@given(rows=listing_rows(), other=hostile, ascii_only=st.booleans())
@settings(max_examples=150, deadline=None)
def test_hostile_rows_are_parsed_rendered_and_printed_safely(
    rows: list[dict[str, Any]], other: str, ascii_only: bool
) -> None:
    body = json.dumps(rows, ensure_ascii=ascii_only).encode()
    answer = parse_answer(body)
    assert len(answer.rows) + answer.skipped <= len(rows)  # duplicate keys collapse
    events = [event for row in answer.rows for event in events_for(row, other)]
    check_slack(events)
    check_email(events)
    check_console(events)
    history = [
        {column: getattr(event, column, None) for column in HISTORY_COLUMNS} for event in events
    ]
    for row in history:
        row["event"] = str(row["event"])
    table = render(history, HISTORY_COLUMNS, "table")
    assert not any(unicodedata.category(ch) == "Cc" for ch in table.replace("\n", ""))
    decoded = json.loads(render(history, HISTORY_COLUMNS, "json"))
    assert [r["client_name"] for r in decoded] == [e.client_name for e in events]
    parsed = list(csv.DictReader(io.StringIO(render(history, HISTORY_COLUMNS, "csv"))))
    assert len(parsed) == len(events)  # no row split or merged by a hostile value
    cells = "".join(value or "" for row in parsed for value in row.values())
    assert not any(unicodedata.category(ch) == "Cc" for ch in cells)


@given(raw=st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_are_an_answer_or_one_bad_answer_error(raw: bytes) -> None:
    error = ""
    try:
        parse_answer(raw)
    except FlinksBadAnswer as exc:
        error = str(exc)
    assert "\n" not in error, "a readable one-line error, never a crash"


def test_non_utf8_answer_is_refused_in_one_line() -> None:
    latin1 = '[{"client_name": "Caf\xe9"}]'.encode("latin-1")
    with pytest.raises(FlinksBadAnswer, match="not UTF-8"):
        parse_answer(latin1)


# ---- the store: hostile values go in and come back unchanged ------------------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    yield Store(engine)
    engine.dispose()


def record(store: Store, rows: list[Registration]) -> dict[Any, Any]:
    answer = parse_answer(json.dumps([_raw(r) for r in rows]).encode())
    result = diff(store.load_state(), answer, NOW, baseline=False, removal_confirm_polls=2)
    plan = plan_deliveries(result.events, [("console", Filter())], ALERTED_BY_DEFAULT)
    record = CycleRecord(
        NOW,
        NOW,
        Outcome.OK,
        len(answer.rows),
        answer.skipped,
        result.changed,
        result.events,
        plan,
        None,
    )
    store.record_cycle(record)
    return store.load_state()


def _raw(row: Registration) -> dict[str, Any]:
    return {
        "client_id": row.client_id,
        "client_name": row.client_name,
        "provider_id": row.provider_id,
        "provider_name": row.provider_name,
        "country": row.country,
        "registration_status": row.registration_status,
        "requested_on": row.requested_on.isoformat(),
    }


@given(rows=listing_rows())
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_hostile_values_round_trip_through_the_store(
    store: Store, rows: list[dict[str, Any]]
) -> None:
    answer = parse_answer(json.dumps(rows).encode())
    state = record(store, list(answer.rows))
    for row in answer.rows:
        assert state[row.key].registration == row


def _row(name: str, client_id: str = "dc-known-gap") -> Registration:
    return registration(
        client_id, 42, "ACTIVE", client_name=name, provider_name="Bank", requested_on=NOW
    )


# JSON may carry a lone surrogate ("\ud800") or NUL ("\u0000") that no database can store;
# app.listing replaces them with U+FFFD, so one hostile row cannot fail every cycle.
def test_lone_surrogate_from_upstream_does_not_block_recording(store: Store) -> None:
    state = record(store, [_row("Evil \ud800 Corp", "dc-surrogate")])
    assert state[("dc-surrogate", 42)].registration.client_name == "Evil \ufffd Corp"


@pytest.mark.postgres
def test_nul_from_upstream_does_not_block_recording_on_postgres(pg_url: str) -> None:
    engine = db.make_engine(pg_url)
    try:
        db.migrate(engine)
        state = record(Store(engine), [_row("Evil \x00 Corp", "dc-nul")])
        assert state[("dc-nul", 42)].registration.client_name == "Evil \ufffd Corp"
    finally:
        engine.dispose()
