"""The removals-held alert (SPEC 2 mass-shrink guard) on every medium; baseline output unchanged."""

from __future__ import annotations

from app.domain import BaselineSummary, RemovalsHeld
from app.notify.render import console_lines, email_parts, slack_messages
from tests.builders import NOW

HELD = RemovalsHeld(7, NOW, 0, (), present=1000, listed=10)
SPEC_LINE = "Flinks listed 10 of 1,000 registrations; removals held"


def test_console_line_names_the_counts_and_what_to_do() -> None:
    [line] = console_lines([], HELD)
    assert line.startswith(SPEC_LINE)
    assert "flinkswatch accept-removals" in line


def test_slack_message_has_its_own_title() -> None:
    [message] = slack_messages([], HELD)
    assert message.summary
    assert message.blocks[0]["text"]["text"] == "flinkswatch: removals held"
    assert SPEC_LINE in message.blocks[1]["text"]["text"]
    assert "`flinkswatch accept-removals`" in message.text


def test_email_subject_and_body() -> None:
    parts = email_parts([], HELD)
    assert parts.subject == f"flinkswatch: {SPEC_LINE}"
    assert SPEC_LINE in parts.text
    assert SPEC_LINE in parts.html


def test_baseline_summary_is_rendered_as_before() -> None:
    summary = BaselineSummary(7, NOW, 2, (("ACTIVE", 2),))
    assert console_lines([], summary) == ["Now watching 2 registrations: 2 ACTIVE"]
    assert slack_messages([], summary)[0].blocks[0]["text"]["text"] == (
        "flinkswatch: baseline recorded"
    )
