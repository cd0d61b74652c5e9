"""Slack interactivity (SPEC 12), one handler for both transports (HTTP in app/web/slackevents.py,
Socket Mode in app/notify/socketmode.py): a button click records an acknowledgement as that
Slack user, once, then updates the message through its response_url; a slash command is
answered at once, ephemerally. The transport acknowledges Slack; this never raises for input."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from app.core.ack import SNOOZE as SNOOZE_FOR
from app.core.ack import Acknowledgement, Outcome, Request, Taken
from app.core.expect import Outlook, late_thresholds
from app.domain import Key, StoredRegistration
from app.notify import buttons, slash
from app.notify.phrases import mrkdwn

log = logging.getLogger("app.slack")


class InteractionStore(Protocol):
    def take(self, request: Request, now: datetime) -> Taken: ...
    def acknowledgements(self, keys: Collection[Key]) -> dict[Key, Acknowledgement]: ...
    def stuck(
        self, now: datetime, limit: int, late: Mapping[int, timedelta]
    ) -> tuple[list[StoredRegistration], int]: ...
    def search(self, text: str, limit: int) -> tuple[list[StoredRegistration], int]: ...
    def outlooks(self, now: datetime) -> Mapping[int, Outlook]: ...


Respond = Callable[[str, dict[str, Any]], None]  # POST a body to a response_url


@dataclass
class Interactions:
    store: InteractionStore
    respond: Respond
    command: str = "/flinkswatch"
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    background: bool = True  # answer Slack first, update the message from another thread

    def interactive(self, payload: Mapping[str, Any]) -> None:
        """A `block_actions` payload: record the click, then update its message."""
        if payload.get("type") != "block_actions":
            return
        for action in payload.get("actions") or ():
            if action.get("action_id") in buttons.ACTIONS:
                self._click(payload, action)

    def slash(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """A slash command's form fields: the ephemeral answer."""
        text = " ".join(str(form.get("text") or "").split())
        now = self.clock()
        if text.lower() in ("", "help"):
            return slash.ephemeral(slash.help_text(self.command))
        expected = self.store.outlooks(now)  # SPEC 11: who is late, when each is expected
        if text.lower() == "stuck":
            late = late_thresholds(expected)
            found, total = self.store.stuck(now, slash.MAX_LINES, late)
            title = "Stuck or late now, longest waiting first"
        else:
            found, total = self.store.search(text[:100], slash.MAX_LINES)
            title = f"Registrations matching {mrkdwn(text, 100)!r}"
        taken = self.store.acknowledgements([s.key for s in found])
        log.info("slack.command found=%d", total)
        return slash.ephemeral(slash.listing(title, found, total, taken, now, expected))

    def _click(self, payload: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        target = buttons.target(str(action.get("value") or ""))
        url = str(payload.get("response_url") or "")
        if target is None:
            return
        user = payload.get("user") or {}
        name = user.get("name") or user.get("username") or "someone"
        now = self.clock()
        request = Request(
            key=target.key,
            by=f"{name} ({user.get('id', '?')})",
            until=now + SNOOZE_FOR if action.get("action_id") == buttons.SNOOZE else None,
            action_key=_identity(payload, action, target.key),
            seen=(target.status, target.seen_at),
        )
        taken = self.store.take(request, now)
        log.info("slack.click outcome=%s action=%s", taken.outcome, action.get("action_id"))
        body = _answer(taken, payload, str(action.get("block_id") or ""))
        if url:
            self._send(url, body)

    def _send(self, url: str, body: dict[str, Any]) -> None:
        if not self.background:
            self._post(url, body)
            return
        # A daemon: a stop never waits on Slack (the click is recorded; a retry updates it).
        answer = threading.Thread(target=self._post, args=(url, body), name="slack-answer")
        answer.daemon = True
        answer.start()

    def _post(self, url: str, body: dict[str, Any]) -> None:
        try:
            self.respond(url, body)
        except Exception as exc:  # noqa: BLE001 - the click is recorded; say why it shows not
            log.warning("slack.respond_failed error=%s", type(exc).__name__)


def _identity(payload: Mapping[str, Any], action: Mapping[str, Any], key: Key) -> str:
    """One acknowledgement per alert message and registration: Slack's retries of a click, and
    a second click on the same buttons (on any replica) find it taken."""
    box = payload.get("container") or {}
    channel = box.get("channel_id") or (payload.get("channel") or {}).get("id") or ""
    ts = box.get("message_ts") or action.get("action_ts") or ""
    return f"slack:{channel}:{ts}:{key[0]}:{key[1]}"[:255]


def _answer(taken: Taken, payload: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    if taken.outcome is Outcome.UNKNOWN:
        return slash.ephemeral("flinkswatch does not know this registration: nothing recorded.")
    if taken.outcome is Outcome.MOVED:
        state = taken.state
        now = state.registration.registration_status if state and state.present else "removed"
        text = f"This registration has moved since this alert (now {now}): nothing recorded."
        return slash.ephemeral(text)
    ack = taken.acknowledgement
    line = f":raising_hand: {slash.taken_line(ack)}" if ack else ""
    message = payload.get("message") or {}
    blocks = buttons.taken_blocks(message.get("blocks") or [], block_id, line)
    return {"replace_original": True, "text": message.get("text") or line, "blocks": blocks}


def post_response(url: str, body: dict[str, Any], timeout: float) -> None:
    """POST an answer to a click's response_url (from a request Slack signed, or sent over the
    Socket Mode connection: Slack's own URL), a message update or an ephemeral."""
    from slack_sdk.webhook import WebhookClient

    quiet = logging.getLogger("flinkswatch.slack_response")
    quiet.setLevel(logging.CRITICAL)  # slack-sdk would log the URL in some errors
    client = WebhookClient(url, timeout=max(1, round(timeout)), retry_handlers=[], logger=quiet)
    response = client.send_dict(body)
    if response.status_code >= 300:
        raise RuntimeError(f"response_url answered HTTP {response.status_code}")
