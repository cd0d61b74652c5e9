"""SPEC 12: who took a registration is shown where people look: the web board (its stuck
cells), the timeline, the Slack board; and `POST /slack/events` is reached without WEB_AUTH
(Slack's signature is its authentication) while every page still asks for it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier

from app.db import acks
from app.db import engine as db
from app.db.board import BoardTable
from app.db.lookup import SlackReads
from app.db.webreads import WebReads
from app.notify.board_render import render_board
from app.notify.interact import Interactions
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.site import create_app
from app.web.slackevents import SlackEvents
from app.web.ui import WebUI
from tests.webseed import NOW, STUCK_AFTER, seed

BASIC = Access(mode="basic", username="ops", password="s3cret")
SECRET = "shown-signing-secret"


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(sqlite_url)
    db.migrate(engine)
    seed(engine)
    request = acks.Request(key=("alpha", 3000), by="Ana", note="calling Chase")
    assert acks.take(engine, request, NOW).outcome is acks.Outcome.RECORDED
    yield engine
    engine.dispose()


def test_the_board_and_the_timeline_show_who_took_it(engine: sa.Engine) -> None:
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), Access(mode="none"), clock=lambda: NOW)
    client = create_app(health, Metrics(health), ui).test_client()
    board = client.get("/").get_data(as_text=True)
    assert "taken by Ana: calling Chase" in board
    # In the needs-attention list, the grid and the list standing in for it on a phone.
    assert board.count("taken by") == 3
    timeline = client.get("/r/alpha/3000").get_data(as_text=True)
    assert "by Ana: calling Chase, until it moves" in timeline


def test_the_slack_board_shows_who_took_a_stuck_one(engine: sa.Engine) -> None:
    facts = BoardTable(engine).board_facts(NOW, STUCK_AFTER)
    rendered = render_board(facts, NOW.tzinfo)  # type: ignore[arg-type]
    stuck_section = json.dumps(rendered.blocks)
    assert "Chase for Alpha Lending" in stuck_section
    assert "taken by Ana" in stuck_section


def test_slack_events_need_no_web_auth_but_the_pages_still_do(engine: sa.Engine) -> None:
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), BASIC, clock=lambda: NOW)
    handler = Interactions(SlackReads(engine, STUCK_AFTER), respond=lambda _u, _b: None)
    slack = SlackEvents(handler, SignatureVerifier(SECRET))
    client = create_app(health, Metrics(health), ui, slack).test_client()
    body = urlencode({"command": "/flinkswatch", "text": "help"})
    stamp = str(int(time.time()))
    mac = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={mac}"}
    answer = client.post(
        "/slack/events", data=body, headers=headers,
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert answer.status_code == 200
    assert answer.get_json()["response_type"] == "ephemeral"
    assert client.get("/").status_code == 401
    assert client.post("/", data=body).status_code in (401, 405)


def test_the_slack_app_manifest_declares_what_the_service_answers() -> None:
    import yaml

    from app.config.settings import Settings

    path = Path(__file__).parents[2] / "deploy" / "slack-app-manifest.yaml"
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert {"chat:write", "commands"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == Settings.model_fields["slack_command"].default
    assert command["url"] == manifest["settings"]["interactivity"]["request_url"]
