"""`POST /slack/events` on the `run` HTTP server (SPEC 12), with SLACK_SIGNING_SECRET: Slack's
interactivity payloads (a `payload` form field) and slash commands (form fields). Every request
is verified with the signing secret before its body is read as anything (timestamp within 5
minutes): else 401, nothing done, one WARNING that never shows the body. It needs no WEB_AUTH:
the signature is the authentication."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from flask import Flask, Response, request
from slack_sdk.signature import SignatureVerifier

from app.web.access import SLACK_EVENTS_PATH

if TYPE_CHECKING:
    from app.notify.interact import Interactions

log = logging.getLogger("app.slack")

MAX_BODY = 64 * 1024  # Slack's payloads are a few kB; a larger body is refused (413)


@dataclass(frozen=True)
class SlackEvents:
    handler: Interactions
    verifier: SignatureVerifier


def add_slack_events(app: Flask, events: SlackEvents) -> None:
    @app.post(SLACK_EVENTS_PATH)
    def slack_events() -> Response:
        request.max_content_length = MAX_BODY
        body = request.get_data(cache=False)
        if not events.verifier.is_valid_request(body, dict(request.headers)):
            retry = request.headers.get("X-Slack-Retry-Num", "0")
            log.warning("slack.refused reason=signature bytes=%d retry=%s", len(body), retry[:4])
            return Response("invalid or missing Slack signature\n", 401, content_type="text/plain")
        return _handle(events.handler, body)


def _handle(handler: Interactions, body: bytes) -> Response:
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), max_num_fields=50).items()}
        if "ssl_check" in form:  # Slack checking the certificate of the slash command's URL
            return Response("", 200)
        if "payload" in form:
            payload = json.loads(form["payload"])
            if not isinstance(payload, dict):
                raise TypeError("payload is not an object")
            handler.interactive(payload)
            return Response("", 200)
        if "command" in form:
            answer = handler.slash(form)
            return Response(json.dumps(answer), 200, content_type="application/json")
    except (ValueError, TypeError) as exc:
        log.warning("slack.unreadable error=%s", type(exc).__name__)
    return Response("not a Slack interaction\n", 400, content_type="text/plain")
