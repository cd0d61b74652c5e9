"""PURE: events and baseline summaries -> Slack Block Kit messages, email parts and console lines.

Upstream text is cleaned (control characters removed, long values capped) and then escaped for
the medium it lands in; our own template text is trusted. Slack output is split to fit its limits.
"""

from __future__ import annotations

import html
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.domain import BaselineSummary, Direction, Event, EventKind, Key, direction

NAME_LIMIT = 200
SLACK_TEXT_LIMIT = 8000  # per message `text`; Slack truncates at 40k, we stay far below
# Slack answers msg_blocks_too_long at roughly 13k characters of block text in one message.
SLACK_BLOCKS_TEXT_LIMIT = 10000
SLACK_SECTION_LIMIT = 3000
SLACK_HEADER_LIMIT = 150
SLACK_EVENTS_PER_MESSAGE = 40  # + header and context blocks, well under the 50-block limit
SLACK_LINE_LIMIT = 1200  # one event's fallback line, so a few always fit in one message
SUBJECT_NAME_LIMIT = 60
# With threads, a poll touching at most this many registrations gets one message each (so each
# can reply in its own thread); a bigger poll is a burst and is grouped, never a flood.
THREADED_MAX_REGISTRATIONS = 5

Escape = Callable[..., str]
# Bidirectional overrides can make a name display as something else: treat them as controls.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


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
_SLACK_TEXT = _Style(mrkdwn, "->", str)  # the fallback: notifications show it as is
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


def _after(event: Event, word: str) -> str:
    """How long it sat in the previous status, from the event's own fields (never the clock)."""
    if event.previous_status_since is None:
        return ""
    return f" {word} {_duration(event.observed_at - event.previous_status_since)}"


def _duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size * (2 if unit == "day" else 1):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def _summary_line(summary: BaselineSummary, esc: Escape) -> str:
    counts = ", ".join(f"{count} {esc(status, 80)}" for status, count in summary.by_status)
    noun = "registration" if summary.total == 1 else "registrations"
    return f"Now watching {summary.total} {noun}: {counts or 'none'}"


