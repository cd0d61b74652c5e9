"""PURE: the Slack board (SPEC 10, 11) rendered from plain values: counts by status, what is
stuck (longest first) and what is late besides (longest waiting first), each with its expected
date or "late", the busiest providers' Kaplan-Meier time to ACTIVE, the last change and the last
successful poll, in ALERT_TIMEZONE.

Upstream text is escaped (phrases.mrkdwn) and capped, each list stops at STUCK_SHOWN lines (the
figures at FIGURES_SHOWN) and a list longer than a section's 3,000 characters goes on in the
next, so the message stays far inside Slack's limits (50 blocks). The digest covers everything
but the last poll's time: a quiet cycle changes nothing to edit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from app.core.ages import duration_words
from app.core.expect import Outlook, expect
from app.core.report import ProviderStats, Stuck
from app.domain import ACTIVE, Event, EventKind, Key, StoredRegistration
from app.notify.phrases import mrkdwn

STUCK_SHOWN = 15  # lines of the stuck list, and of the late one
FIGURES_SHOWN = 10  # providers whose time to ACTIVE is shown, busiest first
STATUSES_SHOWN = 25  # undocumented statuses could be many: the section stays < 3,000
SECTION_LIMIT = 3000  # Slack's limit of a section's text
TITLE = "Flinks registrations board"


@dataclass(frozen=True, slots=True)
class BoardRef:
    """The board message of one destination: where it is, and what it shows now."""

    slack_channel: str  # the channel ID Slack answered with
    ts: str
    digest: str
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BoardFacts:
    counts: tuple[tuple[str, int], ...]  # present registrations by status
    stuck: tuple[Stuck, ...]  # longest first (app.core.report.stuck_now)
    last_change: Event | None
    last_poll: datetime | None  # when the latest successful poll finished
    taken: tuple[tuple[Key, str], ...] = ()  # who acknowledged which stuck one (SPEC 12)
    late: tuple[StoredRegistration, ...] = ()  # late and not stuck, longest waiting first
    now: datetime | None = None  # when read: what waiting and expectations are measured at
    # The providers' Kaplan-Meier figures (app.core.report) and expectations (app.core.expect),
    # folded once per new event by app.watch.boardwatch, not once per board.
    providers: tuple[ProviderStats, ...] = ()
    outlooks: Mapping[int, Outlook] = field(default_factory=dict)
    # How many are stuck (late) in all, when `stuck` (`late`) holds only the first ones
    stuck_total: int | None = None
    late_total: int | None = None

    @property
    def stuck_count(self) -> int:
        return len(self.stuck) if self.stuck_total is None else self.stuck_total

    @property
    def late_count(self) -> int:
        return len(self.late) if self.late_total is None else self.late_total


@dataclass(frozen=True, slots=True)
class Board:
    text: str  # the fallback (notifications, screen readers)
    blocks: list[dict[str, Any]]
    digest: str  # SHA-256 of the content, the last poll's time left out


def render_board(facts: BoardFacts, zone: tzinfo) -> Board:
    present = sum(n for _status, n in facts.counts)
    text = f"{TITLE}: {present} registrations, {facts.stuck_count} stuck"
    text += f", {facts.late_count} more late" if facts.late else ""
    taken = dict(facts.taken)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": TITLE}},
        _section(_counts(facts.counts, present)),
        *_sections(_stuck(facts, taken, zone)),
        *(_sections(_late(facts, taken)) if facts.late else []),
        *(_sections(_figures(facts)) if facts.providers else []),
        _section(_change(facts.last_change, zone)),
    ]
    digest = hashlib.sha256(json.dumps([text, blocks], sort_keys=True).encode()).hexdigest()
    poll = _when(facts.last_poll, zone) if facts.last_poll else "none yet"
    context = {"type": "mrkdwn", "text": f"Last successful poll: {poll}"}
    blocks.append({"type": "context", "elements": [context]})
    return Board(text.replace("&", "&amp;"), blocks, digest)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _counts(counts: tuple[tuple[str, int], ...], present: int) -> str:
    if not counts:
        return "*By status*: no registration yet"
    ordered = sorted(counts, key=lambda item: (-item[1], item[0]))
    lines = [f"• {mrkdwn(status, 60)}: {n}" for status, n in ordered[:STATUSES_SHOWN]]
    if len(ordered) > STATUSES_SHOWN:
        lines.append(f"… and {len(ordered) - STATUSES_SHOWN} more statuses")
    return "\n".join([f"*By status* ({present} registrations)", *lines])


def _sections(lines: Sequence[str]) -> list[dict[str, Any]]:
    """Lines (a heading first) in as few sections as Slack's 3,000 characters allow."""
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + 1 + len(line) <= SECTION_LIMIT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:SECTION_LIMIT])
    return [_section(chunk) for chunk in chunks]


def _stuck(facts: BoardFacts, taken: dict[Key, str], zone: tzinfo) -> list[str]:
    stuck, total = facts.stuck, facts.stuck_count
    if not stuck:
        return ["*Stuck*: none"]
    lines = [f"*Stuck* ({total}, longest first)"]
    for item in stuck[:STUCK_SHOWN]:
        reg = item.state.registration
        lines.append(
            f"• {_who(reg.provider_name, reg.client_name)}:"
            f" {mrkdwn(reg.registration_status, 40)} for {_stay(item)}"
            f" (allowed {_days(item.allowed.days)})"
            + _expected(facts, item.state, zone)
            + _taken(taken, item.state.key)
        )
    if total > STUCK_SHOWN:
        lines.append(f"… and {total - STUCK_SHOWN} more")
    return lines


