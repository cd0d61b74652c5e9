"""PURE: what Slack interactivity says (SPEC 12): the slash command's ephemeral answers (at most
20 registrations, then the count) and the line a click leaves in its message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from app.core.ack import Acknowledgement, holds
from app.core.expect import Outlook, expect
from app.domain import ACTIVE, Key, Registration, StoredRegistration
from app.notify.phrases import mrkdwn as mrkdwn_escape

MAX_LINES = 20


def help_text(command: str) -> str:
    return "\n".join(
        (
            f"`{command} stuck`: what is stuck, longest waiting first",
            f"`{command} TEXT`: registrations whose provider, recipient or client_id contains TEXT",
            f"`{command} help`: this help",
            "Buttons on alerts: *Acknowledge* (no reminder until it moves) or *Snooze 7 days*.",
        )
    )


def listing(
    title: str,
    found: Sequence[StoredRegistration],
    total: int,
    taken: Mapping[Key, Acknowledgement],
    now: datetime,
    expected: Mapping[int, Outlook] | None = None,
) -> str:
    """The answer: a title, one line per registration (status, waiting, its expectation, who
    took it)."""
    if not total:
        return f"{title}: none"
    lines = [f"{title}: {total}"]
    for state in found[:MAX_LINES]:
        lines.append(_line(state, taken.get(state.key), now, (expected or {})))
    if total > MAX_LINES:
        lines.append(f"… and {total - MAX_LINES} more (`flinkswatch status` lists them all)")
    return "\n".join(lines)


def _line(
    state: StoredRegistration,
    ack: Acknowledgement | None,
    now: datetime,
    expected: Mapping[int, Outlook],
) -> str:
    reg = state.registration
    who = (
        f"*{mrkdwn_escape(reg.provider_name, 80)}* for *{mrkdwn_escape(reg.client_name, 80)}*"
        f" ({mrkdwn_escape(reg.client_id, 128)}, provider {reg.provider_id})"
    )
    status = f"`{mrkdwn_escape(reg.registration_status, 64)}`"
    line = f"• {who}: {status}"
    if reg.registration_status != ACTIVE:
        line += f", waiting {_days(max(now - reg.requested_on, timedelta(0)))}"
        line += _expectation(expected.get(reg.provider_id), reg, now)
    if holds(ack, state.status_since, state.present, now) and ack is not None:
        line += f", {taken_line(ack)}"
    return line


def _expectation(outlook: Outlook | None, reg: Registration, now: datetime) -> str:
    """ ", expected by 2026-12-08", ", late (...)" or ", not enough history" (SPEC 11)."""
    seen = expect(outlook, reg.requested_on, reg.registration_status, now)
    if not seen.enough:
        return ", not enough history"
    if seen.late and outlook is not None:
        return f", late: {mrkdwn_escape(outlook.reason, 300)}"
    if seen.expected_active_by is not None:
        return f", expected by {seen.expected_active_by:%Y-%m-%d}"
    return ""


def taken_line(ack: Acknowledgement) -> str:
    """ "taken by Ana (U1): calling the bank, until 2026-12-12 10:00 UTC"."""
    text = f"taken by {mrkdwn_escape(ack.by, 200)}"
    if ack.note:
        text += f": {mrkdwn_escape(ack.note, 500)}"
    until = f"{ack.until:%Y-%m-%d %H:%M} UTC" if ack.until else "it moves"
    return f"{text}, until {until}"


def ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def _days(delta: Any) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 3600:
        return f"{seconds // 3600} hours"
    return f"{seconds // 60} minutes"
