"""The Apprise channels' Markdown says what the email's text says: with the escapes, emphasis and
mention breakers taken out, each line is the email's line. Hostile names stay inert, titles
carry no upstream text, and every event is carried exactly once within the size limit."""

from __future__ import annotations

import markdown
import pytest

from app.core.digest import Digest
from app.core.quiet import CatchUp
from app.domain import EventKind, RemovalsHeld
from app.notify.markdown_render import WORD_JOINER, markdown_messages, md
from app.notify.render import email_parts
from tests.builders import NOW
from tests.unit.test_golden import DIGEST_CONTENT, NOTICES, SUMMARY, event

HOSTILE = "[click](http://evil) # heading @everyone <@U1> *x* _y_ `z` | ~s~ &amp;"
EVENTS = [
    event(EventKind.ADDED, from_status=None, to_status="PENDING"),
    event(EventKind.STATUS_CHANGED),
    event(EventKind.STATUS_CHANGED, from_status="ACTIVE", to_status="PENDING"),
    event(EventKind.STATUS_CHANGED, to_status="WEIRD_NEW"),
    event(EventKind.REMOVED, to_status=None),
    event(EventKind.REAPPEARED),
    event(EventKind.STUCK),
    event(EventKind.DETAILS_CHANGED, changes=(("client_name", "Old *co*", "New [co]"),)),
    event(client_name=HOSTILE, provider_name=HOSTILE, client_id="dc-_*evil*_"),
]


def plain(text: str) -> str:
    """What a reader sees of our Markdown, as plain text."""
    out, escaped = [], False
    for ch in text.replace("**", "").replace(WORD_JOINER, "").replace("→", "->"):
        if ch == "\\" and not escaped:
            escaped = True
            continue
        out.append(ch)
        escaped = False
    return "".join(out)


def test_each_event_line_is_the_email_line() -> None:
    (message,) = markdown_messages(EVENTS, None)
    email = email_parts(EVENTS).text.splitlines()[1:]  # after "N registration changes:"
    assert [plain(line) for line in message.body.splitlines()] == email
    assert message.event_indexes == tuple(range(len(EVENTS)))


@pytest.mark.parametrize(
    "summary",
    [SUMMARY, *NOTICES.values(), RemovalsHeld(1, NOW, 10, (), present=10, listed=1)],
    ids=lambda s: getattr(s, "kind", type(s).__name__),
)
def test_a_summary_says_what_the_email_says(summary: object) -> None:
    (message,) = markdown_messages([], summary)  # type: ignore[arg-type]
    email = [line for line in email_parts([], summary).text.splitlines() if line]  # type: ignore[arg-type]
    assert [plain(line) for line in message.body.splitlines() if line] == email
    assert message.summary


def test_the_digest_and_a_catch_up_say_what_the_email_says() -> None:
    digest = Digest(0, NOW, 0, (), 1, DIGEST_CONTENT)
    (message,) = markdown_messages([], digest)
    email = [line for line in email_parts([], digest).text.splitlines() if line]
    assert [plain(line).rstrip() for line in message.body.splitlines() if line] == email
    catch_up = CatchUp(1, NOW, 2, (), until=NOW)
    (held,) = markdown_messages(EVENTS[:2], catch_up)
    assert held.title == "flinkswatch: 2 alerts held during quiet hours"
    assert plain(held.body).splitlines()[1:] == email_parts(EVENTS[:2]).text.splitlines()[1:]


def test_hostile_text_is_inert_and_titles_carry_no_upstream_text() -> None:
    (one,) = markdown_messages([EVENTS[-1]], None)
    html = markdown.markdown(one.body)
    for tag in ("<a ", "<h1", "<em>", "<strong>x", "<code>", "<del>"):
        assert tag not in html
    assert "@everyone" not in one.body
    assert "<@U1>" not in one.body
    assert HOSTILE in plain(one.body)
    assert one.title == "flinkswatch: registration moved forward"
    (weird,) = markdown_messages([EVENTS[3]], None)
    assert weird.title == "flinkswatch: registration status not recognised"
    assert md("a\nb\u202ec") == "a b c"
    assert [md(t) for t in ("- x", "12. y", "= z", "a-b.c")] == [
        "\\- x",
        "12\\. y",
        "\\= z",
        "a-b.c",
    ]


def test_a_large_poll_is_cut_within_the_limit_and_carries_each_event_once() -> None:
    events = [event(client_id=f"dc-{i}", client_name=HOSTILE * 3) for i in range(300)]
    messages = markdown_messages(events, None, limit=1900)
    assert all(len(m.body) <= 1900 for m in messages)
    assert sorted(i for m in messages for i in m.event_indexes) == list(range(300))
    assert messages[0].title.endswith(f"(1/{len(messages)})")
