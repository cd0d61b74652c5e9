"""PURE: the Slack board (SPEC 10) rendered from plain values: counts by status, what is stuck
(longest first, capped), the last change and the last successful poll, in ALERT_TIMEZONE.

Upstream text is escaped (phrases.mrkdwn) and capped, and the stuck list stops at STUCK_SHOWN
lines, so the message stays far inside Slack's limits (50 blocks, 3,000 per section). The
digest covers everything but the last poll's time: a quiet cycle changes nothing to edit."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from app.core.report import Stuck
from app.domain import Event, EventKind, Key
from app.notify.phrases import mrkdwn

STUCK_SHOWN = 15
STATUSES_SHOWN = 25  # undocumented statuses could be many: the section stays < 3,000
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


@dataclass(frozen=True, slots=True)
class Board:
    text: str  # the fallback (notifications, screen readers)
    blocks: list[dict[str, Any]]
    digest: str  # SHA-256 of the content, the last poll's time left out


def render_board(facts: BoardFacts, zone: tzinfo) -> Board:
    present = sum(n for _status, n in facts.counts)
    text = f"{TITLE}: {present} registrations, {len(facts.stuck)} stuck"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": TITLE}},
        _section(_counts(facts.counts, present)),
        _section(_stuck(facts.stuck, dict(facts.taken))),
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


def _stuck(stuck: tuple[Stuck, ...], taken: dict[Key, str]) -> str:
    if not stuck:
        return "*Stuck*: none"
    lines = [f"*Stuck* ({len(stuck)}, longest first)"]
    for item in stuck[:STUCK_SHOWN]:
        reg = item.state.registration
        lines.append(
            f"• {mrkdwn(reg.provider_name, 50)} for {mrkdwn(reg.client_name, 50)}:"
            f" {mrkdwn(reg.registration_status, 40)} for {_stay(item)}"
            f" (allowed {_days(item.allowed.days)})"
            + (f", taken by {mrkdwn(taken[item.state.key], 60)}" if item.state.key in taken else "")
        )
    if len(stuck) > STUCK_SHOWN:
        lines.append(f"… and {len(stuck) - STUCK_SHOWN} more")
    return "\n".join(lines)


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
