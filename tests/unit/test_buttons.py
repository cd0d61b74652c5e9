"""The Slack buttons of SPEC 12 (app.notify.buttons): on every alert about a registration but
its removal, only when interactivity is configured, within Slack's 50 blocks; a button's value
names the registration and the status and time the alert showed; a click's update replaces the
buttons with who took it."""

from __future__ import annotations

import json

from app.domain import EventKind
from app.notify import buttons
from tests.builders import event


def actions(message_blocks: list[dict[str, object]]) -> list[dict[str, object]]:
    return [b for b in message_blocks if b["type"] == "actions"]


def test_no_buttons_unless_a_transport_is_configured() -> None:
    events = [event(EventKind.STUCK, client_id="a"), event(EventKind.ADDED, client_id="b")]
    for message in buttons.slack_alerts(events, None, buttons=False):
        assert actions(message.blocks) == []


def test_each_alert_but_a_removal_carries_ack_and_snooze() -> None:
    kinds = [EventKind.STUCK, EventKind.STATUS_CHANGED, EventKind.REMOVED, EventKind.ADDED]
    events = [event(kind, client_id=f"c{i}") for i, kind in enumerate(kinds)]
    [message] = buttons.slack_alerts(events, None, buttons=True)
    found = actions(message.blocks)
    assert len(found) == 3
    for block in found:
        ids = [e["action_id"] for e in block["elements"]]  # type: ignore[index]
        assert ids == ["flinkswatch_ack", "flinkswatch_snooze"]
    # each actions block follows the section of its alert, removal without one
    kinds_after = [b["type"] for b in message.blocks[-7:]]
    assert kinds_after == ["section", "actions", "section", "actions", "section", "section",
                           "actions"]  # fmt: skip


def test_a_button_value_names_the_registration_and_what_the_alert_showed() -> None:
    alert = event(EventKind.STUCK, client_id="dc-1", provider_id=7, to_status="PENDING_APPROVAL")
    target = buttons.target(buttons.value(alert))
    assert target == buttons.Target(("dc-1", 7), "PENDING_APPROVAL", alert.observed_at)
    assert len(buttons.value(alert)) < 2000
    assert buttons.target("not json") is None
    assert buttons.target(json.dumps({"c": "x"})) is None


def test_forty_alerts_with_buttons_stay_within_fifty_blocks_a_message() -> None:
    events = [event(EventKind.STUCK, client_id=f"c{i}") for i in range(40)]
    messages = buttons.slack_alerts(events, None, buttons=True)
    assert len(messages) == 2
    assert all(len(m.blocks) <= 50 for m in messages)
    assert sum(len(actions(m.blocks)) for m in messages) == 40


def test_the_update_replaces_the_clicked_buttons_with_who_took_it() -> None:
    blocks = [{"type": "section", "block_id": "s"}, {"type": "actions", "block_id": "x_1"},
              {"type": "actions", "block_id": "x_2"}]  # fmt: skip
    updated = buttons.taken_blocks(blocks, "x_1", "taken by ana")
    assert [b["type"] for b in updated] == ["section", "context", "actions"]
    assert updated[1]["elements"][0]["text"] == "taken by ana"
