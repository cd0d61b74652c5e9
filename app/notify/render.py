"""PURE: events and baseline summaries -> Slack Block Kit messages, email parts and console lines.

Upstream text is cleaned (control characters removed, long values capped) and then escaped for
the medium it lands in; our own template text is trusted. Slack output is split to fit its limits.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from typing import Any

from app.core.digest import Digest
from app.core.quiet import CatchUp
from app.domain import BaselineSummary, Event, EventKind, RemovalsHeld, WatcherNotice
from app.notify.digest_render import console_digest, email_digest, slack_digest
from app.notify.notices import notice_lines, notice_title, slack_notice
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
    _header,
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
    events: Sequence[Event],
    summary: BaselineSummary | None = None,
    *,
    threaded: bool = False,
    per_message: int = SLACK_EVENTS_PER_MESSAGE,  # fewer with buttons (app.notify.buttons)
) -> list[SlackMessage]:
    """The poll's alerts as Slack messages, in order, each within Slack's limits. `threaded`:
    one message per registration when the poll touches few of them (see docs/design.md)."""
    catch_up = summary if isinstance(summary, CatchUp) else None
    messages = [_slack_summary(summary)] if summary is not None and catch_up is None else []
    rendered = [(index, *_slack_event(event)) for index, event in enumerate(events)]
    keys = list(dict.fromkeys(event.key for event in events))
    groups = [rendered]
    if threaded and catch_up is None and len(keys) <= THREADED_MAX_REGISTRATIONS:
        groups = [[r for r in rendered if events[r[0]].key == key] for key in keys]
    for group in groups:
        chunks = _chunks(group, per_message)
        for number, chunk in enumerate(chunks, start=1):
            message = _slack_chunk(events, chunk, number, len(chunks), len(group), catch_up)
            messages.append(message)
    return messages


def _slack_chunk(
    events: Sequence[Event],
    chunk: list[_Rendered],
    number: int,
    of: int,
    total: int,
    catch_up: CatchUp | None = None,
) -> SlackMessage:
    carried = [events[index] for index, _, _ in chunk]
    title = (
        _changes_title(total, carried)
        if total > 1
        else f"flinkswatch: registration {_label(carried[0])}"
    )
    if catch_up is not None:
        title = catch_up_title(catch_up)
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
    """The `text` within Slack's advised 4,000 characters. _chunks sizes messages so that every
    line fits; should a title push it over, the rest is "… and N more", shown in the blocks."""
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


def catch_up_title(catch_up: CatchUp) -> str:
    noun = "alert" if catch_up.total == 1 else "alerts"
    return f"flinkswatch: {catch_up.total} {noun} held during quiet hours"


def _changes_title(count: int, events: Sequence[Event] = ()) -> str:
    if events and all(e.event is EventKind.STUCK for e in events):
        return f"flinkswatch: {count} registration{'s' if count != 1 else ''} stuck"
    return f"flinkswatch: {count} registration change{'s' if count != 1 else ''}"


def _slack_event(event: Event) -> tuple[str, dict[str, Any]]:
    # The fallback names what SPEC 6 asks of it (provider, recipient with ids, status codes),
    # not the dates and ages, so a burst stays few messages; the blocks carry the rest.
    t = _parts(event, _SLACK_TEXT)
    line = _fit(f"{t.emoji} {t.label}: {t.who}: {t.what}", SLACK_LINE_LIMIT)
    b = _parts(event, _SLACK_BLOCK)
    ids = f" · {b.ids}" if b.ids else ""
    body = f"{b.emoji} *{b.label}*: *{b.provider}* for *{b.client}*\n{b.what}\n_{b.when}{ids}_"
    block = {"type": "section", "text": {"type": "mrkdwn", "text": _fit(body, SLACK_SECTION_LIMIT)}}
    return line, block


def _chunks(rendered: list[_Rendered], per_message: int) -> list[list[_Rendered]]:
    """Greedy split in order: a new message when the fallback text, the blocks or the block
    text would overflow, so the text names every event it carries (SPEC 6). One event always
    fits: its line and section are capped well below the budgets."""
    budget = SLACK_TEXT_LIMIT - 300  # room for the title and tally lines
    blocks_budget = SLACK_BLOCKS_TEXT_LIMIT - 300
    chunks: list[list[_Rendered]] = []
    current: list[_Rendered] = []
    used = used_blocks = 0
    for item in rendered:
        line, size = item[1], len(item[2]["text"]["text"])
        full = len(current) >= per_message
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


def _slack_summary(summary: BaselineSummary) -> SlackMessage:
    if isinstance(summary, Digest):
        return slack_digest(summary)
    if isinstance(summary, WatcherNotice):
        return slack_notice(summary)
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
    if isinstance(summary, Digest):
        return email_digest(summary)
    text_lines: list[str] = []
    html_items: list[str] = []
    if isinstance(summary, WatcherNotice):
        text_lines += notice_lines(summary, _plain)
        html_items += [f"<p>{line}</p>" for line in notice_lines(summary, _html)]
    elif summary is not None and not isinstance(summary, CatchUp):
        text_lines.append(_summary_line(summary, _plain))
        html_items.append(f"<p>{_summary_line(summary, _html)}</p>")
    if events:
        title = _changes_title(len(events), events)
        if isinstance(summary, CatchUp):
            title = f"{catch_up_title(summary)}, in order"
        text_lines.append(title + ":")
        text_lines += [f"- {_console_line(_parts(e, _TEXT))}" for e in events]
        rows = "".join(f"<li>{_html_line(_parts(e, _HTML))}</li>" for e in events)
        html_items.append(f"<p>{html.escape(title)}:</p><ul>{rows}</ul>")
    body, subject = "\n".join(html_items), _subject(events, summary)
    head = f'<head><meta charset="utf-8"><title>{html.escape(subject)}</title></head>'
    page = f'<!DOCTYPE html><html lang="en">{head}<body style="font-family:sans-serif">{body}'
    return EmailParts(subject, "\n".join(text_lines) + "\n", page + "</body></html>")


def _subject(events: Sequence[Event], summary: BaselineSummary | None) -> str:
    if isinstance(summary, CatchUp) and events:
        return f"{catch_up_title(summary)} — {_brief(events[0])}" + (
            f" and {len(events) - 1} more" if len(events) > 1 else ""
        )
    if isinstance(summary, WatcherNotice):
        return notice_title(summary, _plain)
    if isinstance(summary, RemovalsHeld):
        return f"flinkswatch: {held_title(summary)}"
    if not events:
        total = summary.total if summary is not None else 0
        return f"flinkswatch: now watching {total} registration{'s' if total != 1 else ''}"
    first = _brief(events[0])
    if len(events) == 1:
        return f"flinkswatch: {first}"
    return f"{_changes_title(len(events), events)} — {first} and {len(events) - 1} more"


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
    if isinstance(summary, Digest):
        return console_digest(summary)
    if isinstance(summary, WatcherNotice):
        return [f"{notice_title(summary, _plain)}: {' '.join(notice_lines(summary, _plain))}"]
    if isinstance(summary, CatchUp):
        lines = [f"{catch_up_title(summary)}, in order:"]
    else:
        lines = [_summary_line(summary, _plain)] if summary is not None else []
    return lines + [_console_line(_parts(event, _TEXT)) for event in events]


def _console_line(p: _Parts) -> str:
    return f"{p.label}: {p.who}: {p.what}; {p.when}"