def _fit(text: str, limit: int) -> str:
    """Cap escaped text without cutting an `&...;` entity in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


# ---- Slack ----------------------------------------------------------------------------------
_Rendered = tuple[int, str, dict[str, Any]]  # event index, fallback line, section block


def slack_messages(
    events: Sequence[Event], summary: BaselineSummary | None = None, *, threaded: bool = False
) -> list[SlackMessage]:
    """The poll's alerts as Slack messages, in order, each within Slack's limits. `threaded`:
    one message per registration when the poll touches few of them (see docs/design.md)."""
    messages = [_slack_summary(summary)] if summary is not None else []
    rendered = [(index, *_slack_event(event)) for index, event in enumerate(events)]
    keys = list(dict.fromkeys(event.key for event in events))
    groups = [rendered]
    if threaded and len(keys) <= THREADED_MAX_REGISTRATIONS:
        groups = [[r for r in rendered if events[r[0]].key == key] for key in keys]
    for group in groups:
        chunks = _chunks(group)
        for number, chunk in enumerate(chunks, start=1):
            messages.append(_slack_chunk(events, chunk, number, len(chunks), len(group)))
    return messages


def _slack_chunk(
    events: Sequence[Event], chunk: list[_Rendered], number: int, of: int, total: int
) -> SlackMessage:
    carried = [events[index] for index, _, _ in chunk]
    title = (
        _changes_title(total) if total > 1 else f"flinkswatch: registration {_label(carried[0])}"
    )
    if of > 1:
        title += f" ({number}/{of})"
    blocks = [_header(title)]
    lines = [title]
    if len(chunk) > 1:
        counts = Counter(_label(event) for event in carried)
        tally = " · ".join(f"{n} {label}" for label, n in counts.items())
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": tally}]})
        lines.append(tally)
    blocks += [block for _, _, block in chunk]
    lines += [line for _, line, _ in chunk]
    keys = {event.key for event in carried}
    return SlackMessage(
        text="\n".join(lines),
        blocks=blocks,
        event_indexes=tuple(index for index, _, _ in chunk),
        thread_key=keys.pop() if len(keys) == 1 else None,
    )


def _label(event: Event) -> str:
    label = _kind(event, _TEXT)[1]
    return "unrecognised status" if label.startswith("unrecognised") else label


def _changes_title(count: int) -> str:
    return f"flinkswatch: {count} registration change{'s' if count != 1 else ''}"


def _slack_event(event: Event) -> tuple[str, dict[str, Any]]:
    t = _parts(event, _SLACK_TEXT)
    line = _fit(f"{t.emoji} {t.label}: {t.who}: {t.what}; {t.when}", SLACK_LINE_LIMIT)
    b = _parts(event, _SLACK_BLOCK)
    ids = f" · {b.ids}" if b.ids else ""
    body = f"{b.emoji} *{b.label}*: *{b.provider}* for *{b.client}*\n{b.what}\n_{b.when}{ids}_"
    block = {"type": "section", "text": {"type": "mrkdwn", "text": _fit(body, SLACK_SECTION_LIMIT)}}
    return line, block


def _chunks(rendered: list[_Rendered]) -> list[list[_Rendered]]:
    """Greedy split in order: a new message when blocks, block text or fallback text would
    overflow. One event always fits: its line and section are capped well below the budgets."""
    budget = SLACK_TEXT_LIMIT - 300  # room for the title and tally lines
    blocks_budget = SLACK_BLOCKS_TEXT_LIMIT - 300
    chunks: list[list[_Rendered]] = []
    current: list[_Rendered] = []
    used = used_blocks = 0
    for item in rendered:
        line, size = item[1], len(item[2]["text"]["text"])
        full = len(current) >= SLACK_EVENTS_PER_MESSAGE
        if current and (
            full or used + len(line) + 1 > budget or used_blocks + size > blocks_budget
        ):
            chunks.append(current)
            current, used, used_blocks = [], 0, 0
        current.append(item)
        used += len(line) + 1
        used_blocks += size
    if current:
        chunks.append(current)
    return chunks


def _header(title: str) -> dict[str, Any]:
    text = title if len(title) <= SLACK_HEADER_LIMIT else title[: SLACK_HEADER_LIMIT - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _slack_summary(summary: BaselineSummary) -> SlackMessage:
    title = "flinkswatch: baseline recorded"
    line = _fit(f":eyes: {_summary_line(summary, mrkdwn)}", SLACK_SECTION_LIMIT)
    blocks = [_header(title), {"type": "section", "text": {"type": "mrkdwn", "text": line}}]
    return SlackMessage(
        text=_fit(f"{title}\n{line}", SLACK_TEXT_LIMIT), blocks=blocks, summary=True
    )


# ---- email ----------------------------------------------------------------------------------
def email_parts(events: Sequence[Event], summary: BaselineSummary | None = None) -> EmailParts:
    """One email for one poll: subject naming the count and the first registration."""
    text_lines: list[str] = []
    html_items: list[str] = []
    if summary is not None:
        text_lines.append(_summary_line(summary, _plain))
        html_items.append(f"<p>{_summary_line(summary, _html)}</p>")
    if events:
        text_lines.append(_changes_title(len(events)) + ":")
        text_lines += [f"- {_console_line(_parts(e, _TEXT))}" for e in events]
        rows = "".join(f"<li>{_html_line(_parts(e, _HTML))}</li>" for e in events)
        html_items.append(f"<p>{html.escape(_changes_title(len(events)))}:</p><ul>{rows}</ul>")
    body = "\n".join(html_items)
    page = f'<!DOCTYPE html><html><body style="font-family:sans-serif">{body}</body></html>'
    return EmailParts(_subject(events, summary), "\n".join(text_lines) + "\n", page)


def _subject(events: Sequence[Event], summary: BaselineSummary | None) -> str:
    if not events:
        total = summary.total if summary is not None else 0
        return f"flinkswatch: now watching {total} registrations"
    first = _brief(events[0])
    if len(events) == 1:
        return f"flinkswatch: {first}"
    return f"{_changes_title(len(events))} — {first} and {len(events) - 1} more"


def _brief(event: Event) -> str:
    def short(value: object) -> str:
        return clean(value, SUBJECT_NAME_LIMIT)

    provider, client, _ = _names(event, short)
    who = f"{provider} for {client}"
    new = short(event.to_status or "?")
    if event.event is EventKind.STATUS_CHANGED:
        return f"{who} {short(event.from_status or '?')} -> {new}"
    if event.event is EventKind.REMOVED:
        return f"{who} removed"
    return f"{who} {event.event.value.replace('_', ' ')} ({new})"


def _html_line(p: _Parts) -> str:
    ids = f" ({p.ids})" if p.ids else ""
    return (
        f"<b>{p.label}</b>: <b>{p.provider}</b> for <b>{p.client}</b>{ids}<br>"
        f"{p.what}<br><small>{p.when}</small>"
    )


# ---- console --------------------------------------------------------------------------------
def console_lines(events: Sequence[Event], summary: BaselineSummary | None = None) -> list[str]:
    """One readable line per alert, control characters removed."""
    lines = [_summary_line(summary, _plain)] if summary is not None else []
    return lines + [_console_line(_parts(event, _TEXT)) for event in events]


def _console_line(p: _Parts) -> str:
    return f"{p.label}: {p.who}: {p.what}; {p.when}"