def _late(facts: BoardFacts, taken: dict[Key, str]) -> list[str]:
    """Late (SPEC 11) and not stuck: waiting past the LATE_AFTER percentile of its provider's
    time to ACTIVE, which the line gives."""
    late, total = facts.late, facts.late_count
    lines = [f"*Late, not stuck* ({total}, longest waiting first)"]
    for state in late[:STUCK_SHOWN]:
        reg = state.registration
        outlook = facts.outlooks.get(reg.provider_id)
        limit = outlook.late_seconds if outlook is not None else None
        waited = ""
        if facts.now is not None:
            waited = f", waiting {_days(max(timedelta(0), facts.now - reg.requested_on).days)}"
        lines.append(
            f"• {_who(reg.provider_name, reg.client_name)}:"
            f" {mrkdwn(reg.registration_status, 40)}{waited}"
            + (f" (late after {duration_words(timedelta(seconds=limit))})" if limit else "")
            + _taken(taken, state.key)
        )
    if total > STUCK_SHOWN:
        lines.append(f"… and {total - STUCK_SHOWN} more")
    return lines


def _expected(facts: BoardFacts, state: StoredRegistration, zone: tzinfo) -> str:
    """ " · expected by 2026-12-08", " · late", " · not enough history" (SPEC 11), or nothing
    where the providers' figures are not known."""
    reg = state.registration
    outlook = facts.outlooks.get(reg.provider_id)
    if facts.now is None or outlook is None or reg.registration_status == ACTIVE:
        return ""
    seen = expect(outlook, reg.requested_on, reg.registration_status, facts.now)
    if not seen.enough:
        return " · not enough history"
    if seen.late:
        return " · late"
    if seen.expected_active_by is None:
        return ""
    return f" · expected by {seen.expected_active_by.astimezone(zone):%Y-%m-%d}"


def _figures(facts: BoardFacts) -> list[str]:
    """The busiest providers' time to ACTIVE: the Kaplan-Meier estimate from the request,
    counting those still waiting, as `report`, the digest and /providers give it."""
    shown = sorted(
        (p for p in facts.providers if p.registrations),
        key=lambda p: (-p.registrations, p.provider_name.casefold(), p.provider_id),
    )
    if not shown:
        return []
    heading = "*Time to ACTIVE per provider*, from the request, counting those still waiting"
    if len(shown) > FIGURES_SHOWN:
        heading += f" (the {FIGURES_SHOWN} busiest of {len(shown)})"
    lines = [heading]
    for p in shown[:FIGURES_SHOWN]:
        name = mrkdwn(p.provider_name, 50) or f"provider {p.provider_id}"
        note = _history_note(facts.outlooks.get(p.provider_id))
        lines.append(f"• {name}: {figure_words(p)}{note}")
    if len(shown) > FIGURES_SHOWN:
        lines.append(f"… and {len(shown) - FIGURES_SHOWN} more: `flinkswatch report` has them all")
    return lines


def figure_words(p: ProviderStats) -> str:
    """ "median 12 days, p90 20 days, 40 observed, 5 still waiting" (p90 where the curve
    reaches it; "fewer than half ACTIVE so far" where it never falls to a half)."""
    s = p.to_active
    if s.median is None:
        said = "fewer than half ACTIVE so far"
    else:
        said = f"median {duration_words(s.median)}"
        said += f", p90 {duration_words(s.p90)}" if s.p90 is not None else ""
    return f"{said}, {s.count} observed, {s.censored} still waiting"


def _history_note(outlook: Outlook | None) -> str:
    return " (not enough history for expected dates)" if outlook and not outlook.enough else ""


def _who(provider: str, client: str) -> str:
    return f"{mrkdwn(provider, 50)} for {mrkdwn(client, 50)}"


def _taken(taken: dict[Key, str], key: Key) -> str:
    return f", taken by {mrkdwn(taken[key], 60)}" if key in taken else ""


def _stay(item: Stuck) -> str:
    """Exact: "21 days"; begun before the watcher looked: "at least 2 days, waiting 30 days"
    (the sum rule measured the waiting, SPEC 11)."""
    if item.state.status_since_exact:
        return _days(item.in_status.days)
    at_least = max(0, (item.now - item.state.status_since).days)
    return f"at least {_days(at_least)}, waiting {_days(item.in_status.days)}"


def _change(event: Event | None, zone: tzinfo) -> str:
    if event is None:
        return "*Last change*: none yet"
    who = f"{mrkdwn(event.provider_name, 50)} for {mrkdwn(event.client_name, 50)}"
    if event.event in (EventKind.STATUS_CHANGED, EventKind.REAPPEARED):
        what = f"{mrkdwn(event.from_status, 40)} → {mrkdwn(event.to_status, 40)}"
    else:
        what = str(event.event).replace("_", " ")
    return f"*Last change*: {who}: {what} ({_when(event.observed_at, zone)})"


def _when(value: datetime, zone: tzinfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"
