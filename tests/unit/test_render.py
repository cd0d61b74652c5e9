"""Rendering events for Slack, email and the console: content, escaping, limits, splitting."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from app.domain import BaselineSummary, Event, EventKind
from app.notify.render import (
    SLACK_BLOCKS_TEXT_LIMIT,
    SLACK_TEXT_LIMIT,
    THREADED_MAX_REGISTRATIONS,
    SlackMessage,
    clean,
    console_lines,
    email_parts,
    slack_messages,
)
from tests import builders
from tests.builders import NOW

HOSTILE = "<!channel> & <https://evil.example|click>"


make_event = partial(
    builders.event, client_id="c-alpha", requested_on=datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
)


SUMMARY = BaselineSummary(
    poll_id=1, observed_at=NOW, total=5, by_status=(("ACTIVE", 3), ("PENDING_APPROVAL", 2))
)

# (case id, event, status codes the fallback must name, words that tell the kind apart)
CASES = [
    ("forward", make_event(), ["PENDING_APPROVAL", "PENDING_ACTIVATION"], ":large_green_circle:"),
    (
        "forward_active",
        make_event(from_status="PENDING_ACTIVATION", to_status="ACTIVE"),
        ["PENDING_ACTIVATION", "ACTIVE"],
        ":white_check_mark:",
    ),
    (
        "backward",
        make_event(from_status="ACTIVE", to_status="PENDING_APPROVAL"),
        ["ACTIVE", "PENDING_APPROVAL"],
        ":warning:",
    ),
    (
        "unrecognised",
        make_event(from_status="ACTIVE", to_status="SUSPENDED"),
        ["ACTIVE", "SUSPENDED"],
        ":question:",
    ),
    (
        "added",
        make_event(EventKind.ADDED, from_status=None, to_status="PENDING_APPROVAL"),
        ["PENDING_APPROVAL"],
        ":new:",
    ),
    (
        "removed",
        make_event(EventKind.REMOVED, from_status="PENDING_ACTIVATION", to_status=None),
        ["PENDING_ACTIVATION"],
        ":x:",
    ),
    (
        "reappeared",
        make_event(EventKind.REAPPEARED, from_status="PENDING_ACTIVATION", to_status="ACTIVE"),
        ["PENDING_ACTIVATION", "ACTIVE"],
        ":leftwards_arrow_with_hook:",
    ),
    (
        "details_changed",
        make_event(
            EventKind.DETAILS_CHANGED,
            from_status="ACTIVE",
            to_status="ACTIVE",
            changes=(("client_name", "Alpha Lendng", "Alpha Lending"),),
        ),
        ["ACTIVE", "Alpha Lendng ARROW Alpha Lending"],
        ":pencil2:",
    ),
]


def all_text(message: SlackMessage) -> str:
    return message.text + "\n" + json.dumps(message.blocks, ensure_ascii=False)


def section_texts(message: SlackMessage) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


@pytest.mark.parametrize(("case", "event", "codes", "marker"), CASES, ids=[c[0] for c in CASES])
def test_slack_fallback_names_provider_recipient_and_statuses(
    case: str, event: Event, codes: list[str], marker: str
) -> None:
    (message,) = slack_messages([event])
    for needle in ["NBC", "12", "Alpha Lending", "c-alpha", *codes]:
        needle = needle.replace("ARROW", "-&gt;")  # Slack shows `->`
        assert needle in message.text, needle
    assert marker in message.text
    assert marker in section_texts(message)[0]
    assert message.event_indexes == (0,)


@pytest.mark.parametrize(("case", "event", "codes", "marker"), CASES, ids=[c[0] for c in CASES])
def test_email_and_console_name_provider_recipient_and_statuses(
    case: str, event: Event, codes: list[str], marker: str
) -> None:
    parts = email_parts([event])
    (line,) = console_lines([event])
    for needle in ["NBC", "Alpha Lending", "c-alpha", *codes]:
        needle = needle.replace("ARROW", "->")
        assert needle in parts.text
        assert needle in line
        assert needle in parts.html
    assert "NBC for Alpha Lending" in parts.subject


def test_status_change_says_direction_and_how_long_it_sat() -> None:
    event = make_event(previous_status_since=NOW - timedelta(days=12, hours=3))
    (message,) = slack_messages([event])
    assert "PENDING_APPROVAL -&gt; PENDING_ACTIVATION after 12 days" in message.text
    assert "requested 2026-01-05" in section_texts(message)[0]
    assert "moved forward" in console_lines([event])[0]
    backward = make_event(from_status="ACTIVE", to_status="PENDING_ACTIVATION")
    assert "moved BACKWARD" in console_lines([backward])[0]
    odd = make_event(from_status="ACTIVE", to_status="SUSPENDED")
    assert "unrecognised status SUSPENDED" in slack_messages([odd])[0].text


def test_baseline_summary_is_one_message() -> None:
    (message,) = slack_messages([], SUMMARY)
    assert message.summary
    assert message.event_indexes == ()
    assert "Now watching 5 registrations: 3 ACTIVE, 2 PENDING_APPROVAL" in message.text
    assert "Now watching 5 registrations" in section_texts(message)[0]
    parts = email_parts([], SUMMARY)
    assert parts.subject == "flinkswatch: now watching 5 registrations"
    assert "3 ACTIVE, 2 PENDING_APPROVAL" in parts.text
    assert console_lines([], SUMMARY) == [
        "Now watching 5 registrations: 3 ACTIVE, 2 PENDING_APPROVAL"
    ]


def test_summary_and_events_together_keep_summary_first() -> None:
    messages = slack_messages([make_event()], SUMMARY)
    assert [m.summary for m in messages] == [True, False]
    assert messages[1].event_indexes == (0,)


def test_hostile_names_cannot_mention_or_link_in_slack() -> None:
    event = make_event(client_name=HOSTILE, provider_name=HOSTILE, client_id="<@U123>")
    for message in slack_messages([event], SUMMARY):
        rendered = all_text(message)
        assert "<!" not in rendered
        assert "<https://" not in rendered
        assert "<@" not in rendered
        assert "<" not in rendered  # our own templates never use `<` either
    (message,) = slack_messages([event])
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in message.text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in section_texts(message)[0]


def test_hostile_names_are_html_escaped_in_email() -> None:
    parts = email_parts([make_event(client_name=HOSTILE, provider_name=HOSTILE)])
    assert "<!channel>" not in parts.html
    assert "<https://" not in parts.html
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in parts.html
    assert HOSTILE in parts.text  # plain text shows it as it is: nothing parses it


def test_two_hundred_events_split_within_limits_in_order() -> None:
    events = [
        make_event(provider_id=i, provider_name=f"Bank {i:03d}", client_name="Lender " + "x" * 150)
        for i in range(200)
    ]
    messages = slack_messages(events)
    assert len(messages) > 1
    carried = [i for m in messages for i in m.event_indexes]
    assert carried == list(range(200))
    order_in_blocks = [
        int(w[:3]) for m in messages for s in section_texts(m) for w in s.split("Bank ")[1:]
    ]
    assert order_in_blocks == list(range(200))
    for message in messages:
        assert len(message.blocks) <= 50
        assert len(message.text) <= SLACK_TEXT_LIMIT
        assert all(len(text) <= 3000 for text in section_texts(message))
        assert sum(len(text) for text in section_texts(message)) <= SLACK_BLOCKS_TEXT_LIMIT
        headers = [b["text"] for b in message.blocks if b["type"] == "header"]
        assert all(h["type"] == "plain_text" and len(h["text"]) <= 150 for h in headers)
        assert len(section_texts(message)) == len(message.event_indexes)


def test_huge_escaped_values_still_fit() -> None:
    # 200 `&` escape to 1000 characters; four changed fields would overflow one section.
    change = ("client_name", "&" * 500, "<" * 500)
    event = make_event(EventKind.DETAILS_CHANGED, changes=(change,) * 4, client_name="&" * 500)
    (message,) = slack_messages([event])
    (section,) = section_texts(message)
    assert len(section) <= 3000
    assert len(message.text) <= 3000
    assert "<" not in section
    assert not section.rstrip("…").endswith("&am")


def test_non_ascii_names_survive() -> None:
    event = make_event(client_name="Caisse Desjardins — Québec", provider_name="株式会社")
    (message,) = slack_messages([event])
    parts = email_parts([event])
    for rendered in (
        message.text,
        section_texts(message)[0],
        parts.text,
        parts.html,
        parts.subject,
    ):
        assert "Caisse Desjardins — Québec" in rendered
        assert "株式会社" in rendered


def test_control_characters_are_stripped_everywhere() -> None:
    event = make_event(
        client_name="Alpha\r\nBcc: evil@example.com\x00\x1b[31m", provider_name="N\tB\u202eC"
    )
    (message,) = slack_messages([event])
    parts = email_parts([event, make_event()])
    line = console_lines([event])[0]
    for rendered in (all_text(message), parts.subject, parts.html, line):
        assert not any(ch in rendered for ch in "\r\x00\x1b\t\u202e")
    assert "\n" not in parts.subject
    assert "\r" not in parts.subject
    assert "Alpha Bcc: evil@example.com [31m" in line


def test_email_subject_names_count_and_first_registration() -> None:
    events = [make_event(), make_event(provider_name="RBC"), make_event(provider_name="TD")]
    parts = email_parts(events)
    assert parts.subject == (
        "flinkswatch: 3 registration changes — NBC for Alpha Lending "
        "PENDING_APPROVAL -> PENDING_ACTIVATION and 2 more"
    )
    assert [ln.startswith("- ") for ln in parts.text.splitlines()[1:]] == [True] * 3
    long_subject = email_parts([make_event(client_name="y" * 1000)]).subject
    assert len(long_subject) < 200


def test_long_names_are_capped() -> None:
    assert clean("z" * 500) == "z" * 200 + "…"
    (line,) = console_lines([make_event(client_name="z" * 500)])
    assert "z" * 200 + "…" in line
    assert "z" * 201 not in line


@pytest.mark.parametrize(
    ("client_name", "provider_name", "country", "who"),
    [
        ("", "NBC", "CA", "NBC for client c-alpha (provider 12, CA)"),
        (" \t\u202e", "NBC", "CA", "NBC for client c-alpha (provider 12, CA)"),  # blank once clean
        ("Alpha Lending", "", "CA", "provider 12 for Alpha Lending (client c-alpha, CA)"),
        ("Alpha Lending", "NBC", "", "NBC for Alpha Lending (client c-alpha, provider 12)"),
        ("", "", "", "provider 12 for client c-alpha"),
    ],
)
def test_empty_names_are_replaced_by_the_ids(
    client_name: str, provider_name: str, country: str, who: str
) -> None:
    event = replace(
        make_event(client_name=client_name, provider_name=provider_name), country=country
    )
    (line,) = console_lines([event])
    (message,) = slack_messages([event])
    parts = email_parts([event])
    assert line.startswith(f"moved forward: {who}: ")
    assert f": {who}: " in message.text
    assert f"- moved forward: {who}: " in parts.text
    assert parts.subject.startswith(f"flinkswatch: {who.split(' (')[0]} PENDING_APPROVAL")
    section = message.blocks[1]["text"]["text"]
    for rendered in (line, message.text, parts.text, parts.html, parts.subject, section):
        for gap in ("for  ", "  for", "()", ", )", "(, ", "**", "<b></b>", "· _", ", ,"):
            assert gap not in rendered, (gap, rendered)


def test_the_fallback_text_escapes_every_angle_bracket_and_ampersand() -> None:
    """Slack asks for &, < and > to be escaped in `text`: ours (`->`) as much as upstream's."""
    events = [
        make_event(),
        make_event(EventKind.REAPPEARED, provider_id=2, to_status="ACTIVE"),
        make_event(
            EventKind.DETAILS_CHANGED,
            provider_id=3,
            changes=(("client_name", "A & <B>", "C -> D"),),
        ),
    ]
    for message in slack_messages(events):
        unescaped = re.sub(r"&(amp|lt|gt);", "", message.text)
        assert not set("&<>") & set(unescaped), message.text
        assert "-&gt;" in message.text


