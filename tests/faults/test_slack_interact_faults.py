"""SPEC 12 through real `flinkswatch run` processes: a stuck reminder reaches the fake Slack with
its buttons; a signed click on it is recorded once even when the process is killed between the
write and its answer (Slack sends the click again to the restarted service); Socket Mode answers
a slash command in the same process, which still stops within 5 s on SIGTERM; two PostgreSQL
replicas each taking the same click record one acknowledgement."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa

from app.db import engine as db
from app.db.tables import registration_events
from app.demo.simulator import FlinksSimulator
from tests.fakes.slack_server import FakeSlack, Received
from tests.fakes.smtp_server import free_port
from tests.fakes.socket_server import FakeSocketMode
from tests.faults.harness import Launcher, service_env, wait_until

pytestmark = pytest.mark.faults

SECRET = "e2e-signing-secret-0123456789abcdef"
ROW = {
    "client_id": "dc-stuck00001",
    "client_name": "Recipient 0001",
    "provider_id": 1001,
    "provider_name": "Bank 1001",
    "country": "CA",
    "registration_status": "PENDING_APPROVAL",
    "requested_on": "2026-01-01T00:00:00Z",
}


@pytest.fixture
def sim() -> Iterator[FlinksSimulator]:
    with FlinksSimulator("fault-client", "fault-secret-value", rows=[ROW]) as simulator:
        yield simulator


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def env_for(db_url: str, sim: FlinksSimulator, slack: FakeSlack, port: int) -> dict[str, str]:
    return service_env(
        db_url,
        sim.base_url,
        {
            "HTTP_PORT": str(port),
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_CHANNEL": "C0ALERTS01",
            "SLACK_API_URL": slack.api_url,
            "SLACK_SIGNING_SECRET": SECRET,
            "STUCK_AFTER": "PENDING_APPROVAL=2s",
            "STUCK_REPEAT": "1h",
        },
    )


def reminder(slack: FakeSlack) -> Received:
    """The stuck reminder, once it reached Slack."""
    wait_until(lambda: any(_actions(m) for m in slack.received), 60, "a reminder with buttons")
    return next(m for m in slack.received if _actions(m))


def _actions(message: Received) -> list[dict[str, Any]]:
    return [b for b in message.blocks if b.get("type") == "actions"]


def click_body(message: Received, slack: FakeSlack) -> str:
    [block] = _actions(message)
    ack = next(e for e in block["elements"] if e["action_id"] == "flinkswatch_ack")
    ts = next(ts for ts, _ in slack.posted.items())
    payload = {
        "type": "block_actions",
        "user": {"id": "U777", "username": "ana", "name": "ana"},
        "actions": [
            {
                "action_id": "flinkswatch_ack",
                "block_id": block["block_id"],
                "value": ack["value"],
                "action_ts": "1.2",
            }
        ],
        "container": {"type": "message", "channel_id": "C0ALERTS01", "message_ts": ts},
        "response_url": slack.response_url(),
        "message": {"text": message.text, "blocks": message.blocks},
    }
    return urlencode({"payload": json.dumps(payload)})


def post(port: int, body: str) -> httpx.Response:
    stamp = str(int(time.time()))
    mac = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={mac}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return httpx.post(f"http://127.0.0.1:{port}/slack/events", content=body, headers=headers)


def acks(db_url: str) -> list[str | None]:
    engine = db.make_engine(db_url)
    try:
        e = registration_events.c
        stmt = sa.select(e.by).where(e.event == "acknowledged")
        with engine.connect() as conn:
            return list(conn.execute(stmt).scalars())
    finally:
        engine.dispose()


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 600
    except httpx.HTTPError:
        return False


def test_a_click_killed_between_its_write_and_its_answer_is_recorded_once(
    db_url: str, sim: FlinksSimulator, slack: FakeSlack, launcher: Launcher
) -> None:
    port = free_port()
    env = env_for(db_url, sim, slack, port)
    proc = launcher.start(env)
    body = click_body(reminder(slack), slack)
    slack.drop_connection()  # the answer (the message update) is lost: killed before it
    assert post(port, body).status_code == 200
    wait_until(lambda: acks(db_url) == ["ana (U777)"], 10, "the click's write")
    proc.kill()

    again = launcher.start(env)  # Slack sends the click again, to the restarted service
    wait_until(lambda: ready(port), 30, "the restarted HTTP server")
    assert post(port, body).status_code == 200
    [update] = slack.wait_for_responses(1, timeout=10)
    assert "taken by ana (U777)" in json.dumps(update["blocks"])
    assert acks(db_url) == ["ana (U777)"]
    assert again.terminate() == 0


def test_socket_mode_in_run_answers_and_stops_within_five_seconds(
    sqlite_url: str, sim: FlinksSimulator, slack: FakeSlack, launcher: Launcher
) -> None:
    with FakeSocketMode() as socket:
        slack.socket_url = socket.url
        env = env_for(sqlite_url, sim, slack, free_port())
        env.pop("SLACK_SIGNING_SECRET")
        proc = launcher.start({**env, "SLACK_APP_TOKEN": slack.app_token})
        reminder(slack)  # buttons with Socket Mode alone
        socket.wait_connected(timeout=30)
        command = {"command": "/flinkswatch", "text": "bank 1001"}
        envelope = {"envelope_id": "s1", "type": "slash_commands", "payload": command}
        socket.send({**envelope, "accepts_response_payload": True})
        answer = socket.wait_ack("s1")
        assert "Bank 1001" in answer["payload"]["text"]
        started = time.monotonic()
        assert proc.terminate() == 0
        assert time.monotonic() - started < 5
        assert "Traceback" not in proc.text()


@pytest.mark.postgres
def test_two_replicas_taking_the_same_click_record_one_acknowledgement(
    pg_url: str, sim: FlinksSimulator, slack: FakeSlack, launcher: Launcher
) -> None:
    ports = [free_port(), free_port()]
    for port in ports:
        launcher.start(env_for(pg_url, sim, slack, port))
    body = click_body(reminder(slack), slack)
    wait_until(lambda: all(ready(p) for p in ports), 30, "both replicas' HTTP servers")
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda p=p: answers.append(post(p, body).status_code))
        for p in ports
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert answers == [200, 200]
    updates = slack.wait_for_responses(2)
    assert all("taken by ana (U777)" in json.dumps(u["blocks"]) for u in updates)
    assert acks(pg_url) == ["ana (U777)"]
