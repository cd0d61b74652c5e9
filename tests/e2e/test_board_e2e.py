"""The Slack board (SPEC 10) with the installed `flinkswatch poll`: each run is a new process,
so the board posted by the first is edited in place (the same ts) by the next ones, only when
what it shows changed; routed channels get none; SLACK_BOARD without the bot is exit 2."""

from __future__ import annotations

import pytest
from conftest import World, with_channels
from fakes.slack_server import FakeSlack
from fakes.smtp_server import FakeSMTP

from app.demo.simulator import FlinksSimulator

pytestmark = pytest.mark.e2e

BOARD = "Flinks registrations board"


def move(flinks: FlinksSimulator, provider_id: int, status: str) -> None:
    rows = flinks.rows
    for row in rows:
        if row["provider_id"] == provider_id:
            row["registration_status"] = status
    flinks.set_rows(rows)


def test_poll_posts_the_board_once_then_edits_it_across_processes(
    world: World, flinks: FlinksSimulator, slack: FakeSlack, smtp: FakeSMTP
) -> None:
    with_channels(world, slack, smtp)
    world.env.update({"SLACK_BOARD": "true", "SLACK_ROUTES": "provider=2000:#nbc"})
    assert world.run("poll").returncode == 0
    boards = [m for m in slack.wait_for(3) if m.text.startswith(BOARD)]
    assert [m.channel for m in boards] == ["C0REGISTRATIONS"]  # none in the routed #nbc
    [(pinned_in, ts)] = slack.pins  # the board, pinned where it was posted
    assert pinned_in == "C0REGISTRATIONS"

    assert world.run("poll").returncode == 0  # nothing changed: the board is left alone
    assert slack.updates == []
    move(flinks, 2000, "ACTIVE")
    assert world.run("poll").returncode == 0
    assert [u.payload["ts"] for u in slack.updates] == [ts]
    assert "ACTIVE" in str(slack.updates[0].blocks)
    assert sum(m.text.startswith(BOARD) for m in slack.received) == 1


def test_slack_board_without_the_bot_stops_at_start(sqlite_world: World) -> None:
    result = sqlite_world.run("poll", SLACK_BOARD="true")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if "SLACK_BOARD" in line]
    assert len(lines) == 1
    assert "SLACK_BOT_TOKEN and SLACK_CHANNEL" in lines[0]
