"""The watcher's own alerts (SPEC 8) on every medium: each names its cause and what to check,
upstream text in them is escaped, and every failure kind has words."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.domain import NoticeKind, WatcherNotice
from app.notify.notices import CAUSES, cause, channel_label
from app.notify.render import console_lines, email_parts, slack_messages
from tests.builders import NOW

BLIND = WatcherNotice(
    1,
    NOW,
    0,
    (),
    kind=NoticeKind.WATCHER_BLIND,
    since=NOW - timedelta(hours=1),
    cause="flinks_unavailable",
    last_error="Flinks unavailable: GET /requests 503 <!channel> & co",
    failures=3,
)


@pytest.mark.parametrize(
    ("kind", "words", "advice"),
    [
        ("flinks_auth", "credentials rejected", "rotate FLINKS_CLIENT_SECRET"),
        ("flinks_unavailable", "Flinks unreachable", "FLINKS_BASE_URL"),
        ("flinks_bad_answer", "answers unreadable", "JSON array"),
        ("database", "database unavailable", "DATABASE_URL"),
        ("something_new", "an unexpected error", "log"),
    ],
)
def test_each_cause_in_plain_words_with_what_to_check(kind: str, words: str, advice: str) -> None:
    notice = replace(BLIND, cause=kind)
    [line] = console_lines([], notice)
    assert line.startswith(f"flinkswatch is blind: {words}:")
    assert advice in line
    assert cause(kind)[0] == words


def test_every_failure_kind_of_the_flinks_client_has_words() -> None:
    from app.flinks import errors

    kinds = {
        cls.kind
        for cls in vars(errors).values()
        if isinstance(cls, type)
        and issubclass(cls, errors.FlinksError)
        and cls is not errors.FlinksError
    }
    assert kinds <= set(CAUSES)


def test_upstream_text_in_the_error_is_escaped_for_slack_and_html() -> None:
    [message] = slack_messages([], BLIND)
    assert "<!channel>" not in message.text
    assert "&lt;!channel&gt; &amp; co" in message.blocks[1]["text"]["text"]
    parts = email_parts([], BLIND)
    assert "&lt;!channel&gt; &amp; co" in parts.html
    assert "<!channel> & co" in parts.text  # plain text needs no escaping


def test_a_reminder_says_still_blind() -> None:
    reminder = replace(BLIND, repeat=True)
    assert email_parts([], reminder).subject == "flinkswatch is still blind: Flinks unreachable"


def test_recovered_says_how_long_and_how_many_changes() -> None:
    back = replace(
        BLIND, kind=NoticeKind.WATCHER_RECOVERED, observed_at=NOW + timedelta(days=2), count=1
    )
    [line] = console_lines([], back)
    assert "after 2 days blind" in line
    assert "found 1 change;" in line


@pytest.mark.parametrize(
    ("name", "label"), [("slack", "Slack"), ("email", "email"), ("slack:#nbc", "Slack (#nbc)")]
)
def test_channel_labels(name: str, label: str) -> None:
    assert channel_label(name) == label