def test_a_grouped_message_text_stays_within_4000_and_names_every_event() -> None:
    """Slack advises at most 4,000 characters of `text` (issue 15 item 7) and SPEC 6 wants the
    text to name every event it carries: messages end where the text would overflow, so even
    with names at their 200-character cap each message's text names all of its events."""
    assert SLACK_TEXT_LIMIT == 4000
    long_name = "Lender " + "x" * 190  # names are capped at 200 characters
    events = [
        make_event(provider_id=i, provider_name=f"Bank {i:03d}", client_name=long_name)
        for i in range(120)
    ]
    messages = slack_messages(events)
    assert [i for m in messages for i in m.event_indexes] == list(range(120))  # all, in order
    for message in messages:
        assert len(message.text) <= 4000
        for i in message.event_indexes:
            assert f"Bank {i:03d} for" in message.text
        assert "more in this message" not in message.text
        assert len(section_texts(message)) == len(message.event_indexes)


def test_a_text_that_fits_is_whole() -> None:
    events = [make_event(provider_id=i, provider_name=f"Bank {i:03d}") for i in range(10)]
    (message,) = slack_messages(events)
    assert "more in this message" not in message.text
    assert all(f"Bank {i:03d} for" in message.text for i in range(10))


def test_the_email_page_has_a_language_and_its_subject_as_title() -> None:
    hostile = make_event(client_name="<script>alert(1)</script> & Co")
    parts = email_parts([hostile])
    assert parts.html.startswith('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">')
    title = re.search(r"<title>(.*?)</title>", parts.html)
    assert title is not None
    assert title[1] == html.escape(parts.subject)
    assert "<script>" not in parts.html
    assert parts.html.endswith("</body></html>")


def test_stuck_reminders_of_a_few_registrations_reply_in_their_threads() -> None:
    """SPEC 9 with SLACK_THREADS: a small batch of reminders is one message per registration,
    each keyed to its thread (the rule alerts follow); a big batch is grouped in the channel."""
    few = [
        make_event(
            EventKind.STUCK,
            provider_id=i,
            from_status="PENDING_APPROVAL",
            to_status="PENDING_APPROVAL",
        )
        for i in range(2)
    ]
    threaded = slack_messages(few, threaded=True)
    assert [m.thread_key for m in threaded] == [few[0].key, few[1].key]
    many = [replace(few[0], provider_id=i) for i in range(THREADED_MAX_REGISTRATIONS + 1)]
    [grouped] = slack_messages(many, threaded=True)
    assert grouped.thread_key is None
    assert grouped.blocks[0]["text"]["text"] == f"flinkswatch: {len(many)} registrations stuck"
