"""SPEC 12 Slack interactivity against real servers on 127.0.0.1, on a real database of each
backend: signed HTTP posts to `POST /slack/events` (the signature computed here with hmac, not
with the product's code), a fake Slack Web API for apps.connections.open and the clicks'
response_urls, and a fake Socket Mode server. A click records once and updates its message;
a bad or missing signature changes nothing; a slash command answers ephemerally."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier

from app.config.settings import load_settings
from app.db import queries
from app.db.lookup import SlackReads
from app.db.outbox import Outbox
from app.db.store import Store
from app.errors import ConfigError
from app.notify import buttons
from app.notify.interact import Interactions, post_response
from app.notify.socketmode import SocketMode
from app.watch.poll import Poller
from app.web.health import Health, Metrics
from app.web.server import HttpServer, serve
from app.web.slackevents import SlackEvents
from app.wiring.interact import check_interactivity
from tests.builders import FakeClock
from tests.fakes.slack_server import FakeSlack
from tests.fakes.socket_server import FakeSocketMode
from tests.integration.test_poll import T0, FakeChannel, FakeSource, row

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
LIMITS = {"PENDING_APPROVAL": T0 - T0}  # stuck at once: the slash command's `stuck` lists it


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def seeded(engine: sa.Engine) -> sa.Engine:
    """Two registrations recorded by a real cycle: a/1 PENDING_APPROVAL, b/2 ACTIVE."""
    source = FakeSource([row("a", 1), row("b", 2, "ACTIVE")])
    Poller(source=source, store=Store(engine), outbox=Outbox(engine), channels=[FakeChannel()],
           clock=FakeClock(T0), sleep=lambda _s: None).poll_once()  # fmt: skip
    return engine


def handler(engine: sa.Engine, slack: FakeSlack) -> Interactions:
    return Interactions(
        store=SlackReads(engine, {"PENDING_APPROVAL": LIMITS["PENDING_APPROVAL"]}),
        respond=lambda url, body: post_response(url, body, 5),
    )


@pytest.fixture
def server(seeded: sa.Engine, slack: FakeSlack) -> Iterator[HttpServer]:
    yield from _server(seeded, slack)


def _server(engine: sa.Engine, slack: FakeSlack) -> Iterator[HttpServer]:
    health = Health(interval=60)
    events = SlackEvents(handler(engine, slack), SignatureVerifier(SECRET))
    httpd = serve("127.0.0.1", 0, health, Metrics(health), None, events)
    try:
        yield httpd
    finally:
        httpd.shutdown()


def click_payload(
    slack: FakeSlack, action: str = buttons.ACK, ts: str = "111.222"
) -> dict[str, Any]:
    alert = row("a", 1)
    value = json.dumps({"c": "a", "p": 1, "s": alert["registration_status"],
                        "t": T0.isoformat()}, separators=(",", ":"))  # fmt: skip
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "stuck: Bank 1"}}
    actions = {"type": "actions", "block_id": "flinkswatch_actions_0", "elements": []}
    return {
        "type": "block_actions",
        "user": {"id": "U123", "username": "ana", "name": "ana"},
        "actions": [
            {
                "action_id": action,
                "block_id": "flinkswatch_actions_0",
                "value": value,
                "action_ts": "999.1",
            }
        ],
        "container": {"type": "message", "channel_id": "C1", "message_ts": ts},
        "response_url": slack.response_url(),
        "message": {"text": "stuck: Bank 1", "blocks": [section, actions]},
    }


def signed(body: str, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    stamp = str(int(at if at is not None else time.time()))
    mac = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={mac}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def post(server: HttpServer, body: str, headers: dict[str, str]) -> httpx.Response:
    port = server.server_address[1]
    return httpx.post(f"http://127.0.0.1:{port}/slack/events", content=body, headers=headers)


def acks_of(engine: sa.Engine) -> list[dict[str, object]]:
    return queries.history(engine, queries.Filters(event="acknowledged"))


def test_a_signed_click_records_once_and_updates_the_message(
    server: HttpServer, seeded: sa.Engine, slack: FakeSlack
) -> None:
    body = urlencode({"payload": json.dumps(click_payload(slack))})
    started = time.monotonic()
    answer = post(server, body, signed(body))
    assert answer.status_code == 200
    assert time.monotonic() - started < 3
    [update] = slack.wait_for_responses(1)
    assert update["replace_original"] is True
    texts = json.dumps(update["blocks"])
    assert "taken by ana (U123)" in texts
    assert "flinkswatch_actions_0" not in texts  # the buttons gave way to who took it
    retry = post(server, body, {**signed(body), "X-Slack-Retry-Num": "1"})
    assert retry.status_code == 200
    slack.wait_for_responses(2)
    [event] = acks_of(seeded)
    assert (event["by"], event["until"]) == ("ana (U123)", None)


def test_snooze_records_seven_days(server: HttpServer, seeded: sa.Engine, slack: FakeSlack) -> None:
    body = urlencode({"payload": json.dumps(click_payload(slack, buttons.SNOOZE))})
    before = datetime.now(UTC)
    assert post(server, body, signed(body)).status_code == 200
    slack.wait_for_responses(1)
    [event] = acks_of(seeded)
    until = event["until"]
    assert isinstance(until, datetime)
    assert 7 * 86400 - 5 < (until - before).total_seconds() < 7 * 86400 + 60


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: signed(body, secret="wrong-secret"), id="wrong secret"),
        pytest.param(lambda body: signed(body, at=time.time() - 301), id="older than 5 min"),
        pytest.param(
            lambda body: {"Content-Type": "application/x-www-form-urlencoded"}, id="no signature"
        ),
    ],
)
def test_a_bad_signature_is_401_and_changes_nothing(
    server: HttpServer,
    seeded: sa.Engine,
    slack: FakeSlack,
    headers: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = urlencode({"payload": json.dumps(click_payload(slack))})
    with caplog.at_level(logging.WARNING, logger="app.slack"):
        answer = post(server, body, headers(body))
    assert answer.status_code == 401
    assert acks_of(seeded) == []
    assert slack.responses == []
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "U123" not in warning.getMessage()
    assert "payload" not in warning.getMessage()


def test_a_click_on_a_registration_that_moved_says_so_and_records_nothing(
    server: HttpServer, seeded: sa.Engine, slack: FakeSlack
) -> None:
    with seeded.begin() as conn:  # it moved after the alert
        conn.execute(sa.text("UPDATE registrations SET registration_status = 'ACTIVE'"
                             " WHERE client_id = 'a'"))  # fmt: skip
    body = urlencode({"payload": json.dumps(click_payload(slack))})
    assert post(server, body, signed(body)).status_code == 200
    [answer] = slack.wait_for_responses(1)
    assert answer["response_type"] == "ephemeral"
    assert "moved since" in answer["text"]
    assert "ACTIVE" in answer["text"]
    assert acks_of(seeded) == []


def test_slash_commands_answer_ephemerally(server: HttpServer, slack: FakeSlack) -> None:
    def ask(text: str) -> dict[str, Any]:
        body = urlencode({"command": "/flinkswatch", "text": text, "user_id": "U1",
                          "response_url": slack.response_url()})  # fmt: skip
        answer = post(server, body, signed(body))
        assert answer.status_code == 200
        result: dict[str, Any] = answer.json()
        assert result["response_type"] == "ephemeral"
        return result

    assert "/flinkswatch stuck" in ask("help")["text"]
    stuck = ask("stuck")["text"]
    assert "Bank 1" in stuck
    assert "Bank 2" not in stuck
    assert "waiting" in stuck
    assert "not enough history" in stuck  # too few activations for an expected date
    found = ask("BANK 2")["text"]  # case-insensitive, on the provider name
    assert "Bank 2" in found
    assert "`ACTIVE`" in found
    assert ask("%")["text"].endswith(": none")  # a LIKE wildcard is only text
    ssl_check = urlencode({"ssl_check": "1"})
    assert post(server, ssl_check, signed(ssl_check)).status_code == 200
    garbage = "payload=%7Bnot-json"
    assert post(server, garbage, signed(garbage)).status_code == 400


def test_socket_mode_acknowledges_each_envelope_and_records_the_click(
    seeded: sa.Engine, slack: FakeSlack
) -> None:
    with FakeSocketMode() as socket:
        slack.socket_url = socket.url
        mode = SocketMode(slack.app_token, slack.api_url, handler(seeded, slack))
        mode.start()
        try:
            socket.wait_connected()
            socket.send({"envelope_id": "e1", "type": "interactive", "accepts_response_payload":
                         False, "payload": click_payload(slack)})  # fmt: skip
            socket.send({"envelope_id": "e2", "type": "slash_commands",
                         "accepts_response_payload": True,
                         "payload": {"command": "/flinkswatch", "text": "stuck"}})  # fmt: skip
            assert socket.wait_ack("e1")["envelope_id"] == "e1"
            slash = socket.wait_ack("e2")
            assert slash["payload"]["response_type"] == "ephemeral"
            assert "Bank 1" in slash["payload"]["text"]
            [update] = slack.wait_for_responses(1)
            assert "taken by ana" in json.dumps(update["blocks"])
            socket.drop()  # it reconnects through apps.connections.open
            socket.wait_connected(2)
        finally:
            started = time.monotonic()
            mode.stop()
            assert time.monotonic() - started < 5
    assert [e["by"] for e in acks_of(seeded)] == ["ana (U123)"]


def test_check_names_the_endpoint_and_reaches_slack_with_the_app_token(
    slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    base = {"slack_api_url": slack.api_url, "http_port": 8080}
    both = load_settings(**base, slack_signing_secret=SECRET, slack_app_token=slack.app_token)
    said = check_interactivity(both)
    assert "/slack/events on port 8080" in said
    assert "Socket Mode" in said
    assert any(path.endswith("apps.connections.open") for path in slack.requests)
    with pytest.raises(ConfigError, match="invalid_auth"):
        check_interactivity(load_settings(**base, slack_app_token="xapp-wrong"))
    with pytest.raises(ConfigError, match="HTTP_PORT"):
        check_interactivity(load_settings(**{**base, "http_port": 0}, slack_signing_secret="s"))


def test_stuck_lists_the_late_ones_too_and_counts_from_the_request(seeded: sa.Engine) -> None:
    """`/flinkswatch stuck` is "stuck or late" (SPEC 11, 12): a/1 was requested on Oct 1 and
    first seen in PENDING_APPROVAL on Nov 2, so its stay began at its request (exact)."""
    day = timedelta(days=1)
    quiet = SlackReads(seeded, {})  # no STUCK_AFTER: only lateness can list it
    assert quiet.stuck(T0, 20, {}) == ([], 0)
    found, total = quiet.stuck(T0, 20, {1: 31 * day})  # 32 days waited, late past 31
    assert ([s.key for s in found], total) == ([("a", 1)], 1)
    assert quiet.stuck(T0, 20, {1: 33 * day}) == ([], 0)  # not late yet
    assert quiet.stuck(T0, 20, {2: day}) == ([], 0)  # b/2 is ACTIVE: never late
    # STUCK_AFTER 30 days counts from the request, not from the first sighting on Nov 2.
    found, total = SlackReads(seeded, {"PENDING_APPROVAL": 30 * day}).stuck(T0, 20, {})
    assert ([s.key for s in found], total) == ([("a", 1)], 1)
