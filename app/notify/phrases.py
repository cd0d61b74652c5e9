"""PURE: one event described independently of its medium, and the cleaning and escaping of
upstream text for each medium (Slack mrkdwn, HTML, plain text). app.notify.render lays it out."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.core.ages import duration_words, in_status_phrase
from app.core.text import BIDI_CONTROLS
from app.domain import (
    BaselineSummary,
    Direction,
    Event,
    EventKind,
    Key,
    RemovalsHeld,
    direction,
)

NAME_LIMIT = 200
SLACK_TEXT_LIMIT = 4000  # per message `text`: Slack advises at most 4,000 (truncates beyond)
# Slack answers msg_blocks_too_long at roughly 13k characters of block text in one message.
SLACK_BLOCKS_TEXT_LIMIT = 10000
SLACK_SECTION_LIMIT = 3000
SLACK_HEADER_LIMIT = 150
SLACK_EVENTS_PER_MESSAGE = 40  # + header and context blocks, well under the 50-block limit
SLACK_LINE_LIMIT = 600  # one event's fallback line, so several always fit in one message
SUBJECT_NAME_LIMIT = 60
# With threads, a poll touching at most this many registrations gets one message each (so each
# can reply in its own thread); a bigger poll is a burst and is grouped, never a flood.
THREADED_MAX_REGISTRATIONS = 5

Escape = Callable[..., str]
_BIDI = BIDI_CONTROLS  # an override can make a name display as something else


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One chat.postMessage payload and which alerts it carries (for delivery bookkeeping)."""

    text: str
    blocks: list[dict[str, Any]]
    event_indexes: tuple[int, ...] = ()  # positions in the `events` given to slack_messages
    summary: bool = False  # carries the baseline summary
    thread_key: Key | None = None  # the one registration it is about, when only one


@dataclass(frozen=True, slots=True)
class EmailParts:
    subject: str
    text: str
    html: str


def clean(value: object, limit: int = NAME_LIMIT) -> str:
    """Upstream text made safe to show: no control characters, one line, at most `limit` chars."""
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI else ch
        for ch in str(value)
    )
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def mrkdwn(value: object, limit: int = NAME_LIMIT) -> str:
    """Clean, then escape Slack's three control characters (`&` first) so no mention can form."""
    text = clean(value, limit)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(value: object, limit: int = NAME_LIMIT) -> str:
    return clean(value, limit)


def _html(value: object, limit: int = NAME_LIMIT) -> str:
    return html.escape(clean(value, limit))


# ---- one event, described independently of the medium ------------------------------------
@dataclass(frozen=True, slots=True)
class _Style:
    esc: Escape
    arrow: str
    code: Callable[[str], str]  # how a status code is set off


_TEXT = _Style(_plain, "->", str)
_SLACK_TEXT = _Style(mrkdwn, "-&gt;", str)  # the fallback: `>` escaped, as Slack asks
_SLACK_BLOCK = _Style(mrkdwn, "→", lambda s: f"`{s}`")
_HTML = _Style(_html, "->", lambda s: f"<code>{s}</code>")


@dataclass(frozen=True, slots=True)
class _Parts:
    emoji: str  # Slack shortcode
    label: str  # the kind in words
    provider: str  # escaped
    client: str  # escaped
    ids: str  # client id, provider id and country
    what: str  # status codes and changes, escaped
    when: str  # requested date and age

    @property
    def who(self) -> str:
        return f"{self.provider} for {self.client}" + (f" ({self.ids})" if self.ids else "")


def _names(event: Event, esc: Escape) -> tuple[str, str, str]:
    """Provider, client and the ids in brackets. A name that is empty (or blank once cleaned)
    is replaced by its id, which then leaves the brackets; an empty country is left out."""
    provider, client = esc(event.provider_name), esc(event.client_name)
    ids = []
    if client:
        ids.append(f"client {esc(event.client_id)}")
    else:
        client = f"client {esc(event.client_id)}"
    if provider:
        ids.append(f"provider {esc(event.provider_id)}")
    else:
        provider = f"provider {esc(event.provider_id)}"
    if country := esc(event.country):
        ids.append(country)
    return provider, client, ", ".join(ids)


def _parts(event: Event, style: _Style) -> _Parts:
    provider, client, ids = _names(event, style.esc)
    emoji, label, what = _kind(event, style)
    when = f"requested {event.requested_on:%Y-%m-%d}"
    age = event.observed_at - event.requested_on
    if age >= timedelta(minutes=1):
        when += f" ({_duration(age)} ago)"
    return _Parts(emoji, label, provider, client, ids, what, when)


