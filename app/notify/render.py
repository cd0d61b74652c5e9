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
from app.domain import BaselineSummary, Event, EventKind, NoticeKind, RemovalsHeld, WatcherNotice
from app.notify.digest_render import console_digest, email_digest, slack_digest
from app.notify.notices import notice_lines, notice_title
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
        _changes_title(total, carried)
        if total > 1
        else f"flinkswatch: registration {_label(carried[0])}"
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


def _changes_title(count: int, events: Sequence[Event] = ()) -> str:
    if events and all(e.event is EventKind.STUCK for e in events):
        return f"flinkswatch: {count} registration{'s' if count != 1 else ''} stuck"
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


_NOTICE_EMOJI = {
    NoticeKind.WATCHER_BLIND: ":no_entry:",
    NoticeKind.WATCHER_RECOVERED: ":white_check_mark:",
    NoticeKind.CHANNEL_FAILING: ":warning:",
    NoticeKind.CHANNEL_RECOVERED: ":white_check_mark:",
}


def _slack_notice(notice: WatcherNotice) -> SlackMessage:
    title = notice_title(notice, _plain)
    lines = notice_lines(notice, mrkdwn)
    body = _fit(f"{_NOTICE_EMOJI[notice.kind]} " + "\n".join(lines), SLACK_SECTION_LIMIT)
    blocks = [_header(title), {"type": "section", "text": {"type": "mrkdwn", "text": body}}]
    text = _fit("\n".join([notice_title(notice, mrkdwn), *lines]), SLACK_TEXT_LIMIT)
    return SlackMessage(text=text, blocks=blocks, summary=True)


def _slack_summary(summary: BaselineSummary) -> SlackMessage:
    if isinstance(summary, Digest):
        return slack_digest(summary)
    if isinstance(summary, WatcherNotice):
        return _slack_notice(summary)
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
    elif summary is not None:
        text_lines.append(_summary_line(summary, _plain))
        html_items.append(f"<p>{_summary_line(summary, _html)}</p>")
    if events:
        text_lines.append(_changes_title(len(events), events) + ":")
        text_lines += [f"- {_console_line(_parts(e, _TEXT))}" for e in events]
        rows = "".join(f"<li>{_html_line(_parts(e, _HTML))}</li>" for e in events)
        title = html.escape(_changes_title(len(events), events))
        html_items.append(f"<p>{title}:</p><ul>{rows}</ul>")
    body = "\n".join(html_items)
    page = f'<!DOCTYPE html><html><body style="font-family:sans-serif">{body}</body></html>'
    return EmailParts(_subject(events, summary), "\n".join(text_lines) + "\n", page)


def _subject(events: Sequence[Event], summary: BaselineSummary | None) -> str:
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
    lines = [_summary_line(summary, _plain)] if summary is not None else []
    return lines + [_console_line(_parts(event, _TEXT)) for event in events]


def _console_line(p: _Parts) -> str:
    return f"{p.label}: {p.who}: {p.what}; {p.when}"
