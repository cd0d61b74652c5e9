"""PURE: events and baseline summaries -> Slack Block Kit messages, email parts and console lines.

Upstream text is cleaned (control characters removed, long values capped) and then escaped for
the medium it lands in; our own template text is trusted. Slack output is split to fit its limits.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.domain import BaselineSummary, Direction, Event, EventKind, direction

NAME_LIMIT = 200
SLACK_TEXT_LIMIT = 3000  # per message `text`; Slack truncates at 40k, we stay far below
SLACK_SECTION_LIMIT = 3000
SLACK_HEADER_LIMIT = 150
SLACK_EVENTS_PER_MESSAGE = 40  # + 1 header block, well under the 50-block limit
SLACK_LINE_LIMIT = 1200  # one event's fallback line, so a few always fit in one message
SUBJECT_NAME_LIMIT = 60

Escape = Callable[[str], str]
# Bidirectional overrides can make a name display as something else: treat them as controls.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One chat.postMessage payload and which alerts it carries (for delivery bookkeeping)."""

    text: str
    blocks: list[dict[str, Any]]
    event_indexes: tuple[int, ...] = ()  # positions in the `events` given to slack_messages
    summary: bool = False  # carries the baseline summary


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
class _Parts:
    emoji: str  # Slack shortcode
    label: str  # the kind in words
    who: str  # provider and recipient, escaped
    what: str  # status codes and changes, escaped
    when: str  # requested date


def _parts(event: Event, esc: Callable[..., str]) -> _Parts:
    who = (
        f"{esc(event.provider_name)} (provider {esc(event.provider_id)}) for "
        f"{esc(event.client_name)} (client {esc(event.client_id)})"
    )
    old, new = esc(event.from_status or "?", 80), esc(event.to_status or "?", 80)
    emoji, label, what = _kind(event, old, new, esc)
    return _Parts(emoji, label, who, what, f"requested {event.requested_on:%Y-%m-%d}")


def _kind(event: Event, old: str, new: str, esc: Callable[..., str]) -> tuple[str, str, str]:
    kind = event.event
    if kind is EventKind.STATUS_CHANGED:
        moved = f"{old} -> {new}{_after(event)}"
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
        return ":x:", "removed", f"no longer listed, was {old}"
    if kind is EventKind.REAPPEARED:
        return ":leftwards_arrow_with_hook:", "reappeared", f"listed again, {old} -> {new}"
    if kind is EventKind.DETAILS_CHANGED:
        changes = "; ".join(
            f"{esc(name, 40)}: {esc(before)} -> {esc(after)}"
            for name, before, after in event.changes
        )
        return ":pencil2:", "details changed", f"{changes or 'details'} (status {new})"
    return ":eyes:", "baseline", f"status {new}"


def _after(event: Event) -> str:
    if event.previous_status_since is None:
        return ""
    return f" after {_duration(event.observed_at - event.previous_status_since)}"


def _duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size * (2 if unit == "day" else 1):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def _summary_line(summary: BaselineSummary, esc: Callable[..., str]) -> str:
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
def slack_messages(
    events: Sequence[Event], summary: BaselineSummary | None = None
) -> list[SlackMessage]:
    """The poll's alerts as Slack messages, in order, each within Slack's limits."""
    messages = [_slack_summary(summary)] if summary is not None else []
    chunks = _chunks([_slack_event(event) for event in events])
    for number, chunk in enumerate(chunks, start=1):
        title = _changes_title(len(events))
        if len(chunks) > 1:
            title += f" ({number}/{len(chunks)})"
        indexes = tuple(index for index, _, _ in chunk)
        text = "\n".join([title] + [line for _, line, _ in chunk])
        blocks = [_header(title)] + [block for _, _, block in chunk]
        messages.append(SlackMessage(text=text, blocks=blocks, event_indexes=indexes))
    return messages


def _changes_title(count: int) -> str:
    return f"flinkswatch: {count} registration change{'s' if count != 1 else ''}"


def _slack_event(event: Event) -> tuple[str, dict[str, Any]]:
    p = _parts(event, mrkdwn)
    line = _fit(f"{p.emoji} {p.label}: {p.who}: {p.what}", SLACK_LINE_LIMIT)
    body = _fit(f"{p.emoji} *{p.label}*: {p.who}\n{p.what} · {p.when}", SLACK_SECTION_LIMIT)
    return line, {"type": "section", "text": {"type": "mrkdwn", "text": body}}


def _chunks(
    rendered: list[tuple[str, dict[str, Any]]],
) -> list[list[tuple[int, str, dict[str, Any]]]]:
    """Greedy split in order: a new message when blocks or fallback text would overflow."""
    budget = SLACK_TEXT_LIMIT - 100  # room for the title line
    chunks: list[list[tuple[int, str, dict[str, Any]]]] = []
    current: list[tuple[int, str, dict[str, Any]]] = []
    used = 0
    for index, (line, block) in enumerate(rendered):
        if current and (len(current) >= SLACK_EVENTS_PER_MESSAGE or used + len(line) + 1 > budget):
            chunks.append(current)
            current, used = [], 0
        current.append((index, line, block))
        used += len(line) + 1
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
        text_lines += [f"- {_console_line(_parts(e, _plain))}" for e in events]
        rows = "".join(f"<li>{_html_line(_parts(e, _html))}</li>" for e in events)
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

    who = f"{short(event.provider_name)} for {short(event.client_name)}"
    new = short(event.to_status or "?")
    if event.event is EventKind.STATUS_CHANGED:
        return f"{who} {short(event.from_status or '?')} -> {new}"
    if event.event is EventKind.REMOVED:
        return f"{who} removed"
    return f"{who} {event.event.value.replace('_', ' ')} ({new})"


def _html_line(p: _Parts) -> str:
    return f"<b>{p.label}</b>: {p.who}: {p.what}; {p.when}"


# ---- console --------------------------------------------------------------------------------
def console_lines(events: Sequence[Event], summary: BaselineSummary | None = None) -> list[str]:
    """One readable line per alert, control characters removed."""
    lines = [_summary_line(summary, _plain)] if summary is not None else []
    return lines + [_console_line(_parts(event, _plain)) for event in events]


def _console_line(p: _Parts) -> str:
    return f"{p.label}: {p.who}: {p.what}; {p.when}"