def _kind(event: Event, style: _Style) -> tuple[str, str, str]:
    old = style.code(style.esc(event.from_status or "?", 80))
    new = style.code(style.esc(event.to_status or "?", 80))
    arrow, kind = style.arrow, event.event
    if kind is EventKind.STATUS_CHANGED:
        moved = f"{old} {arrow} {new}{_after(event, 'after')}"
        way = direction(event.from_status, event.to_status)
        if way is Direction.FORWARD:
            icon = ":white_check_mark:" if event.to_status == "ACTIVE" else ":large_green_circle:"
            return icon, "moved forward", moved
        if way is Direction.BACKWARD:
            return ":warning:", "moved BACKWARD", moved
        return ":question:", f"unrecognised status {new}", moved
    if kind is EventKind.STUCK:
        waits = _WAITING_FOR.get(event.to_status or "")
        # SPEC 11: a late one says why ("slower than 90% of NBC's activations (...)")
        late = next((new for name, _old, new in event.changes if name == "late"), "")
        return (
            ":hourglass:",
            "late" if late else "stuck",
            f"still {new}{_after(event, 'after')}"
            + (f" ({waits})" if waits else "")
            + (f"; {style.esc(late, 300)}" if late else ""),
        )
    if kind is EventKind.ACKNOWLEDGED:
        return ":raising_hand:", "acknowledged", _taken(event, style.esc) + f" (status {new})"
    if kind is EventKind.ADDED:
        return ":new:", "added", f"new registration, status {new}"
    if kind is EventKind.REMOVED:
        return ":x:", "removed", f"no longer listed, was {old}{_after(event, 'for')}"
    if kind is EventKind.REAPPEARED:
        return ":leftwards_arrow_with_hook:", "reappeared", f"listed again, {old} {arrow} {new}"
    if kind is EventKind.DETAILS_CHANGED:
        esc = style.esc
        changes = "; ".join(
            f"{esc(name, 40)}: {esc(before)} {arrow} {esc(after)}"
            for name, before, after in event.changes
        )
        return ":pencil2:", "details changed", f"{changes or 'details'} (status {new})"
    return ":eyes:", "baseline", f"status {new}"


def _taken(event: Event, esc: Escape) -> str:
    """Who took it, their note, and until when (an acknowledgement ending at once: lifted)."""
    who = esc(event.by or "someone", 80)
    if event.until is not None and event.until <= event.observed_at:
        return f"acknowledgement lifted by {who}"
    text = f"taken by {who}"
    if event.note:
        text += f": {esc(event.note, 200)}"
    until = f"{event.until:%Y-%m-%d %H:%M} UTC" if event.until else "it moves"
    return f"{text}, until {until}"


# Who a stuck registration waits for: what to chase (SPEC 1).
_WAITING_FOR = {
    "PENDING_APPROVAL": "waiting for Flinks",
    "PENDING_ACTIVATION": "waiting for the bank",
}


def _after(event: Event, word: str) -> str:
    """How long it sat in the previous status, from the event's own fields (never the clock):
    "at least" for a stay that began before the watcher looked (SPEC 11)."""
    since = event.previous_status_since
    if since is None:
        return ""
    phrase = in_status_phrase(since, event.previous_status_since_exact, event.observed_at)
    if phrase.startswith("since"):
        return f" (there {phrase})"
    return f" {word} {phrase}"


_duration = duration_words


HELD_ADVICE = "Check Flinks; if they are really gone, run `flinkswatch accept-removals`"


def _summary_line(summary: BaselineSummary, esc: Escape) -> str:
    if isinstance(summary, RemovalsHeld):
        lifted = "nothing is marked removed until the hold is lifted"
        return f"{held_title(summary)}: {lifted}. {HELD_ADVICE}"
    counts = ", ".join(f"{count} {esc(status, 80)}" for status, count in summary.by_status)
    noun = "registration" if summary.total == 1 else "registrations"
    return f"Now watching {summary.total} {noun}: {counts or 'none'}"


def held_title(held: RemovalsHeld) -> str:
    """SPEC 2: "Flinks listed 10 of 1,000 registrations; removals held"."""
    return f"Flinks listed {held.listed:,} of {held.present:,} registrations; removals held"


def _header(title: str) -> dict[str, Any]:
    text = title if len(title) <= SLACK_HEADER_LIMIT else title[: SLACK_HEADER_LIMIT - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _fit(text: str, limit: int) -> str:
    """Cap escaped text without cutting an `&...;` entity in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"
