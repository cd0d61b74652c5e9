"""PURE: events and baseline summaries -> Slack Block Kit messages, email parts and console lines.

Upstream text is cleaned (control characters removed, long values capped) and then escaped for
the medium it lands in; our own template text is trusted. Slack output is split to fit its limits.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from typing import Any

from app.domain import BaselineSummary, Event, EventKind, RemovalsHeld
from app.notify.phrases import (
    _HTML,
    _SLACK_BLOCK,
    _SLACK_TEXT,
    _TEXT,
    SLACK_BLOCKS_TEXT_LIMIT,
    SLACK_EVENTS_PER_MESSAGE,
    SLACK_HEADER_LIMIT,
    SLACK_LINE_LIMIT,
    SLACK_SECTION_LIMIT,
    SLACK_TEXT_LIMIT,
    SUBJECT_NAME_LIMIT,
    THREADED_MAX_REGISTRATIONS,
    EmailParts,
    SlackMessage,
    _fit,
    _html,
    _kind,
    _names,
    _Parts,
    _parts,
    _plain,
    _summary_line,
    clean,
    held_title,
    mrkdwn,
)

__all__ = [
    "SLACK_BLOCKS_TEXT_LIMIT",
    "SLACK_EVENTS_PER_MESSAGE",
    "SLACK_HEADER_LIMIT",
    "SLACK_LINE_LIMIT",
    "SLACK_SECTION_LIMIT",
    "SLACK_TEXT_LIMIT",
    "SUBJECT_NAME_LIMIT",
    "THREADED_MAX_REGISTRATIONS",
    "EmailParts",
    "SlackMessage",
    "clean",
    "console_lines",
    "email_parts",
    "mrkdwn",
    "slack_messages",
]

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
    keys = {event.key for event in carried}
    return SlackMessage(
        text=_fallback(lines, [line for _, line, _ in chunk]),
        blocks=blocks,
        event_indexes=tuple(index for index, _, _ in chunk),
        thread_key=keys.pop() if len(keys) == 1 else None,
    )


def _fallback(head: list[str], lines: list[str]) -> str:
    """The `text` within Slack's advised 4,000 characters: each event line that fits, then
    "… and N more" for the rest, which the blocks of the same message show in full."""
    text = "\n".join(head)
    for shown, line in enumerate(lines):
        left = len(lines) - shown - 1
        room = SLACK_TEXT_LIMIT - (len(_more(left)) + 1 if left else 0)
        if len(text) + 1 + len(line) > room:
            return f"{text}\n{_more(len(lines) - shown)}"
        text += "\n" + line
    return text


def _more(count: int) -> str:
    return f"… and {count} more in this message"


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
    """Greedy split in order: a new message when blocks or block text would overflow (the
    fallback text is capped by _fallback). One event always fits: its section is capped well
    below the budget."""
    blocks_budget = SLACK_BLOCKS_TEXT_LIMIT - 300
    chunks: list[list[_Rendered]] = []
    current: list[_Rendered] = []
    used_blocks = 0
    for item in rendered:
        size = len(item[2]["text"]["text"])
        full = len(current) >= SLACK_EVENTS_PER_MESSAGE
        if current and (full or used_blocks + size > blocks_budget):
            chunks.append(current)
            current, used_blocks = [], 0
        current.append(item)
        used_blocks += size
    if current:
        chunks.append(current)
    return chunks


def _header(title: str) -> dict[str, Any]:
    text = title if len(title) <= SLACK_HEADER_LIMIT else title[: SLACK_HEADER_LIMIT - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _slack_summary(summary: BaselineSummary) -> SlackMessage:
    title, emoji = "flinkswatch: baseline recorded", ":eyes:"
    if isinstance(summary, RemovalsHeld):
        title, emoji = "flinkswatch: removals held", ":rotating_light:"
    line = _fit(f"{emoji} {_summary_line(summary, mrkdwn)}", SLACK_SECTION_LIMIT)
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
    body, subject = "\n".join(html_items), _subject(events, summary)
    head = f'<head><meta charset="utf-8"><title>{html.escape(subject)}</title></head>'
    page = f'<!DOCTYPE html><html lang="en">{head}<body style="font-family:sans-serif">{body}'
    return EmailParts(subject, "\n".join(text_lines) + "\n", page + "</body></html>")


def _subject(events: Sequence[Event], summary: BaselineSummary | None) -> str:
    if isinstance(summary, RemovalsHeld):
        return f"flinkswatch: {held_title(summary)}"
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
