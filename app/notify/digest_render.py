"""PURE: a digest (app.core.digest) in words, laid out as one Slack Block Kit message, one email
(plain text and HTML) and console lines. Dates people read are in the digest's ALERT_TIMEZONE;
upstream names are cleaned, capped and escaped for the medium."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.digest import Digest, DigestContent, Line
from app.notify.notices import cause
from app.notify.phrases import (
    SLACK_HEADER_LIMIT,
    SLACK_SECTION_LIMIT,
    EmailParts,
    SlackMessage,
    _duration,
    _fit,
    _html,
    _plain,
    mrkdwn,
)

Escape = Callable[..., str]
DIGEST_NAME_LIMIT = 50  # per upstream name in a digest line, so every list fits one message
DIGEST_LINE_LIMIT = 160
DIGEST_TEXT_LIMIT = 3900  # the Slack fallback `text` (Slack's advice: under 4,000)
_KIND_WORDS = {
    "baseline": "first seen (baseline)",
    "added": "added",
    "status_changed": "status changed",
    "removed": "removed",
    "reappeared": "reappeared",
    "details_changed": "details changed",
    "stuck": "stuck reminder{s}",
    "acknowledged": "acknowledgement{s}",
}


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    lines: tuple[str, ...]
    bullets: bool = True


def _zone(content: DigestContent) -> tzinfo:
    if content.zone.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(content.zone)
    except (ZoneInfoNotFoundError, ValueError):  # no time zone database here: still readable
        return UTC


def _day(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d")


def _minute(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def period(content: DigestContent) -> str:
    """`2026-11-23 09:00 to 2026-11-30 09:00 America/Toronto`."""
    zone = _zone(content)
    return f"{_minute(content.start, zone)} to {_minute(content.end, zone)} {content.zone}"


def title(content: DigestContent) -> str:
    zone = _zone(content)
    return f"flinkswatch digest: {_day(content.start, zone)} to {_day(content.end, zone)}"


def headline(content: DigestContent) -> str:
    if content.quiet:
        return (
            f"A quiet period: nothing moved from {period(content)}. No registration appeared,"
            " changed status or disappeared; the watcher's record below says it was looking."
        )
    counts = ", ".join(
        f"{n} " + _KIND_WORDS.get(kind, kind).format(s="s" if n != 1 else "")
        for kind, n in content.moves
    )
    return f"From {period(content)}: {counts}."


def _who(line: Line, esc: Escape) -> str:
    provider = esc(line.provider_name, DIGEST_NAME_LIMIT) or f"provider {line.provider_id}"
    client = esc(line.client_name, DIGEST_NAME_LIMIT) or f"client {esc(line.client_id, 60)}"
    return f"{provider} for {client}"


def _more(shown: int, total: int) -> tuple[str, ...]:
    return (f"and {total - shown} more",) if total > shown else ()


def sections(content: DigestContent, esc: Escape) -> list[Section]:
    """The digest's parts in order, each line escaped by `esc` where upstream text is."""
    zone = _zone(content)
    activated = tuple(
        _fit(
            f"{_who(x, esc)}: ACTIVE on {_day(x.at, zone)}, {_duration(x.age)} after the request",
            DIGEST_LINE_LIMIT,
        )
        for x in content.activated
    ) + _more(len(content.activated), content.activated_total)
    pending = tuple(
        _fit(
            f"{_who(x, esc)}: {esc(x.status, 40)}, waiting {_duration(x.age)}"
            f" (in it since {'' if x.exact else 'before '}{_day(x.at, zone)})",
            DIGEST_LINE_LIMIT,
        )
        for x in content.pending
    ) + _more(len(content.pending), content.pending_total)
    medians = tuple(
        _fit(
            f"{esc(m.provider_name, DIGEST_NAME_LIMIT) or f'provider {m.provider_id}'}:"
            f" {_duration(m.median)} ({m.count} activated, {m.censored} still waiting)",
            DIGEST_LINE_LIMIT,
        )
        for m in content.medians
    ) + _more(len(content.medians), content.medians_total)
    return [
        Section("Went ACTIVE", activated or ("none in this period",), bool(activated)),
        Section(
            f"Pending now ({content.pending_total}), longest first",
            pending or ("nothing pending",),
            bool(pending),
        ),
        Section(
            "Median time to ACTIVE per provider, last 90 days",
            medians or ("no activation observed in the last 90 days",),
            bool(medians),
        ),
        Section("The watcher", _watcher(content, zone), bullets=False),
    ]


def _watcher(content: DigestContent, zone: tzinfo) -> tuple[str, ...]:
    failed = content.failed_polls
    polls = f"{content.polls} poll{'s' if content.polls != 1 else ''}, {failed} failed."
    if not content.blind:
        return (f"{polls} Never blind in this period.",)
    lines = [f"{polls} Blind {len(content.blind)} time{'s' if len(content.blind) != 1 else ''}:"]
    for b in content.blind:
        ended = (
            f"for {_duration(b.recovered_at - b.since)}"
            if b.recovered_at is not None
            else "still blind"
        )
        lines.append(f"- since {_minute(b.since, zone)} ({cause(b.cause)[0]}), {ended}")
    return tuple(lines)


# ---- Slack -----------------------------------------------------------------------------------
def slack_digest(digest: Digest) -> SlackMessage:
    """One message: a header, the headline, one section per part (split where a part would pass
    a section's 3,000 characters), all far under 50 blocks; the fallback names the period."""
    content = digest.content
    head = title(content)
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _fit(head, SLACK_HEADER_LIMIT)}},
        _section(f":bar_chart: {headline(content)}"),
    ]
    text_lines = [head, headline(content)]
    for part in sections(content, mrkdwn):
        rows = [f"• {line}" if part.bullets else line for line in part.lines]
        chunk = f"*{part.heading}*"
        for row in rows:
            if len(chunk) + 1 + len(row) > SLACK_SECTION_LIMIT - 100:
                blocks.append(_section(chunk))
                chunk = ""
            chunk = f"{chunk}\n{row}" if chunk else row
        blocks.append(_section(chunk))
        text_lines += [f"{part.heading}:", *rows]
    text = _fit("\n".join(text_lines), DIGEST_TEXT_LIMIT)
    return SlackMessage(text=text, blocks=blocks, summary=True)


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _fit(text, SLACK_SECTION_LIMIT)}}


# ---- email and console -----------------------------------------------------------------------
def email_digest(digest: Digest) -> EmailParts:
    content = digest.content
    text = [headline(content), ""]
    page = [f"<h2>{html.escape(title(content))}</h2>", f"<p>{html.escape(headline(content))}</p>"]
    for part in sections(content, _plain):
        text += [f"{part.heading}:", *(f"- {x}" if part.bullets else x for x in part.lines), ""]
    for part in sections(content, _html):
        items = "".join(f"<li>{x}</li>" for x in part.lines)
        body = f"<ul>{items}</ul>" if part.bullets else "<br>".join(part.lines)
        page.append(f"<h3>{html.escape(part.heading)}</h3>{body}")
    head = f'<head><meta charset="utf-8"><title>{html.escape(title(content))}</title></head>'
    document = (
        f'<!DOCTYPE html><html lang="en">{head}<body style="font-family:sans-serif">'
        + "\n".join(page)
        + "</body></html>"
    )
    return EmailParts(title(content), "\n".join(text).rstrip("\n") + "\n", document)


def console_digest(digest: Digest) -> list[str]:
    content = digest.content
    lines = [f"{title(content)}: {headline(content)}"]
    for part in sections(content, _plain):
        lines.append(f"{part.heading}: " + "; ".join(part.lines))
    return lines
