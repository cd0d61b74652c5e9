"""PURE: the Slack buttons of SPEC 12 and what a click changes in the message. Every alert about
a registration (not its removal, nor an acknowledgement) gets "Acknowledge" and "Snooze 7 days"
when Slack interactivity is configured; each button's value names the registration and the
status and time the alert showed it in, so a click on one that moved since is refused."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from app.domain import BaselineSummary, Event, EventKind, Key
from app.notify.phrases import SlackMessage
from app.notify.render import slack_messages

ACK = "flinkswatch_ack"
SNOOZE = "flinkswatch_snooze"
ACTIONS = (ACK, SNOOZE)
BLOCK_PREFIX = "flinkswatch_actions"
PER_MESSAGE = 20  # alerts per message with buttons: a section and an actions block each (<= 50)
_WITHOUT = frozenset({EventKind.REMOVED, EventKind.ACKNOWLEDGED, EventKind.BASELINE})


@dataclass(frozen=True, slots=True)
class Target:
    """What a button is about: the registration, in `status` as seen at `seen_at`."""

    key: Key
    status: str
    seen_at: datetime


def value(event: Event) -> str:
    """The button's value (Slack allows 2,000 characters; this is well under)."""
    return json.dumps(
        {
            "c": event.client_id,
            "p": event.provider_id,
            "s": event.to_status or "",
            "t": event.observed_at.isoformat(),
        },
        separators=(",", ":"),
    )


def target(text: str) -> Target | None:
    """A button's value read back; None when it is not one of ours."""
    try:
        data = json.loads(text)
        return Target(
            (str(data["c"]), int(data["p"])), str(data["s"]), datetime.fromisoformat(data["t"])
        )
    except (ValueError, TypeError, KeyError):
        return None


def actions_block(event: Event, index: int) -> dict[str, Any]:
    text = value(event)
    return {
        "type": "actions",
        "block_id": f"{BLOCK_PREFIX}_{index}",
        "elements": [
            _button(ACK, "Acknowledge", text, primary=True),
            _button(SNOOZE, "Snooze 7 days", text),
        ],
    }


def _button(action_id: str, label: str, text: str, *, primary: bool = False) -> dict[str, Any]:
    button = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": text,
    }
    return {**button, "style": "primary"} if primary else button


def slack_alerts(
    events: Sequence[Event], summary: BaselineSummary | None, buttons: bool, threaded: bool = False
) -> list[SlackMessage]:
    """The rendered messages; with `buttons`, each alert about a registration carries them."""
    if not buttons:
        return slack_messages(events, summary, threaded=threaded)
    messages = slack_messages(events, summary, threaded=threaded, per_message=PER_MESSAGE)
    return with_buttons(messages, events)


def with_buttons(messages: Sequence[SlackMessage], events: Sequence[Event]) -> list[SlackMessage]:
    """Each alert's section followed by its buttons (the sections are the last blocks of a
    message carrying alerts, in the order of its event_indexes)."""
    out = []
    for message in messages:
        count = len(message.event_indexes)
        if not count or message.summary:
            out.append(message)
            continue
        blocks = list(message.blocks[:-count])
        for index, section in zip(message.event_indexes, message.blocks[-count:], strict=True):
            blocks.append(section)
            if events[index].event not in _WITHOUT:
                blocks.append(actions_block(events[index], index))
        out.append(replace(message, blocks=blocks))
    return out


def taken_blocks(
    blocks: Sequence[Mapping[str, Any]], block_id: str, line: str
) -> list[dict[str, Any]]:
    """The message's blocks once a registration was taken: its buttons give way to `line`."""
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": line}]}
    return [
        note if block.get("block_id") == block_id else dict(block)
        for block in blocks
        if block.get("block_id") != block_id or line
    ]
