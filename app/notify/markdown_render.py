"""PURE: events and summaries -> a title and a Markdown body, for the Apprise channels.

The body says what the email's text says. Upstream text is cleaned, then every character that
Markdown (CommonMark, and the dialects of Discord, Teams and Telegram) reads as syntax is
backslash-escaped, and `@` is followed by a word joiner, so a registration named
`[click](http://evil)`, `# heading` or `@everyone` arrives as those characters, inert. Our own
template text is trusted. Titles carry no upstream text (some services show them raw).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.digest import Digest
from app.core.quiet import CatchUp
from app.domain import BaselineSummary, Event, EventKind, RemovalsHeld, WatcherNotice
from app.notify.digest_render import headline, sections, title
from app.notify.notices import notice_lines, notice_title
from app.notify.phrases import NAME_LIMIT, _kind, _parts, _plain, _Style, _summary_line, clean
from app.notify.render import catch_up_title

MARKDOWN_LIMIT = 4000  # characters of one body, unless the service allows fewer
EVENTS_PER_MESSAGE = 40
# The characters that make syntax anywhere in a line, in CommonMark or a chat dialect: emphasis,
# code, links and images, headings, autolinks and HTML, tables, strikethrough, entities. Those
# that only count at the start of a line (`-`, `+`, `1.`, `=`) are escaped only there: fewer
# escapes read better where a service shows them.
_SYNTAX = re.compile(r"([\\`*_{}\[\]()#<>|~&])")
_LINE_START = re.compile(r"^(\d*)([-+=]|(?<=\d)[.)])")
WORD_JOINER = "\u2060"


@dataclass(frozen=True, slots=True)
class MarkdownMessage:
    """One message and which alerts it carries (for delivery bookkeeping)."""

    title: str
    body: str
    event_indexes: tuple[int, ...] = ()
    summary: bool = False


def md(value: object, limit: int = NAME_LIMIT) -> str:
    """Upstream text made inert in Markdown: cleaned, syntax escaped, no mention can form."""
    text = _SYNTAX.sub(r"\\\1", clean(value, limit))
    # Where it does land first on a line (a digest's "- <provider> for ..."), no list can open.
    text = _LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}", text)
    return text.replace("@", "@" + WORD_JOINER)


_MD = _Style(md, "→", lambda s: f"**{s}**")


def markdown_messages(
    events: Sequence[Event], summary: BaselineSummary | None, limit: int = MARKDOWN_LIMIT
) -> list[MarkdownMessage]:
    """One poll's alerts as messages, in order; each body within `limit` characters."""
    if isinstance(summary, Digest):
        return [_digest(summary, limit)]
    catch_up = summary if isinstance(summary, CatchUp) else None
    messages = [] if summary is None or catch_up else [_summary(summary, limit)]
    chunks = _chunks([_event_line(event) for event in events], limit)
    head = f"{catch_up_title(catch_up)}, in order:" if catch_up else ""
    for number, chunk in enumerate(chunks, start=1):
        indexes = tuple(index for index, _ in chunk)
        name = _title([events[i] for i in indexes], len(events))
        if catch_up is not None:
            name = catch_up_title(catch_up)
        if len(chunks) > 1:
            name += f" ({number}/{len(chunks)})"
        lines = ([head] if head else []) + [line for _, line in chunk]
        messages.append(MarkdownMessage(name, "\n".join(lines), indexes))
    return messages


def _event_line(event: Event) -> str:
    p = _parts(event, _MD)
    ids = f" ({p.ids})" if p.ids else ""
    return f"- **{p.label}**: {p.provider} for {p.client}{ids}: {p.what}; {p.when}"


def _title(carried: Sequence[Event], total: int) -> str:
    if total == 1:
        return f"flinkswatch: registration {_words(carried[0])}"
    return f"flinkswatch: {total} registration changes"


def _words(event: Event) -> str:
    """The kind in words, with no upstream text (an unrecognised status is not named)."""
    if event.event is EventKind.STATUS_CHANGED:
        label = _kind(event, _Style(_plain, "->", str))[1]
        return "status not recognised" if label.startswith("unrecognised") else label
    return event.event.value.replace("_", " ")


def _chunks(lines: list[str], limit: int) -> list[list[tuple[int, str]]]:
    chunks: list[list[tuple[int, str]]] = []
    size = limit  # forces a first chunk
    for index, line in enumerate(lines):
        line = line if len(line) <= limit // 2 else line[: limit // 2 - 1] + "…"
        if size + len(line) + 1 > limit - 200 or len(chunks[-1]) >= EVENTS_PER_MESSAGE:
            chunks.append([])
            size = 0
        chunks[-1].append((index, line))
        size += len(line) + 1
    return chunks


def _summary(summary: BaselineSummary, limit: int) -> MarkdownMessage:
    if isinstance(summary, WatcherNotice):
        body = "\n\n".join(notice_lines(summary, md))
        return MarkdownMessage(notice_title(summary, _plain), _cap(body, limit), summary=True)
    name = "flinkswatch: removals held" if isinstance(summary, RemovalsHeld) else ""
    name = name or "flinkswatch: baseline recorded"
    return MarkdownMessage(name, _cap(_summary_line(summary, md), limit), summary=True)


def _digest(digest: Digest, limit: int) -> MarkdownMessage:
    content = digest.content
    parts = [headline(content), ""]  # our words and numbers: the email's text, laid out
    for part in sections(content, md):
        lines = [f"- {x}" for x in part.lines] if part.bullets else [f"{x}  " for x in part.lines]
        parts += [f"**{part.heading}:**", *lines, ""]
    return MarkdownMessage(title(content), _cap("\n".join(parts).strip(), limit), summary=True)


def _cap(text: str, limit: int) -> str:
    """Cut at a line end, never inside an escape."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 2].rsplit("\n", 1)[0]
    return cut + "\n…"
